"""Notifications: what the library told the reader (unread first), marking them read, the count in the
header, and how the reader wants to hear of each kind of thing."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..errors import is_htmx
from .common import attempt, backend, page_number

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
PER_PAGE = 20
CHANNELS = {"both": "E-mail and here", "email": "E-mail only", "in_app": "Here only"}


@bp.get("")
@login_required
def inbox():
    notices, problem = attempt(lambda: backend().notifications(current_user.token, page=page_number(),
                                                               per_page=PER_PAGE), "The notification service")
    return render_template("notifications.html", notices=notices, problem=problem)


@bp.get("/badge")
@login_required
def badge():
    """The unread count beside "Notifications" in the header (htmx asks once a page has loaded; nothing shows
    when the count cannot be had)."""
    unread, _problem = attempt(lambda: backend().unread_notifications(current_user.token), "The notification service")
    return render_template("_notification_badge.html", unread=unread or 0)


@bp.post("/<int:notice_id>/read")
@login_required
def mark_read(notice_id):
    notice, problem = attempt(lambda: backend().mark_read(current_user.token, notice_id), "The notification service")
    if is_htmx() and notice:
        return render_template("_notice.html", notice=notice), {"HX-Trigger": "notices-read"}  # the header's count
    if problem:
        flash(problem, "error")
    return redirect(url_for("notifications.inbox", page=request.form.get("page", 1)))


@bp.post("/read")
@login_required
def mark_all_read():
    marked, problem = attempt(lambda: backend().mark_all_read(current_user.token), "The notification service")
    flash(problem or ("Everything is read." if marked else "Nothing was unread."), "error" if problem else "success")
    return redirect(url_for("notifications.inbox"))


def preferences_context():
    """For the account page's section: each kind with the reader's channels (None when they cannot be had)."""
    preferences, problem = attempt(lambda: backend().notification_preferences(current_user.token),
                                   "The notification service")
    return {"notification_preferences": preferences, "notification_problem": problem, "channels": CHANNELS}


@bp.post("/preferences")
@login_required
def choose():
    choices = {key.removeprefix("kind-"): value for key, value in request.form.items()
               if key.startswith("kind-") and value in CHANNELS}
    chosen, problem = attempt(lambda: backend().choose_notifications(current_user.token, choices),
                              "The notification service")
    flash("Saved: we will tell you things the way you chose." if chosen else problem, "success" if chosen else "error")
    return redirect(url_for("account.account", _anchor="notifications"))
