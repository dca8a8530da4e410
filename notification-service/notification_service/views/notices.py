"""Librarians see the mail that could not be sent, and can have it tried again."""

from library_common.api import Blueprint
from library_common.clock import now
from library_common.pagination import PAGE_HEADERS_DOC, PageArgs, offset, page_headers

from .. import delivery
from ..schemas import SentNoticeSchema

blp = Blueprint("notices", __name__, description="Mail that could not be sent (librarians)")


@blp.route("/notices/failed")
@blp.librarian_required
@blp.arguments(PageArgs, location="query")
@blp.response(200, SentNoticeSchema(many=True), headers=PAGE_HEADERS_DOC)
@blp.errors(400, 401, 403)
def failed(args):
    """Notices whose mail failed MAIL_MAX_ATTEMPTS times, newest first, with the last error"""
    found, total = delivery.failed_notices(offset(args), args["per_page"])
    return found, 200, page_headers(total, args["page"], args["per_page"])


@blp.route("/notices/<id:notice_id>/retry", methods=["POST"])
@blp.librarian_required
@blp.response(200, SentNoticeSchema)
@blp.errors(401, 403, 404)
def retry(notice_id):
    """Try a failed notice's mail again, from its first attempt"""
    return delivery.send_again(notice_id, now())
