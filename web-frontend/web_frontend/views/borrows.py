"""My borrows: the patron's loans with Renew and Return, their holds, and their reading history (kept only
if they choose, on the account page)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..errors import is_htmx, with_message
from ..formatting import nice_date
from ..forms import HoldDatesForm
from .common import attempt, backend, page_number

bp = Blueprint("borrows", __name__, url_prefix="/my")
HISTORY_PER_PAGE = 20
OPEN_HOLDS = ("waiting", "ready")


def untitled(loans):
    """Titles for loans made before loans kept their title (asked of books-service, which may have lost them)."""
    return backend().titles([loan["book_id"] for loan in loans if not loan.get("title")])


@bp.get("/borrows")
@login_required
def my_borrows():
    token = current_user.token
    current = backend().loans(token, active="true", per_page=100)
    holds = backend().holds(token, status=list(OPEN_HOLDS), per_page=100)
    history = backend().loans(token, active="false", page=page_number(), per_page=HISTORY_PER_PAGE)
    me, _unknown = attempt(lambda: backend().patron(token, current_user.username), "The loans service")
    return render_template("my_borrows.html", current=current, holds=holds, history=history, me=me,
                           dates_form=HoldDatesForm(),
                           keep_history=bool(me and me["keep_history"]),
                           titles=untitled(current.items + history.items))


@bp.get("/borrows/history")
@login_required
def history():
    """The history section alone: htmx fetches it again when a return moves a loan into it (opened as a page,
    it is My borrows at that page of the history)."""
    if not is_htmx():
        return redirect(url_for("borrows.my_borrows", page=page_number(), _anchor="history-heading"))
    loans = backend().loans(current_user.token, active="false", page=page_number(), per_page=HISTORY_PER_PAGE)
    return render_template("_history.html", history=loans, titles=untitled(loans.items))


def _answer(loan, problem, success):
    """htmx: the loan's row, updated (or the problem, in the message area); otherwise back to My borrows."""
    if not is_htmx():
        flash(success if loan else problem, "success" if loan else "error")
        return redirect(url_for("borrows.my_borrows"))
    if problem:
        return with_message("", problem, "error", retarget=True)
    row = render_template("_loan_row.html", loan=loan, titles=untitled([loan]))
    headers = {"HX-Trigger": "loan-returned"} if loan["returned"] else {}
    return with_message(row, success, "success"), 200, headers


@bp.post("/borrows/<int:loan_id>/renew")
@login_required
def renew(loan_id):
    loan, problem = attempt(lambda: backend().renew(current_user.token, loan_id), "The loans service")
    return _answer(loan, problem, loan and f"Renewed: now due {nice_date(loan['due_date'])}.")


@bp.post("/borrows/renew-all")
@login_required
def renew_all():
    """Renew every loan that can be renewed now; say which could not, and why (each loan is its own request:
    one refused does not hold back the others)."""
    current = backend().loans(current_user.token, active="true", per_page=100)
    renewed, refused = [], []
    for loan in current.items:
        title = loan.get("title") or f"Book {loan['book_id']}"
        done, problem = attempt(lambda loan=loan: backend().renew(current_user.token, loan["id"]), "The loans service")
        if done:
            renewed.append(f"“{title}” (now due {nice_date(done['due_date'])})")
        else:
            refused.append(f"“{title}”: {problem}")
    if renewed:
        flash(f"Renewed {len(renewed)} of {len(current.items)}: " + "; ".join(renewed) + ".", "success")
    if refused:
        flash(("Not renewed: " if renewed else "Nothing could be renewed: ") + "; ".join(refused) + ".", "error")
    if not current.items:
        flash("You have no books on loan to renew.", "info")
    return redirect(url_for("borrows.my_borrows"))


@bp.post("/borrows/<int:loan_id>/return")
@login_required
def return_book(loan_id):
    loan, problem = attempt(lambda: backend().return_loan(current_user.token, loan_id), "The loans service")
    return _answer(loan, problem, "Returned. Thank you!")


@bp.post("/holds/<int:hold_id>/cancel")
@login_required
def cancel_hold(hold_id):
    hold, problem = attempt(lambda: backend().cancel_hold(current_user.token, hold_id), "The loans service")
    if is_htmx():
        if problem:
            return with_message("", problem, "error", retarget=True)
        return with_message("", f"Your hold on “{hold['title']}” is cancelled.", "success")
    flash(f"Your hold on “{hold['title']}” is cancelled." if hold else problem, "success" if hold else "error")
    return redirect(url_for("borrows.my_borrows"))


@bp.post("/holds/<int:hold_id>/dates")
@login_required
def hold_dates(hold_id):
    """The reader is away until a day (copies pass them by, they keep their place), or needs the book only until
    one (the hold ends by itself then); empty fields clear them."""
    form = HoldDatesForm()
    if not form.validate_on_submit():
        flash("Give the dates as days, such as 2027-01-31.", "error")
        return redirect(url_for("borrows.my_borrows"))
    hold, problem = attempt(lambda: backend().change_hold_dates(current_user.token, hold_id, form.dates()),
                            "The loans service")
    if hold is None:
        flash(f"Not changed: {problem}", "error")
    else:
        said = [f"copies pass you by until {nice_date(hold['suspended_until'])}" if hold["suspended_until"] else "",
                f"it ends after {nice_date(hold['not_needed_after'])}" if hold["not_needed_after"] else ""]
        flash(f"Your hold on “{hold['title']}”: " + ("; ".join(filter(None, said)) or "no dates: it waits as long "
                                                     "as it takes") + ".", "success")
    return redirect(url_for("borrows.my_borrows"))


@bp.post("/history/settings")
@login_required
def keep_history():
    keep = request.form.get("keep_history") == "on"
    settings, problem = attempt(lambda: backend().keep_history(current_user.token, current_user.username, keep),
                                "The loans service")
    if settings:
        flash("Your reading history will be kept." if keep else
              "Returned books will leave your history after a month.", "success")
    else:
        flash(problem, "error")
    return redirect(url_for("account.account") + "#history")


@bp.post("/history/delete")
@login_required
def delete_history():
    _done, problem = attempt(lambda: backend().forget_history(current_user.token, current_user.username),
                             "The loans service")
    flash(problem or "Your reading history is deleted.", "error" if problem else "success")
    return redirect(url_for("borrows.my_borrows") + "#history-heading")
