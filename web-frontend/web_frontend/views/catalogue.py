"""The catalogue (home page) and each book's page, with its Borrow button."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from library_common.errors import DependencyUnavailable

from ..backend import BackendError
from ..errors import is_htmx
from ..forms import ALL_GENRES, SearchForm
from ..formatting import nice_date
from .common import attempt, backend, book_or_404, page_number, page_or_fragment

bp = Blueprint("catalogue", __name__)
PER_PAGE = 20


@bp.get("/")
def index():
    form = SearchForm(request.args)
    genres = backend().genres()
    form.genre.choices = [ALL_GENRES] + [SelectChoice(g["genre"], f"{g['genre']} ({g['count']})") for g in genres]
    params = {"page": page_number(), "per_page": PER_PAGE}
    params |= {name: value for name in ("q", "genre", "sort") if (value := (form[name].data or "").strip())}
    if form.available.data:
        params["available"] = "true"
    books, problem = None, None
    try:
        books = backend().books(**params)
    except DependencyUnavailable:
        problem = "The catalogue is unavailable right now. Please try again in a moment."
    except BackendError as error:
        problem = error.message
    filters = {k: v for k, v in params.items() if k not in ("page", "per_page")}
    return page_or_fragment("catalogue.html", "_results.html", "results",
                            form=form, books=books, problem=problem, filters=filters)


@bp.get("/books/<int:book_id>")
def book(book_id):
    return render_template("book.html", book=book_or_404(book_id))


@bp.post("/books/<int:book_id>/borrow")
@login_required
def borrow(book_id):
    loan, problem = attempt(lambda: backend().borrow(current_user.token, book_id), "Borrowing")
    if is_htmx():
        return render_template("_borrow_panel.html", book=book_or_404(book_id), loan=loan, problem=problem)
    if loan:
        flash(f"Borrowed. Please return it by {nice_date(loan['due_date'])}.", "success")
    else:
        flash(problem, "error")
    return redirect(url_for("catalogue.book", book_id=book_id))
