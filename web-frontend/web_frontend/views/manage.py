"""Librarians' pages: add, edit and delete books and their copies; genres and item types; the loans desk, worked by
scanner, and a title's hold queue; the hold shelf; users, each patron at a glance (their address, a reset link,
deactivation, their category, library card and contact details, a first password given at the desk), their roles,
and registering a patron at the desk; patron categories; barcode labels and library cards to print."""

import re
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from stdnum import isbn
from wtforms.fields.choices import SelectChoice

from library_common.errors import DependencyUnavailable

from ..backend import BackendError
from ..errors import inline_message, is_htmx
from ..forms import (BookForm, CardExpiryForm, CheckinForm, CheckoutForm, GenreMergeForm, GenreRenameForm,
                     HoldMoveForm, ItemDetailsForm, ItemForm, ItemStatusForm, ItemTypeForm, ItemTypeRenameForm,
                     PatronCategoryAddForm, PatronCategoryForm, PatronCategoryRenameForm, PatronContactForm,
                     PatronEmailForm, RegisterPatronForm, RoleForm)
from ..formatting import nice_date, ordinal
from ..labels import code128_data_uri
from ..session import for_librarians_only
from .activity import patron_activity
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
            saved = backend().update_book(current_user.token, book_id, form.book_fields(), form.version.data)
        except BackendError as error:
            apply_service_errors(form, error)
            existing = clashing_isbn(form, error)
            if error.status == 412:  # their values stay in the form; the newer version lets them save again
                form.version.data = book["version"]
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


# ---- patron categories ------------------------------------------------------------------------------------------


@bp.get("/patron-categories")
def patron_categories(add_form=None):
    """The categories with how many patrons each has: add, rename, and delete one nobody is in."""
    categories = backend().patron_categories(current_user.token)
    add_form = add_form or PatronCategoryAddForm(formdata=None)
    return render_template("manage/patron_categories.html", categories=categories, add_form=add_form), \
        status_of(add_form)


@bp.post("/patron-categories")
def add_patron_category():
    return _add_to_list(PatronCategoryAddForm(), backend().add_patron_category,
                        lambda added: f"Added the category “{added['name']}”.", "manage.patron_categories",
                        lambda form: patron_categories(add_form=form))


@bp.post("/patron-categories/<code>/rename")
def rename_patron_category(code):
    return _rename_in_list(PatronCategoryRenameForm(), code, backend().rename_patron_category,
                           "Give the category a new name.", "The account service", "manage.patron_categories",
                           failed="Not renamed: ")


def _add_to_list(form, add, added_message, list_endpoint, list_page):
    """Add a code and its name to one of the library's lists (patron categories, item types): back to the list
    with what was added, or the list page again with the service's errors beside the fields."""
    if form.validate_on_submit():
        try:
            added = add(current_user.token, form.code.data.strip(), form.name.data)
        except BackendError as error:
            apply_service_errors(form, error)
        else:
            flash(added_message(added), "success")
            return redirect(url_for(list_endpoint))
    return list_page(form)


def _rename_in_list(form, code, rename, missing_name, activity, list_endpoint, failed=""):
    """Rename an entry of one of the library's lists, and say how it went on the list."""
    if not form.validate_on_submit():
        flash(missing_name, "error")
    else:
        renamed, problem = attempt(lambda: rename(current_user.token, code, form.name.data), activity)
        flash(f"Renamed to “{renamed['name']}”." if renamed else f"{failed}{problem}",
              "success" if renamed else "error")
    return redirect(url_for(list_endpoint))


@bp.post("/patron-categories/<code>/delete")
def delete_patron_category(code):
    _nothing, problem = attempt(lambda: backend().delete_patron_category(current_user.token, code),
                                "The account service")
    flash(f"Not deleted: {problem}" if problem else f"Deleted the category “{code}”.",
          "error" if problem else "success")
    return redirect(url_for("manage.patron_categories"))


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
    return _add_to_list(ItemTypeForm(), backend().add_item_type,
                        lambda added: f"Added the item type “{added['name']}” ({added['code']}).",
                        "manage.item_types", lambda form: item_types(add_form=form))


@bp.post("/item-types/<code>/rename")
def rename_item_type(code):
    return _rename_in_list(ItemTypeRenameForm(), code, backend().rename_item_type, "Give the item type a new name.",
                           "Item types", "manage.item_types")


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
                           checkin_form=CheckinForm(), checkout_form=CheckoutForm(),
                           turned_up=request.args.get("turned_up", "")[:32] or None)


