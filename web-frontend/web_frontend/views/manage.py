"""Librarians' pages: add, edit and delete books and their copies; genres and item types; the loans desk, worked by
scanner;
the hold shelf; users, each patron at a glance (their address, a reset link, deactivation), their roles, and
registering a patron at the desk; barcode labels to print."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from stdnum import isbn

from ..backend import BackendError
from ..errors import inline_message, is_htmx
from ..forms import (BookForm, CheckinForm, CheckoutForm, GenreMergeForm, GenreRenameForm, ItemDetailsForm, ItemForm,
                     ItemStatusForm, ItemTypeForm, ItemTypeRenameForm, PatronEmailForm, RegisterPatronForm, RoleForm)
from ..formatting import nice_date
from ..labels import code128_data_uri
from ..session import for_librarians_only
from .common import apply_service_errors, attempt, backend, book_or_404, or_404, page_number, status_of

bp = Blueprint("manage", __name__, url_prefix="/manage")
LOANS_PER_PAGE = 25
for_librarians_only(bp)


@bp.route("/books/new", methods=["GET", "POST"])
def add_book():
    form = BookForm()
    if form.validate_on_submit():
        try:
            book = backend().add_book(current_user.token, form.book_fields())
        except BackendError as error:
            apply_service_errors(form, error)
            existing = clashing_isbn(form, error)
        else:
            if book["genre"] != form.genre.data:  # the page itself says the book was added
                flash(f"Filed under the existing genre “{book['genre']}”.", "info")
            return redirect(url_for("manage.add_book", added=book["id"]))
    else:
        existing = None
    added = request.args.get("added", "")
    added_book = book_or_404(int(added)) if added.isdigit() and int(added) < 2**31 else None
    status = status_of(form)
    return render_template("manage/book_form.html", form=form, book=None, added_book=added_book,
                           existing=existing, genres=backend().genres()), status


def clashing_isbn(form, error):
    """The book that already has the ISBN the form gave, so the page can point at it."""
    if error.status != 409 or "isbn" not in error.errors:
        return None
    found, _problem = attempt(lambda: backend().book_by_isbn(error_isbn(form)), "The catalogue")
    return found


def error_isbn(form):
    """The form's ISBN as the catalogue stores it (ISBN-13)."""
    return isbn.to_isbn13(isbn.compact(form.isbn.data))


@bp.route("/books/<int:book_id>/edit", methods=["GET", "POST"])
def edit_book(book_id):
    book = book_or_404(book_id)
    form = BookForm(data=book if request.method == "GET" else None)
    existing = None
    if form.validate_on_submit():
        try:
            saved = backend().update_book(current_user.token, book_id, form.book_fields())
        except BackendError as error:
            apply_service_errors(form, error)
            existing = clashing_isbn(form, error)
        else:
            filed = "" if saved["genre"] == form.genre.data else f" Filed under the existing genre “{saved['genre']}”."
            flash(f"Saved.{filed}", "success")
            return redirect(url_for("catalogue.book", book_id=book_id))
    status = status_of(form)
    return render_template("manage/book_form.html", form=form, book=book, added_book=None, existing=existing,
                           genres=backend().genres()), status


@bp.get("/genres")
def genres():
    return render_template("manage/genres.html", genres=backend().genres(fresh=True))


@bp.post("/genres/<int:genre_id>/rename")
def rename_genre(genre_id):
    return _change_genre(GenreRenameForm(), "Give the genre a new name.",
                         lambda form: backend().rename_genre(current_user.token, genre_id, form.name.data),
                         lambda genre: f"Renamed to “{genre['genre']}” ({_books(genre['count'])}).")


