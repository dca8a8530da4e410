"""The library's policy: the circulation rules matrix (patron category x item type) and the calendar of
days it is closed."""

import re

from library_common.api import Blueprint
from library_common.auth import current_principal
from library_common.clock import now
from library_common.errors import BadRequest

from .. import calendar, rules
from ..deps import deps
from ..schemas import (CalendarSchema, CirculationRuleInputSchema, CirculationRuleSchema, ClosedDaySchema,
                       ClosureInputSchema)

blp = Blueprint("rules", __name__, description="The library's policy: circulation rules and its calendar")

_CODE = re.compile(r"([a-z0-9_-]{1,32}|\*)\Z")


def _cell(patron_category, item_type):
    problems = {name: "A code (a-z, 0-9, - and _), or * for every one"
                for name, code in (("patron_category", patron_category), ("item_type", item_type))
                if not _CODE.match(code)}
    if problems:
        raise BadRequest("Not a rule's cell", errors=problems)
    return {"patron_category": patron_category, "item_type": item_type}


@blp.route("/circulation-rules")
@blp.login_required
@blp.response(200, CirculationRuleSchema(many=True))
def list_rules():
    """Every circulation rule, the most general first (anyone logged in: the library's policy is no secret)"""
    return rules.matrix(deps().policy)


@blp.route("/circulation-rules/<patron_category>/<item_type>", methods=["PUT"])
@blp.librarian_required
@blp.arguments(CirculationRuleInputSchema)
@blp.response(200, CirculationRuleSchema)
@blp.errors(400, 503)
def save_rule(fields, patron_category, item_type):
    """Add or replace the rule for a patron category x item type, either * (librarians); new loans go by it"""
    token = current_principal().token
    return rules.save(_cell(patron_category, item_type) | fields, lambda: deps().directory.categories(token),
                      deps().catalogue.item_types, current_principal().username)


@blp.route("/circulation-rules/<patron_category>/<item_type>", methods=["DELETE"])
@blp.librarian_required
@blp.response(204)
@blp.errors(400, 404)
def delete_rule(patron_category, item_type):
    """Delete a rule (librarians): its cell goes by the next wider rule, * × * by the settings"""
    rules.remove(**_cell(patron_category, item_type))


@blp.route("/calendar")
@blp.response(200, CalendarSchema)
def get_calendar():
    """The days the library is closed: every week, and on dates from today on (anyone)"""
    return calendar.calendar(now().astimezone(deps().policy.zone).date())


@blp.route("/calendar/closures", methods=["POST"])
@blp.librarian_required
@blp.arguments(ClosureInputSchema)
@blp.response(201, ClosedDaySchema(many=True))
@blp.errors(400, 409)
def close(fields):
    """Close the library on a date, on dates `day` to `last_day`, or every such `weekday` (librarians); due
    dates and pickup deadlines made from now on move past them. Returns the closures added"""
    if "weekday" in fields:
        return [calendar.close_weekly(fields["weekday"], fields["reason"])]
    today = now().astimezone(deps().policy.zone).date()
    return calendar.close_on(fields["day"], fields.get("last_day"), fields["reason"], today)


@blp.route("/calendar/closures/<id:closure_id>", methods=["DELETE"])
@blp.librarian_required
@blp.response(204)
@blp.errors(404)
def reopen(closure_id):
    """Open the library again on a closed date or weekday (librarians)"""
    calendar.reopen(closure_id)
