"""Loans: the seed's `POST /borrowbook` and `GET /borrows`, plus return, renewal, history and counts."""

from library_common.api import Blueprint
from library_common.auth import current_principal
from library_common.clock import now
from library_common.pagination import offset

from .. import loans
from ..deps import deps
from ..schemas import ActiveCountsArgs, ActiveCountsSchema, HistoryArgs, LoanListArgs, LoanRequestSchema, LoanSchema

blp = Blueprint("borrows", __name__, description="Borrowing and returning books")


def _page(filters_args, **filters):
    return loans.find_loans(
        loans.LoanFilters(offset=offset(filters_args), limit=filters_args["per_page"], **filters), now()
    )


@blp.route("/borrowbook", methods=["POST"])
@blp.login_required
@blp.arguments(LoanRequestSchema)
@blp.response(201, LoanSchema)
@blp.errors(404, 409, 503)
def borrow_book(request_body):
    """Borrow a book (for yourself; librarians for any active patron)"""
    return loans.check_out(deps(), current_principal(), book_id=request_body["book_id"],
                           requested_username=request_body.get("username"), now=now())


@blp.route("/return", methods=["POST"])
@blp.login_required
@blp.arguments(LoanRequestSchema)
@blp.response(200, LoanSchema)
@blp.errors(404, 503)
def return_book(request_body):
    """Return a borrowed book (yours; librarians any patron's)"""
    return loans.check_in(deps(), current_principal(), book_id=request_body["book_id"],
                          requested_username=request_body.get("username"), now=now())


@blp.route("/borrows/<id:loan_id>/return", methods=["POST"])
@blp.login_required
@blp.response(200, LoanSchema)
@blp.errors(404, 409)
def return_loan(loan_id):
    """Return one loan by its id (the borrower, or a librarian)"""
    return loans.return_loan(deps(), loan_id=loan_id, actor=current_principal(), now=now())


@blp.route("/borrows/<id:loan_id>/renew", methods=["POST"])
@blp.login_required
@blp.response(200, LoanSchema)
@blp.errors(404, 409, 503)
def renew(loan_id):
    """Extend a loan's due date by another loan period"""
    return loans.renew(deps(), loan_id=loan_id, actor=current_principal(), now=now())


@blp.route("/borrows")
@blp.login_required
@blp.paginated(LoanListArgs, LoanSchema)
def list_borrows(args):
    """Loans, newest first: all of them for librarians, your own for patrons"""
    username = current_principal().whose(args.get("username"), "loans")
    return _page(args, username=username, book_id=args.get("book_id"),
                 active=args.get("active"), overdue=args.get("overdue"))


@blp.route("/borrows/user/<username:username>")
@blp.login_required
@blp.paginated(HistoryArgs, LoanSchema)
def user_history(args, username):
    """One patron's loans, newest first (that patron or a librarian)"""
    return _page(args, username=current_principal().whose(username, "loans"), active=args.get("active"))


@blp.route("/borrows/book/<id:book_id>")
@blp.librarian_required
@blp.paginated(HistoryArgs, LoanSchema)
def book_history(args, book_id):
    """One book's loans, newest first (librarians)"""
    return _page(args, book_id=book_id, active=args.get("active"))


@blp.route("/borrows/active-counts")
@blp.arguments(ActiveCountsArgs, location="query")
@blp.response(200, ActiveCountsSchema)
def active_counts(args):
    """Copies out (on loan or on the hold shelf) and holds waiting per book, in one call (books-service
    computes availability from it)"""
    out, waiting = loans.counts(args.get("book_id"))
    return {"counts": out, "holds_waiting": waiting}