@bp.route("/genres/<int:genre_id>/merge", methods=["GET", "POST"])
def merge_genre(genre_id):
    """Asks first (a plain page saying where the books go), then merges."""
    if request.method == "GET":
        listed = {genre["id"]: genre for genre in backend().genres(fresh=True)}
        into = request.args.get("into", type=int)
        if genre_id not in listed:
            abort(404)
        if into not in listed or into == genre_id:
            flash("Choose another genre to merge into.", "error")
            return redirect(url_for("manage.genres"))
        return render_template("manage/confirm_merge_genre.html", genre=listed[genre_id], into=listed[into])
    return _change_genre(GenreMergeForm(), "Choose the genre to merge into.",
                         lambda form: backend().merge_genre(current_user.token, genre_id, form.into.data),
                         lambda genre: f"Merged: “{genre['genre']}” now has {_books(genre['count'])}.")


@bp.post("/genres/<int:genre_id>/delete")
def delete_genre(genre_id):
    """A genre without books leaves the list (books-service refuses while books are filed under it)."""
    _, problem = attempt(lambda: backend().delete_genre(current_user.token, genre_id), "Genres")
    flash(problem or "Deleted the genre.", "error" if problem else "success")
    return redirect(url_for("manage.genres"))


def _change_genre(form, incomplete, change, done):
    """Make `change` at books-service when `form` is complete, then say what became of it on the Genres page."""
    if not form.validate_on_submit():
        flash(incomplete, "error")
    else:
        genre, problem = attempt(lambda: change(form), "Genres")
        flash(done(genre) if genre else problem, "success" if genre else "error")
    return redirect(url_for("manage.genres"))


def _books(count):
    return f"{count:,} book{'' if count == 1 else 's'}"


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


def item_types_or_none():
    """The library's item types for a copy's form; none when books-service cannot say (the copy's own stays)."""
    found, _problem = attempt(lambda: backend().item_types(), "The catalogue")
    return found or []


@bp.post("/books/<int:book_id>/items")
def add_item(book_id):
    form = ItemForm(prefix=ItemForm.PREFIX).with_item_types(item_types_or_none())
    back = url_for("catalogue.book", book_id=book_id) + "#copies"
    if not form.validate_on_submit():
        flash(" ".join(message for field in form for message in field.errors) or "Please try again.", "error")
        return redirect(back)
    item, problem = attempt(lambda: backend().add_item(current_user.token, book_id, form.barcode.data or None,
                                                       form.item_details()), "The catalogue")
    if item is None:
        flash(f"No copy added: {problem}", "error")
        return redirect(back)
    flash(f"Added a copy with barcode {item['barcode']}.", "success")
    return redirect(url_for("catalogue.book", book_id=book_id, added=item["barcode"]) + "#copies")


@bp.route("/items/<path:barcode>/edit", methods=["GET", "POST"])
def edit_item(barcode):
    """A copy's type, call number, shelf location and format: changed even while it is out (they describe it)."""
    item = or_404(lambda: backend().item(barcode))
    form = ItemDetailsForm(data=item if request.method == "GET" else None)
    form.with_item_types(item_types_or_none(), current=item["item_type"])
    if form.validate_on_submit():
        try:
            backend().change_item(current_user.token, item["barcode"], form.item_details())
        except BackendError as error:
            apply_service_errors(form, error)
        else:
            flash(f"Saved copy {item['barcode']}.", "success")
            return redirect(url_for("catalogue.book", book_id=item["book_id"]) + "#copies")
    return render_template("manage/item_form.html", form=form, item=item), status_of(form)


@bp.post("/items/<path:barcode>/status")
def change_item_status(barcode):
    form = ItemStatusForm()
    if not form.validate_on_submit():
        abort(400)
    item, problem = attempt(lambda: backend().change_item(current_user.token, barcode, {"status": form.status.data}),
                            "The catalogue")
    flash(f"Copy {barcode} is now {item['status']}." if item else f"Not changed: {problem}",
          "success" if item else "error")
    book_id = request.form.get("book_id", "")
    return redirect(url_for("catalogue.book", book_id=int(book_id)) + "#copies" if book_id.isdigit()
                    else url_for("catalogue.index"))