def desk_answer(mode, form, outcome=None, problem=None, turned_up=None):
    """The scanner form again (focused, ready for the next scan; the input kept after an error) and what
    just happened: the whole desk without JavaScript, the form alone for htmx. `turned_up`: the barcode of a
    copy marked missing or lost that was just scanned, to offer "Mark found"."""
    if outcome is not None:  # ready for the next item: the same patron at check-out, an empty barcode
        form = CheckoutForm(formdata=None, patron=form.patron.data) if mode == "checkout" else CheckinForm(
            formdata=None)
    context = {"mode": mode, "form": form, "outcome": outcome, "problem": problem, "turned_up": turned_up}
    if is_htmx():  # the list of active loans below reloads itself when something changed
        return render_template("manage/_scanner.html", **context), 200, {"HX-Trigger": "desk-changed"} if outcome \
            else {}
    if outcome:
        flash(outcome["message"], "success")
    elif problem:
        flash(problem, "error")
    return redirect(url_for("manage.loans_desk", mode=mode, turned_up=turned_up))


@bp.post("/desk/checkin")
def desk_checkin():
    form = CheckinForm()
    if not form.validate_on_submit():
        return desk_answer("checkin", form, problem=" ".join(form.barcode.errors) or "Scan an item.")
    answer, problem = attempt(lambda: _check_in(form.barcode.data), "The loans service")
    if answer is None:
        return desk_answer("checkin", form, problem=f"Not checked in: {problem}")
    result, refusal, errors = answer
    if result is None:
        return desk_answer("checkin", form, problem=f"Not checked in: {refusal}",
                           turned_up=form.barcode.data if errors.get("item_status") else None)
    return desk_answer("checkin", form, outcome=checkin_slip(result))


def _check_in(barcode):
    """(the check-in, None, {}) or (None, why not, the service's `errors`: item_status when the copy was marked
    missing or lost)."""
    try:
        return backend().check_in_item(current_user.token, barcode), None, {}
    except BackendError as refused:
        return None, refused.message, refused.errors


@bp.post("/desk/found")
def desk_found():
    """A copy marked missing or lost turned up at the desk: back in circulation (a patron waiting for its book
    gets it at borrow-service's next allocation, within SCHEDULE_SECONDS)."""
    form = CheckinForm()
    if not form.validate_on_submit():
        return desk_answer("checkin", form, problem="Scan the item that turned up.")
    item, problem = attempt(lambda: backend().change_item(current_user.token, form.barcode.data,
                                                          {"status": "available"}), "The catalogue")
    if item is None:
        return desk_answer("checkin", form, problem=f"Not marked found: {problem}")
    return desk_answer("checkin", form, outcome={
        "route": "shelf", "title": item["title"], "barcode": item["barcode"], "patron": None,
        "where": "Marked found: back in circulation",
        "message": f"Marked “{item['title']}” ({item['barcode']}) found: back in circulation."})


def checkin_slip(result):
    """What the desk says when an item comes back, as Koha's and FOLIO's check-in slips do."""
    loan, hold = result["loan"], result["hold"]
    if loan is None:  # a copy from the shelf (the pull list) set aside for a waiting patron
        where = f"Hold shelf for {hold['username']}, pickup by {nice_date(hold['pickup_by'])}"
        return {"route": "hold_shelf", "title": hold["title"], "barcode": hold["barcode"], "patron": None,
                "where": where, "hold": hold, "message": f"Set aside “{hold['title']}”. {where}."}
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
        errors = [message for field in (form.patron, form.barcode, form.override_reason, form.due_date)
                  for message in field.errors]
        return desk_answer("checkout", form, problem=" ".join(errors) or "Give a patron and scan an item.")
    username, problem = find_patron(form.patron.data)
    if username is None:
        return desk_answer("checkout", form, problem=problem)
    loan, problem = attempt(lambda: backend().check_out_item(current_user.token, form.barcode.data, username,
                                                             form.override()), "The loans service")
    if loan is None:
        return desk_answer("checkout", form, problem=f"Not checked out: {problem}")
    title = loan.get("title") or f"Book {loan['book_id']}"
    overridden = f" (past the rule: {loan['override_reason']})" if loan.get("override_reason") else ""
    standing, _problem = attempt(lambda: backend().patron(current_user.token, username), "The loans service")
    return desk_answer("checkout", form, outcome={
        "route": "loan", "title": title, "barcode": loan["barcode"], "patron": loan["username"],
        "where": f"Due {nice_date(loan['due_date'])}{overridden}", "standing": standing,
        "message": f"Checked out “{title}” to {loan['username']}, due {nice_date(loan['due_date'])}{overridden}."})


@bp.get("/desk/patron")
def desk_patron():
    """The patron at a glance, as the desk types their name (htmx, on change): what they have, what waits for
    them on the hold shelf, and what would stop a loan, before the first scan."""
    typed = request.args.get("patron", "").strip()[:100]
    username, problem = find_patron(typed) if typed else (None, None)
    standing = None
    if username:
        standing, problem = attempt(lambda: backend().patron(current_user.token, username), "The loans service")
    return render_template("manage/_patron_standing.html", standing=standing, problem=problem)


