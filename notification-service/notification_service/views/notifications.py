"""A patron's notices in the app: newest first (unread first), read one, read them all."""

from library_common.api import Blueprint
from library_common.auth import current_principal
from library_common.clock import now
from library_common.pagination import offset

from .. import notices
from ..schemas import InboxArgs, MarkedSchema, NoticeSchema, UnreadSchema

blp = Blueprint("notifications", __name__, description="Your notices in the app")


@blp.route("/notifications")
@blp.login_required
@blp.paginated(InboxArgs, NoticeSchema)
def inbox(args):
    """Your notices: unread ones first, then newest first (`unread=true`: unread ones only)"""
    return notices.inbox(current_principal().username, args["unread"], offset(args), args["per_page"])


@blp.route("/notifications/unread-count")
@blp.login_required
@blp.response(200, UnreadSchema)
def unread():
    """How many of your notices are unread (the count in the site's header)"""
    return {"unread": notices.unread_count(current_principal().username)}


@blp.route("/notifications/<id:notice_id>/read", methods=["POST"])
@blp.login_required
@blp.response(200, NoticeSchema)
@blp.errors(404)
def mark_read(notice_id):
    """Mark one of your notices as read"""
    return notices.mark_read(current_principal(), notice_id, now())


@blp.route("/notifications/read", methods=["POST"])
@blp.login_required
@blp.response(200, MarkedSchema)
def mark_all_read():
    """Mark all your notices as read"""
    return {"marked": notices.mark_all_read(current_principal().username, now())}