@bp.get("/books/<int:book_id>/labels")
def labels(book_id):
    """A page of labels to print: for each copy (the ones just added, or all of them) its barcode (Code 128), and
    beside it a spine label with its call number when it has one."""
    book = book_or_404(book_id)
    wanted = set(request.args.getlist("barcode"))
    items = [item for item in backend().items(book_id) if not wanted or item["barcode"] in wanted]
    return render_template("manage/labels.html", book=book, labels=[
        {"barcode": item["barcode"], "image": code128_data_uri(item["barcode"]),
         "spine": spine_lines(item.get("call_number"))} for item in items])


def spine_lines(call_number):
    """A call number as a spine label shows it: a line per part ("823.914 ISH" reads 823.914 above ISH), so it can
    be read on a narrow spine; none without one."""
    return (call_number or "").split()


# ---- item types --------------------------------------------------------------------------------------------


@bp.get("/item-types")
def item_types(add_form=None):
    found, problem = attempt(lambda: backend().item_types(fresh=True), "The catalogue")
    add_form = add_form or ItemTypeForm(formdata=None)
    return render_template("manage/item_types.html", item_types=found or [], problem=problem,
                           add_form=add_form), status_of(add_form)


@bp.post("/item-types")
def add_item_type():
    form = ItemTypeForm()
    if form.validate_on_submit():
        try:
            added = backend().add_item_type(current_user.token, form.code.data.strip(), form.name.data)
        except BackendError as error:
            apply_service_errors(form, error)
        else:
            flash(f"Added the item type “{added['name']}” ({added['code']}).", "success")
            return redirect(url_for("manage.item_types"))
    return item_types(add_form=form)


@bp.post("/item-types/<code>/rename")
def rename_item_type(code):
    form = ItemTypeRenameForm()
    if not form.validate_on_submit():
        flash("Give the item type a new name.", "error")
    else:
        renamed, problem = attempt(lambda: backend().rename_item_type(current_user.token, code, form.name.data),
                                   "Item types")
        flash(f"Renamed to “{renamed['name']}”." if renamed else problem, "success" if renamed else "error")
    return redirect(url_for("manage.item_types"))


@bp.post("/item-types/<code>/delete")
def delete_item_type(code):
    done, problem = attempt(lambda: backend().delete_item_type(current_user.token, code) or True, "Item types")
    flash(f"Deleted the item type {code}." if done else problem, "success" if done else "error")
    return redirect(url_for("manage.item_types"))


# ---- the loans desk ---------------------------------------------------------------------------------------


@bp.get("/loans")
def loans_desk():
    overdue_only = request.args.get("overdue") == "1"
    filters = {"active": "true", "page": page_number(), "per_page": LOANS_PER_PAGE}
    if overdue_only:
        filters["overdue"] = "true"
    loans = backend().loans(current_user.token, **filters)
    titles = backend().titles([loan["book_id"] for loan in loans.items if not loan.get("title")])
    mode = "checkout" if request.args.get("mode") == "checkout" else "checkin"
    return render_template("manage/loans.html", loans=loans, titles=titles, overdue_only=overdue_only, mode=mode,
                           checkin_form=CheckinForm(), checkout_form=CheckoutForm())


def desk_answer(mode, form, outcome=None, problem=None):
    """The scanner form again (focused, ready for the next scan; the input kept after an error) and what
    just happened: the whole desk without JavaScript, the form alone for htmx."""
    if outcome is not None:  # ready for the next item: the same patron at check-out, an empty barcode
        form = CheckoutForm(formdata=None, patron=form.patron.data) if mode == "checkout" else CheckinForm(
            formdata=None)
    context = {"mode": mode, "form": form, "outcome": outcome, "problem": problem}
    if is_htmx():  # the list of active loans below reloads itself when something changed
        return render_template("manage/_scanner.html", **context), 200, {"HX-Trigger": "desk-changed"} if outcome \
            else {}
    if outcome:
        flash(outcome["message"], "success")
    elif problem:
        flash(problem, "error")
    return redirect(url_for("manage.loans_desk", mode=mode))