# What a scanned library card can be (user-service's card numbers, which have digits; names rarely do): tried as
# a card before anything else.
CARD_NUMBER = re.compile(r"(?=.*[0-9])[0-9A-Za-z]{6,20}")


def find_patron(typed):
    """(username, None) for a scanned card, a username, or a name that matches one person; (None, why) otherwise.
    A card reported lost is refused with user-service's reason, not looked for as a name."""
    if CARD_NUMBER.fullmatch(typed.strip()):
        holder, problem = card_holder(typed.strip())
        if holder is not None or problem is not None:
            return holder, problem
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


def card_holder(number):
    """(username, None) for a card's holder; (None, why) for a card reported lost; (None, None) when no card has
    this number (it may still be a username) or user-service cannot say (the search after it will say so)."""
    try:
        return backend().card_holder(current_user.token, number)["username"], None
    except BackendError as error:
        return (None, None) if error.status == 404 else (None, error.message)
    except DependencyUnavailable:
        return None, None


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


@bp.get("/books/<int:book_id>/holds")
def hold_queue(book_id):
    """A title's line, in order, for librarians: who waits, suspended or not, and each moved with a reason."""
    book = book_or_404(book_id)
    line = backend().holds(current_user.token, book_id=book_id, status="waiting", per_page=100)
    waiting = sorted(line.items, key=lambda hold: hold["position"] or 0)
    return render_template("manage/hold_queue.html", book=book, waiting=waiting, form=HoldMoveForm())


@bp.post("/books/<int:book_id>/holds/<int:hold_id>/move")
def move_hold(book_id, hold_id):
    form = HoldMoveForm()
    if not form.validate_on_submit():
        flash(" ".join(form.reason.errors or form.direction.errors) or "Say why you move them.", "error")
    else:
        hold, problem = attempt(lambda: backend().move_hold(current_user.token, hold_id, form.direction.data,
                                                            form.reason.data), "The loans service")
        flash(f"Moved {hold['username']} {form.direction.data}: now {ordinal(hold['position'])} in line." if hold
              else f"Not moved: {problem}", "success" if hold else "error")
    return redirect(url_for("manage.hold_queue", book_id=book_id))


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
    """A patron registered at the desk, in a category, with the contact details the desk keeps: no password from
    the librarian; the patron chooses one through the link we e-mail them (without an address, the librarian gives
    them one on their page)."""
    form = RegisterPatronForm()
    categories, _problem = attempt(lambda: backend().patron_categories(current_user.token), "The account service")
    # Without the list (user-service could not say) the field is left out: the account gets the default one.
    form.category.choices = [SelectChoice(category["code"], category["name"]) for category in categories or []]
    if not categories:
        del form.category
    elif not form.is_submitted():
        form.category.data = next((category["code"] for category in categories if category["default"]), None)
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
    return (f"{username} is registered, and the desk can lend to them now. To use the website they need a "
            "password: give them one below, or add an e-mail address and we will e-mail them a link to choose one.")


def account_or_404(username):
    return or_404(lambda: backend().user(current_user.token, username))


@bp.get("/users/<username>")
def patron(username):
    return patron_page(username)


def patron_page(username, email_form=None, contact_form=None, expiry_form=None):
    """A patron at a glance: their account, category, card and contact details, what they have (overdue first),
    what they wait for; with the form just sent (and its errors) or each form fresh. Each form but the address's
    has a prefix, so their fields' names and ids (their CSRF tokens' too) never clash."""
    token = current_user.token
    account = account_or_404(username)
    summary, problem = attempt(lambda: backend().patron(token, account["username"]), "The loans service")
    loans = backend().loans(token, username=account["username"], active="true", per_page=100) if summary else None
    holds = backend().holds(token, username=account["username"], status=["waiting", "ready"], per_page=100) \
        if summary else None
    categories, categories_problem = attempt(lambda: backend().patron_categories(token), "The account service")
    forms = {
        "email_form": email_form or PatronEmailForm(formdata=None, data={"email": account["email"]}),
        "contact_form": contact_form or PatronContactForm(prefix="contact", formdata=None, data=account),
        "expiry_form": expiry_form or CardExpiryForm(prefix="card", formdata=None, data={
            "card_expires_on": date.fromisoformat(account["card_expires_on"]) if account.get("card_expires_on")
            else None}),
        "category_form": PatronCategoryForm(prefix="category", formdata=None,
                                            data={"category": account.get("category")}),
    }
    forms["category_form"].category.choices = [SelectChoice(category["code"], category["name"])
                                               for category in categories or []]
    return render_template("manage/patron.html", account=account, summary=summary, problem=problem, loans=loans,
                           holds=holds, categories=categories, categories_problem=categories_problem,
                           titles=backend().titles([loan["book_id"] for loan in (loans.items if loans else [])
                                                    if not loan.get("title")]),
                           recent=patron_activity(account["username"]), **forms), status_of(*forms.values())


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


