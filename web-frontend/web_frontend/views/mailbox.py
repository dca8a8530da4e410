"""The development mailbox: every mail the library sent, as the local mail catcher kept it (librarians,
APP_ENV=development with MAILBOX_URL set only; elsewhere these pages do not exist)."""

from flask import Blueprint, abort, render_template

from library_common.errors import DependencyUnavailable

from ..deps import deps
from ..session import librarian_required

bp = Blueprint("mailbox", __name__, url_prefix="/dev/mailbox")


@bp.before_request
@librarian_required
def librarians_in_development_only():
    if deps().mailbox is None:
        abort(404)


def _ask(path):
    response = deps().mailbox.get(path)
    if response.status_code == 404:
        abort(404)
    if response.status_code != 200:
        raise DependencyUnavailable("The mail catcher could not answer")
    return response.json()


@bp.get("")
def messages():
    return render_template("dev/mailbox.html", messages=_ask("/messages"))


@bp.get("/<message_id>")
def message(message_id):
    if not message_id.replace("-", "").isalnum():
        abort(404)
    return render_template("dev/message.html", message=_ask(f"/messages/{message_id}"))