@bp.post("/desk/checkin")
def desk_checkin():
    form = CheckinForm()
    if not form.validate_on_submit():
        return desk_answer("checkin", form, problem=" ".join(form.barcode.errors) or "Scan an item.")
    result, problem = attempt(lambda: backend().check_in_item(current_user.token, form.barcode.data),
                              "The loans service")
    if result is None:
        return desk_answer("checkin", form, problem=f"Not checked in: {problem}")
    return desk_answer("checkin", form, outcome=checkin_slip(result))


def checkin_slip(result):
    """What the desk says when an item comes back, as Koha's and FOLIO's check-in slips do."""
    loan, hold = result["loan"], result["hold"]
    title = loan.get("title") or f"Book {loan['book_id']}"
    if result["route"] == "hold_shelf":
        where = f"Hold shelf for {hold['username']}, pickup by {nice_date(hold['pickup_by'])}"
    elif result["route"] == "out_of_circulation":
        where = "Out of circulation: its catalogue status says it should not go back on the shelf"
    else:
        where = "Back to the shelf"
    return {"route": result["route"], "title": title, "barcode": loan["barcode"], "patron": loan["username"],
            "where": where, "hold": hold, "message": f"Checked in “{title}” from {loan['username']}. {where}."}


@bp.post("/desk/checkout")
def desk_checkout():
    form = CheckoutForm()
    if not form.validate_on_submit():
        errors = [message for field in (form.patron, form.barcode) for message in field.errors]
        return desk_answer("checkout", form, problem=" ".join(errors) or "Give a patron and scan an item.")
    username, problem = find_patron(form.patron.data)
    if username is None:
        return desk_answer("checkout", form, problem=problem)
    loan, problem = attempt(lambda: backend().check_out_item(current_user.token, form.barcode.data, username),
                            "The loans service")
    if loan is None:
        return desk_answer("checkout", form, problem=f"Not checked out: {problem}")
    title = loan.get("title") or f"Book {loan['book_id']}"
    return desk_answer("checkout", form, outcome={
        "route": "loan", "title": title, "barcode": loan["barcode"], "patron": loan["username"],
        "where": f"Due {nice_date(loan['due_date'])}",
        "message": f"Checked out “{title}” to {loan['username']}, due {nice_date(loan['due_date'])}."})


def find_patron(typed):
    """(username, None) for a username, or a name that matches one person; (None, why) otherwise."""
    found, problem = attempt(lambda: backend().users(current_user.token, search=typed.strip()), "The account service")
    if found is None:
        return None, problem
    exact = [user for user in found.items if user["username"].lower() == typed.strip().lower()]
    matches = exact or found.items
    if len(matches) == 1:
        return matches[0]["username"], None
    if not matches:
        return None, f"Nobody matches “{typed}”: check the spelling, or find them on the Users page."
    listed = ", ".join(f"{user['username']} ({user['first_name']} {user['last_name']})" for user in matches[:5])
    return None, f"{found.total} people match “{typed}”: {listed}{'…' if found.total > 5 else ''}. Type the username."


@bp.get("/patrons/suggestions")
def patron_suggestions():
    """Options for the desk's patron field as the librarian types (a datalist; without JavaScript, the
    desk finds the patron by name when the form is sent)."""
    typed = request.args.get("patron", "").strip()[:100]
    found = None
    if typed:
        found, _problem = attempt(lambda: backend().users(current_user.token, search=typed), "The account service")
    return render_template("manage/_patron_options.html", users=found.items if found else [])


