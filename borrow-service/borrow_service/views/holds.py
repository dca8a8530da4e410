"""Holds: join the line for a book whose copies are all out, see your place and the expected date, leave it."""

from library_common.api import Blueprint
from library_common.auth import current_principal
from library_common.clock import now
from library_common.pagination import offset

from .. import holds
from ..deps import deps
from ..schemas import HoldDatesSchema, HoldListArgs, HoldMoveSchema, HoldRequestSchema, HoldSchema, PulledSchema

blp = Blueprint("holds", __name__, description="Holds: waiting in line for a book")


@blp.route("/holds", methods=["POST"])
@blp.login_required
@blp.arguments(HoldRequestSchema)
@blp.response(201, HoldSchema)
@blp.errors(404, 409, 503)
def place_hold(request_body):
    """Place a hold (for yourself; librarians for any active patron); 409 when a copy is free to borrow"""
    moment = now()
    hold = holds.place_hold(deps(), current_principal(), book_id=request_body["book_id"],
                            requested_username=request_body.get("username"), now=moment)
    return holds.with_queue_places([hold], deps(), moment)[0]


@blp.route("/holds")
@blp.login_required
@blp.paginated(HoldListArgs, HoldSchema)
def list_holds(args):
    """Holds, newest first (ready ones alone: by pickup deadline): all for librarians, your own for patrons"""
    filters = holds.HoldFilters(username=current_principal().whose(args.get("username"), "holds"),
                                book_id=args.get("book_id"), statuses=tuple(args.get("status", ())) or None,
                                offset=offset(args), limit=args["per_page"])
    found, total = holds.find_holds(filters)
    return holds.with_queue_places(found, deps(), now()), total


@blp.route("/holds/pull-list")
@blp.librarian_required
@blp.response(200, PulledSchema(many=True))
@blp.errors(503)
def pull_list():
    """What to fetch from the shelves for the hold shelf (librarians): each waiting hold a free copy can serve,
    oldest first, with the free copies; scanning one in at the desk sets it aside"""
    moment = now()
    return [{"hold": hold, "barcodes": barcodes} for hold, barcodes in holds.pull_list(deps(), moment)]


@blp.route("/holds/<id:hold_id>")
@blp.login_required
@blp.response(200, HoldSchema)
@blp.errors(404)
def get_hold(hold_id):
    """One hold (its patron, or a librarian)"""
    return holds.with_queue_places([holds.get_hold(hold_id, current_principal())], deps(), now())[0]


@blp.route("/holds/<id:hold_id>/cancel", methods=["POST"])
@blp.login_required
@blp.response(200, HoldSchema)
@blp.errors(404, 409)
def cancel_hold(hold_id):
    """Leave the line (the patron) or take a patron off it (librarians); a copy set aside goes to the next"""
    return holds.cancel_hold(deps(), hold_id=hold_id, actor=current_principal(), now=now())


@blp.route("/holds/<id:hold_id>/move", methods=["POST"])
@blp.librarian_required
@blp.arguments(HoldMoveSchema)
@blp.response(200, HoldSchema)
@blp.errors(404, 409)
def move_hold(request_body, hold_id):
    """Move a waiting patron one place up or down the book's line, with a reason (librarians)"""
    moment = now()
    hold = holds.move(deps(), hold_id=hold_id, direction=request_body["direction"], reason=request_body["reason"],
                      actor=current_principal(), now=moment)
    return holds.with_queue_places([hold], deps(), moment)[0]


@blp.route("/holds/<id:hold_id>", methods=["PATCH"])
@blp.login_required
@blp.arguments(HoldDatesSchema)
@blp.response(200, HoldSchema)
@blp.errors(400, 404, 409)
def change_hold_dates(request_body, hold_id):
    """Suspend a waiting hold until a day, or say it is not needed after one (its patron, or a librarian)"""
    moment = now()
    hold = holds.change_dates(deps(), hold_id=hold_id, actor=current_principal(), dates=request_body, now=moment)
    return holds.with_queue_places([hold], deps(), moment)[0]
