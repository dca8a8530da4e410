"""A patron at a glance; their choices about their loans: whether reading history is kept; wiping it."""

from library_common.api import Blueprint
from library_common.auth import current_principal

from library_common.clock import now

from .. import history, holds, patrons
from ..deps import deps
from ..schemas import (PatronClosedSchema, PatronSettingsInputSchema, PatronSettingsSchema, PatronSummaryArgs,
                       PatronSummarySchema)

blp = Blueprint("patrons", __name__, description="Patrons: at a glance, and their reading history choices")


@blp.route("/patrons/<username:username>")
@blp.login_required
@blp.arguments(PatronSummaryArgs, location="query")
@blp.response(200, PatronSummarySchema)
@blp.errors(404, 503)
def summary(args, username):
    """Loans, overdue loans and holds in numbers, the limits, whether the account is provisional (asked of
    user-service), and (book_id) the patron's loan of and hold on a book (the patron, or a librarian)"""
    return patrons.summary(deps(), current_principal(), username, now(), args.get("book_id"))


@blp.route("/patrons/<username:username>/settings")
@blp.login_required
@blp.response(200, PatronSettingsSchema)
def get_settings(username):
    """Whether the patron keeps their reading history (the patron, or a librarian)"""
    return history.settings_of(current_principal(), username)


@blp.route("/patrons/<username:username>/settings", methods=["PUT"])
@blp.login_required
@blp.arguments(PatronSettingsInputSchema)
@blp.response(200, PatronSettingsSchema)
def choose(settings, username):
    """Keep your reading history, or let returned loans be anonymised after HISTORY_RETENTION_DAYS (the patron)"""
    return history.choose(current_principal(), username, settings["keep_history"])


@blp.route("/patrons/<username:username>/history", methods=["DELETE"])
@blp.login_required
@blp.response(204)
def forget(username):
    """Delete your reading history now: returned loans lose your name (the patron)"""
    history.forget(current_principal(), username, deps().history_key)


@blp.route("/patrons/<username:username>/close", methods=["POST"])
@blp.librarian_required
@blp.response(200, PatronClosedSchema)
@blp.errors(409)
def close(username):
    """Before an account is deleted (librarians; user-service asks): 409 while it has books on loan, otherwise
    its open holds are cancelled"""
    return {"username": username,
            "holds_cancelled": holds.close_patron(deps(), username, now(), current_principal().username)}