@bp.post("/loans/<int:loan_id>/checkin")
def checkin(loan_id):
    """The Check in button on a loan's row (the loans desk, a patron's page): the same routing and slip as a
    scanned check-in (the copy in hand goes to a waiting patron's hold shelf, or back to the shelf); with
    htmx the row becomes the slip and the count follows, without it the librarian returns where they were."""
    barcode = request.form.get("barcode", "").strip()
    if barcode:
        result, problem = attempt(lambda: backend().check_in_item(current_user.token, barcode), "The loans service")
    else:  # a loan from before barcodes: ended by its id (a librarian's return routes it at the desk too)
        loan, problem = attempt(lambda: backend().return_loan(current_user.token, loan_id), "The loans service")
        result = {"loan": loan, "route": "shelf", "hold": None} if loan else None
    if result is None:
        message, category, slip = f"Not checked in: {problem}", "error", None
    else:
        slip = checkin_slip(result)
        message, category = slip["message"], "success"
    if is_htmx():
        if slip is None:
            return inline_message(message, category)
        active, _problem = attempt(lambda: backend().loans(current_user.token, active="true", per_page=1),
                                   "The loans service")
        return render_template("manage/_checked_in_row.html", loan=result["loan"], slip=slip,
                               active_total=active.total if active else None)
    flash(message, category)
    return redirect(_back_to_desk_page())


def _back_to_desk_page():
    """Where a desk button was pressed (its form's `back`: a page of the librarians' own), or the loans desk."""
    back = request.form.get("back", "")
    return back if back.startswith("/manage/") and "//" not in back else url_for("manage.loans_desk")


@bp.post("/loans/<int:loan_id>/renew")
def renew_for_patron(loan_id):
    loan, problem = attempt(lambda: backend().renew(current_user.token, loan_id), "The loans service")
    flash(f"Renewed for {loan['username']}: now due {nice_date(loan['due_date'])}." if loan else
          f"Not renewed: {problem}", "success" if loan else "error")
    username = request.form.get("username", "")
    return redirect(url_for("manage.patron", username=username) if username else url_for("manage.loans_desk"))


@bp.get("/holds")
def hold_shelf():
    """Ready holds by pickup deadline, and those that ended lately whose copies must come off the shelf."""
    ready = backend().holds(current_user.token, status="ready", per_page=100)
    ended = backend().holds(current_user.token, status=["expired", "cancelled"], per_page=50)
    to_clear = [hold for hold in ended.items if hold.get("barcode") and hold.get("ready_at")]
    return render_template("manage/holds.html", ready=ready, to_clear=to_clear)


@bp.post("/holds/<int:hold_id>/cancel")
def cancel_hold(hold_id):
    hold, problem = attempt(lambda: backend().cancel_hold(current_user.token, hold_id), "The loans service")
    flash(f"Cancelled {hold['username']}'s hold on “{hold['title']}”." if hold else f"Not cancelled: {problem}",
          "success" if hold else "error")
    back = request.form.get("username")
    return redirect(url_for("manage.patron", username=back) if back else url_for("manage.hold_shelf"))


@bp.get("/notices/failed")
def failed_mail():
    """Mail that could not be sent after every attempt, with the last error; each can be tried again."""
    found = backend().failed_notices(current_user.token, page=page_number())
    return render_template("manage/failed_mail.html", notices=found)


@bp.post("/notices/<int:notice_id>/retry")
def retry_mail(notice_id):
    notice, problem = attempt(lambda: backend().retry_notice(current_user.token, notice_id), "The notification service")
    flash(f"We will try the mail to {notice['email_to']} again." if notice else f"Not retried: {problem}",
          "success" if notice else "error")
    return redirect(url_for("manage.failed_mail"))


# ---- users ------------------------------------------------------------------------------------------------


@bp.get("/users")
def users():
    search = request.args.get("q", "").strip()[:100]
    waiting = request.args.get("provisional") == "true"
    found = backend().users(current_user.token, page=page_number(), search=search, provisional=waiting)
    return render_template("manage/users.html", users=found, search=search, waiting=waiting, role_form=RoleForm())


@bp.route("/patrons/new", methods=["GET", "POST"])
def register_patron():
    """A patron registered at the desk: no password from the librarian; the patron chooses one through the
    link we e-mail them."""
    form = RegisterPatronForm()
    if form.validate_on_submit():
        try:
            registered = backend().register_patron(current_user.token, form.patron_fields())
        except BackendError as error:
            apply_service_errors(form, error)
        else:
            flash(welcome_news(registered), "success")
            return redirect(url_for("manage.patron", username=registered["username"]))
    return render_template("manage/register_patron.html", form=form), status_of(form)


