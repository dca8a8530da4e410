"""My borrows: the patron's current loans with Renew and Return, and the history below."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..errors import inline_message, is_htmx
from ..formatting import nice_date
from .common import attempt, backend, page_number

bp = Blueprint("borrows", __name__, url_prefix="/my")
HISTORY_PER_PAGE = 20


@bp.get("/borrows")
@login_required
def my_borrows():
    current = backend().loans(current_user.token, active="true", per_page=100)
    history = backend().loans(current_user.token, active="false", page=page_number(),
                              per_page=HISTORY_PER_PAGE)
    titles = backend().titles([loan["book_id"] for loan in current.items + history.items])
    return render_template("my_borrows.html", current=current, history=history, titles=titles)


def _row_or_redirect(loan, problem, success):
    """htmx: the updated row (or the problem, announced in the message area); otherwise back to the list."""
    if is_htmx():
        if problem:
            return inline_message(problem, "error")
        return render_template("_loan_row.html", loan=loan, titles=backend().titles([loan["book_id"]]),
                               announcement=success)
    flash(success if loan else problem, "success" if loan else "error")
    return redirect(url_for("borrows.my_borrows"))


@bp.post("/borrows/<int:loan_id>/renew")
@login_required
def renew(loan_id):
    loan, problem = attempt(lambda: backend().renew(current_user.token, loan_id), "Loans")
    return _row_or_redirect(loan, problem, loan and f"Renewed: now due {nice_date(loan['due_date'])}.")


@bp.post("/borrows/<int:loan_id>/return")
@login_required
def return_book(loan_id):
    loan, problem = attempt(lambda: backend().return_loan(current_user.token, loan_id), "Loans")
    return _row_or_redirect(loan, problem, "Returned. Thank you!")
