"""Librarians see the mail that could not be sent, and can have it tried again."""

from library_common.api import Blueprint
from library_common.clock import now
from library_common.pagination import PageArgs, offset

from .. import delivery
from ..schemas import SentNoticeSchema

blp = Blueprint("notices", __name__, description="Mail that could not be sent (librarians)")


@blp.route("/notices/failed")
@blp.librarian_required
@blp.paginated(PageArgs, SentNoticeSchema)
def failed(args):
    """Notices whose mail failed MAIL_MAX_ATTEMPTS times, newest first, with the last error"""
    return delivery.failed_notices(offset(args), args["per_page"])


@blp.route("/notices/<id:notice_id>/retry", methods=["POST"])
@blp.librarian_required
@blp.response(200, SentNoticeSchema)
@blp.errors(404)
def retry(notice_id):
    """Try a failed notice's mail again, from its first attempt"""
    return delivery.send_again(notice_id, now())