def welcome_news(registered):
    username = registered["username"]
    if registered["email"]:
        return f"We have e-mailed {username} a link to choose a password."
    return (f"{username} is registered, and the desk can lend to them now. To use the website they need an e-mail "
            "address: add one below, and we will e-mail them a link to choose a password.")


def account_or_404(username):
    return or_404(lambda: backend().user(current_user.token, username))


@bp.get("/users/<username>")
def patron(username):
    return patron_page(username)


def patron_page(username, email_form=None):
    """A patron at a glance: their account, what they have (overdue first), what they wait for."""
    token = current_user.token
    account = account_or_404(username)
    summary, problem = attempt(lambda: backend().patron(token, account["username"]), "The loans service")
    loans = backend().loans(token, username=account["username"], active="true", per_page=100) if summary else None
    holds = backend().holds(token, username=account["username"], status=["waiting", "ready"], per_page=100) \
        if summary else None
    email_form = email_form or PatronEmailForm(formdata=None, data={"email": account["email"]})
    status = status_of(email_form)
    return render_template("manage/patron.html", account=account, summary=summary, problem=problem, loans=loans,
                           holds=holds, email_form=email_form,
                           titles=backend().titles([loan["book_id"] for loan in (loans.items if loans else [])
                                                    if not loan.get("title")])), status


@bp.post("/users/<username>/email")
def change_patron_email(username):
    form = PatronEmailForm()
    if form.validate_on_submit():
        address = form.email.data.strip() or None
        try:
            changed = backend().change_account(current_user.token, username, {"email": address})
        except BackendError as error:
            apply_service_errors(form, error)
        else:
            flash(f"Saved. We have e-mailed a link to {address}: {changed['username']} confirms the address by "
                  "opening it." if address and not changed["email_verified"] else "Saved.", "success")
            return redirect(url_for("manage.patron", username=username))
    return patron_page(username, email_form=form)


@bp.post("/users/<username>/password-reset")
def send_password_reset(username):
    """The patron gets a link to choose a new password; nobody else ever sees it."""
    sent, problem = attempt(lambda: backend().send_password_reset(current_user.token, username),
                            "The account service")
    flash(f"{sent['message']}." if sent else f"No link sent: {problem}", "success" if sent else "error")
    return redirect(url_for("manage.patron", username=username))


@bp.post("/users/<username>/approval")
def approve(username):
    """An account registered online may borrow from now on."""
    approved, problem = attempt(lambda: backend().approve(current_user.token, username), "The account service")
    flash(f"{approved['username']} is approved: they can borrow now." if approved else f"Not approved: {problem}",
          "success" if approved else "error")
    return redirect(url_for("manage.patron", username=username))


@bp.route("/users/<username>/<any(deactivate, reactivate):action>", methods=["GET", "POST"])
def change_active(username, action):
    """Asks first (GET), then deactivates or reactivates the account (POST)."""
    account = account_or_404(username)
    if request.method == "GET":
        return render_template("manage/confirm_active.html", account=account, action=action)
    changed, problem = attempt(lambda: backend().change_account(current_user.token, account["username"],
                                                                {"active": action == "reactivate"}),
                               "The account service")
    if changed is None:
        flash(f"Nothing changed: {problem}", "error")
    elif changed["active"]:
        flash(f"{changed['username']} is active again: they can log in and borrow.", "success")
    else:
        flash(f"{changed['username']} is deactivated: they are logged out everywhere and cannot log in or borrow.",
              "success")
    return redirect(url_for("manage.patron", username=account["username"]))


@bp.get("/users/<username>/borrows")
def patron_borrows(username):
    loans = backend().loans(current_user.token, username=username, page=page_number(), per_page=LOANS_PER_PAGE)
    titles = backend().titles([loan["book_id"] for loan in loans.items if not loan.get("title")])
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
