"""The desk, by scanner: lend the item scanned to a patron, check a returned item in (and hear where it
goes now), and who has each copy of a book."""

from library_common.api import Blueprint
from library_common.auth import READ_CIRCULATION, current_principal
from library_common.clock import now

from .. import loans
from ..deps import deps
from ..schemas import (BookCirculationSchema, BooksArgs, BooksCirculationSchema, CheckInSchema, DeskCheckinSchema,
                       DeskCheckoutSchema, LoanSchema)

blp = Blueprint("circulation", __name__, description="The circulation desk: items by barcode")


@blp.route("/checkout", methods=["POST"])
@blp.librarian_required
@blp.arguments(DeskCheckoutSchema)
@blp.response(201, LoanSchema)
@blp.errors(400, 404, 409, 503)
def check_out(request_body):
    """Lend the scanned item to a patron (librarians); a copy on the hold shelf goes only to its patron. With
    `override_reason`, past the rule's limits (and with `due_date`, until that day): recorded with the loan"""
    override = (loans.Override(request_body["override_reason"], request_body.get("due_date"))
                if "override_reason" in request_body else None)
    return loans.check_out_item(deps(), current_principal(), barcode=request_body["barcode"],
                                requested_username=request_body["username"], now=now(), override=override)


@blp.route("/checkin", methods=["POST"])
@blp.librarian_required
@blp.arguments(DeskCheckinSchema)
@blp.response(200, CheckInSchema)
@blp.errors(404, 409, 503)
def check_in(request_body):
    """Check a returned item in (librarians): `route` says where it goes (shelf, or the hold shelf for whom)"""
    return loans.check_in_item(deps(), barcode=request_body["barcode"], now=now())


@blp.route("/circulation/books/<id:book_id>")
@blp.service_required(READ_CIRCULATION, librarians_too=True)
@blp.response(200, BookCirculationSchema)
def book_circulation(book_id):
    """Who has each copy of a book that is out (librarians and services; books-service asks before an item
    leaves circulation)"""
    return loans.copies_out(book_id)


@blp.route("/circulation/books")
@blp.service_required(READ_CIRCULATION, librarians_too=True)
@blp.arguments(BooksArgs, location="query")
@blp.response(200, BooksCirculationSchema)
def books_circulation(args):
    """The same for several books (`book_id` repeated), each under its lock: books-service asks before it
    takes many books out of the catalogue at once (reverting an import)"""
    return {"books": loans.copies_out_of(args["book_id"])}
