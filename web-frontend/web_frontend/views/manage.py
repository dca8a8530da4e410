"""Librarians' pages: add, edit and delete books; genres; the loans desk; users and their roles."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..backend import BackendError
from ..errors import inline_message, is_htmx
from ..forms import BookForm, CheckoutForm, GenreMergeForm, GenreRenameForm, RoleForm
from ..formatting import nice_date
from ..session import librarian_required
from .common import apply_service_errors, attempt, backend, book_or_404, page_number

bp = Blueprint("manage", __name__, url_prefix="/manage")
LOANS_PER_PAGE = 25


@bp.before_request
@librarian_required
def librarians_only():
    """Every page here is for librarians: visitors are sent to log in, patrons get 403."""


@bp.route("/books/new", methods=["GET", "POST"])
def add_book():
    form = BookForm()
    if form.validate_on_submit():
        try:
            book = backend().add_book(current_user.token, form.book_fields())
        except BackendError as error:
            apply_service_errors(form, error)
        else:
            flash(f"Added “{book['title']}” to the catalogue.{_filed_under(form, book)}", "success")
            return redirect(url_for("manage.add_book", added=book["id"]))
    added = request.args.get("added", "")
    added_book = book_or_404(int(added)) if added.isdigit() and int(added) < 2**31 else None
    status = 400 if form.errors or form.form_errors else 200
    return render_template("manage/book_form.html", form=form, book=None, added_book=added_book,
                           genres=backend().genres()), status


@bp.route("/books/<int:book_id>/edit", methods=["GET", "POST"])
def edit_book(book_id):
    book = book_or_404(book_id)
    form = BookForm(data=book if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            saved = backend().update_book(current_user.token, book_id, form.book_fields())
        except BackendError as error:
            apply_service_errors(form, error)
        else:
            flash(f"Saved.{_filed_under(form, saved)}", "success")
            return redirect(url_for("catalogue.book", book_id=book_id))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("manage/book_form.html", form=form, book=book, added_book=None,
                           genres=backend().genres()), status


def _filed_under(form, book):
    """Says so when the service filed the book under an existing genre spelt differently."""
    return "" if book["genre"] == form.genre.data else f" Filed under the existing genre “{book['genre']}”."


@bp.get("/genres")
def genres():
    return render_template("manage/genres.html", genres=backend().genres(), rename_form=GenreRenameForm(),
                           merge_form=GenreMergeForm())


@bp.post("/genres/<int:genre_id>/rename")
def rename_genre(genre_id):
    form = GenreRenameForm()
    if not form.validate_on_submit():
        flash("Give the genre a new name.", "error")
        return redirect(url_for("manage.genres"))
    genre, problem = attempt(lambda: backend().rename_genre(current_user.token, genre_id, form.name.data), "Genres")
    flash(f"Renamed to “{genre['genre']}” ({genre['count']:,} book{'' if genre['count'] == 1 else 's'})."
          if genre else problem,
          "success" if genre else "error")
    return redirect(url_for("manage.genres"))


@bp.post("/genres/<int:genre_id>/merge")
def merge_genre(genre_id):
    form = GenreMergeForm()
    if not form.validate_on_submit():
        flash("Choose the genre to merge into.", "error")
        return redirect(url_for("manage.genres"))
    genre, problem = attempt(lambda: backend().merge_genre(current_user.token, genre_id, form.into.data), "Genres")
    flash(f"Merged: “{genre['genre']}” now has {genre['count']:,} book{'' if genre['count'] == 1 else 's'}."
          if genre else problem,
          "success" if genre else "error")
    return redirect(url_for("manage.genres"))


@bp.route("/books/<int:book_id>/delete", methods=["GET", "POST"])
def delete_book(book_id):
    book = book_or_404(book_id)
    if request.method == "GET":
        return render_template("manage/confirm_delete.html", book=book)
    try:
        backend().delete_book(current_user.token, book_id)
    except BackendError as error:
        flash(error.message, "error")
        return redirect(url_for("catalogue.book", book_id=book_id))
    flash(f"Deleted “{book['title']}”.", "success")
    return redirect(url_for("catalogue.index"))


@bp.get("/loans")
def loans_desk():
    overdue_only = request.args.get("overdue") == "1"
    filters = {"active": "true", "page": page_number(), "per_page": LOANS_PER_PAGE}
    if overdue_only:
        filters["overdue"] = "true"
    loans = backend().loans(current_user.token, **filters)
    titles = backend().titles([loan["book_id"] for loan in loans.items])
    return render_template("manage/loans.html", loans=loans, titles=titles, overdue_only=overdue_only,
                           form=CheckoutForm())


@bp.post("/loans/checkout")
def checkout():
    form = CheckoutForm()
    if not form.validate_on_submit():
        flash("Give a patron's username and a book number.", "error")
        return redirect(url_for("manage.loans_desk"))
    loan, problem = attempt(
        lambda: backend().borrow(current_user.token, form.book_id.data, username=form.username.data), "Loans")
    if loan:
        flash(f"Checked out to {loan['username']}, due {nice_date(loan['due_date'])}.", "success")
    else:
        flash(f"Not checked out: {problem}", "error")
    return redirect(url_for("manage.loans_desk"))


@bp.post("/loans/<int:loan_id>/checkin")
def checkin(loan_id):
    loan, problem = attempt(lambda: backend().return_loan(current_user.token, loan_id), "Loans")
    if loan:
        message, category = f"Checked in book {loan['book_id']} from {loan['username']}.", "success"
    else:
        message, category = f"Not checked in: {problem}", "error"
    if is_htmx():
        if category == "error":
            return inline_message(message, category)
        return render_template("manage/_checked_in_row.html", loan=loan, message=message)
    flash(message, category)
    return redirect(url_for("manage.loans_desk"))


@bp.get("/users")
def users():
    search = request.args.get("q", "").strip()[:100]
    found = backend().users(current_user.token, page=page_number(), search=search)
    return render_template("manage/users.html", users=found, search=search, role_form=RoleForm())


@bp.get("/users/<username>/borrows")
def patron_borrows(username):
    loans = backend().loans(current_user.token, username=username, page=page_number(), per_page=LOANS_PER_PAGE)
    titles = backend().titles([loan["book_id"] for loan in loans.items])
    return render_template("manage/patron_borrows.html", username=username, loans=loans, titles=titles)


@bp.post("/users/<username>/role")
def change_role(username):
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        user = backend().set_role(current_user.token, username, form.role.data)
    except BackendError as error:
        flash(error.message, "error")
    else:
        flash(f"{user['username']} is now a {user['role']}.", "success")
    return redirect(url_for("manage.users"))