@bp.post("/users/<username>/category")
def change_patron_category(username):
    form = PatronCategoryForm(prefix="category")
    if not form.validate_on_submit():
        flash("Choose a category.", "error")
    else:
        changed, problem = attempt(lambda: backend().change_account(current_user.token, username,
                                                                    {"category": form.category.data}),
                                   "The account service")
        flash(f"{changed['username']} is now in the category “{form.category.data}”." if changed
              else f"Not changed: {problem}", "success" if changed else "error")
    return redirect(url_for("manage.patron", username=username, _anchor="card"))


@bp.post("/users/<username>/contact")
def change_patron_contact(username):
    """Phone, postal address and the staff's note: only librarians change them (and only they see the note)."""
    form = PatronContactForm(prefix="contact")
    if form.validate_on_submit():
        try:
            backend().change_account(current_user.token, username, form.contact_fields())
        except BackendError as error:
            apply_service_errors(form, error)
        else:
            flash("Saved the contact details.", "success")
            return redirect(url_for("manage.patron", username=username, _anchor="contact"))
    return patron_page(username, contact_form=form)


@bp.post("/users/<username>/card/renewal")
def renew_card(username):
    """Valid for the library's card period again, from today (user-service's CARD_VALIDITY_DAYS)."""
    renewed, problem = attempt(lambda: backend().renew_card(current_user.token, username), "The account service")
    flash(f"Renewed: {renewed['username']}'s card is valid until {nice_date(renewed['card_expires_on'])}." if renewed
          else f"Not renewed: {problem}", "success" if renewed else "error")
    return redirect(url_for("manage.patron", username=username, _anchor="card"))


@bp.post("/users/<username>/card/expiry")
def change_card_expiry(username):
    form = CardExpiryForm(prefix="card")
    if form.validate_on_submit():
        last_day = form.card_expires_on.data
        try:
            backend().change_account(current_user.token, username,
                                     {"card_expires_on": last_day.isoformat() if last_day else None})
        except BackendError as error:
            apply_service_errors(form, error)
        else:
            flash(f"The card is valid until {last_day.day} {last_day:%b %Y}." if last_day
                  else "The card never expires now.", "success")
            return redirect(url_for("manage.patron", username=username, _anchor="card"))
    return patron_page(username, expiry_form=form)


@bp.route("/users/<username>/card/replacement", methods=["GET", "POST"])
def replace_card(username):
    """Asks first (GET), then gives the patron a new card number (POST): the lost card stops working at once."""
    account = account_or_404(username)
    if request.method == "GET":
        return render_template("manage/confirm_replace_card.html", account=account)
    replaced, problem = attempt(lambda: backend().replace_card(current_user.token, account["username"]),
                                "The account service")
    if replaced is None:
        flash(f"No new card: {problem}", "error")
        return redirect(url_for("manage.patron", username=account["username"], _anchor="card"))
    flash(f"New card {replaced['card_number']}: the old one no longer works. Print the new card below.", "success")
    return redirect(url_for("manage.library_card", username=account["username"]))


@bp.get("/users/<username>/card")
def library_card(username):
    """The patron's card to print: name, number as a Code 128 barcode (what the desk's scanner reads), expiry."""
    account = account_or_404(username)
    if not account.get("card_number"):
        flash(f"{account['username']} has no card yet: give them one first.", "error")
        return redirect(url_for("manage.patron", username=account["username"], _anchor="card"))
    return render_template("manage/library_card.html", account=account,
                           barcode=code128_data_uri(account["card_number"]))


@bp.post("/users/<username>/desk-password")
def give_desk_password(username):
    """A first password for a patron no mailed link can reach, shown on this page alone: it is rendered in the
    answer to the POST, never put in a flash message (those travel in the session cookie, which the browser
    keeps), and like every page a librarian sees it is sent with Cache-Control: no-store (session.py)."""
    given, problem = attempt(lambda: backend().give_desk_password(current_user.token, username),
                             "The account service")
    if given is None:
        flash(f"No password given: {problem}", "error")
        return redirect(url_for("manage.patron", username=username))
    return render_template("manage/desk_password.html", given=given)


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
    if form.role.data == "librarian" and request.form.get("confirmed") != "yes":
        # a librarian sees every patron's details and loans and changes the catalogue: asked first
        return render_template("manage/confirm_role.html", username=username, form=form)
    try:
        user = backend().set_role(current_user.token, username, form.role.data)
    except BackendError as error:
        flash(error.message, "error")
    else:
        flash(f"{user['username']} is now a {user['role']}.", "success")
    return redirect(url_for("manage.users"))
