"""The catalogue (home page) and each book's page, with the panel that says what you can do with it:
borrow it, place a hold when every copy is out, or see your loan of it or your place in line."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from library_common.errors import DependencyUnavailable

from ..backend import BackendError
from ..errors import is_htmx
from ..forms import FILTERS, ITEM_FORMATS, ItemForm, SearchForm
from ..formatting import nice_date
from .activity import book_activity
from .common import attempt, backend, book_or_404, or_404, page_number, page_or_fragment

bp = Blueprint("catalogue", __name__)
PER_PAGE = 20
# The image types books-service keeps covers in (its models.COVER_TYPES): nothing else is passed on as a cover.
COVER_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
FILTER_NAMES = {"genre": "Genre", "author": "Author", "language": "Language", "decade": "Published",
                "available": "Available now"}


@bp.get("/")
def index():
    """The catalogue: a search and its filters (facets) come from the address, so every view is bookmarkable
    and the back button works; the facets beside the results add and remove filters."""
    form = SearchForm(request.args)
    search = (form.q.data or "").strip()
    filters = {name: value[:200] for name in FILTERS if (value := request.args.get(name, "").strip())}
    if "available" in filters:
        filters["available"] = "true"
    state = filters | ({"q": search} if search else {}) | ({"sort": form.sort.data} if form.sort.data else {})
    params = {"page": page_number(), "per_page": PER_PAGE, **state}
    if search and not form.sort.data:
        params["sort"] = "relevance"  # best match, the default for a search
    books, facets, problem = None, None, None
    try:
        books = backend().books(**params)
    except DependencyUnavailable:
        problem = "The catalogue is unavailable right now. Please try again in a moment."
    except BackendError as error:
        problem = error.message
    if books is not None:
        searched = books.showing_results_for or search  # the facets of the books shown
        try:
            facets = backend().facets(**filters, **({"q": searched} if searched else {}))
        except (DependencyUnavailable, BackendError):
            facets = None  # the results stand on their own
    return page_or_fragment("catalogue.html", "_results.html", "results", form=form, books=books, facets=facets,
                            problem=problem, state=state, filters=filters, filter_names=FILTER_NAMES,
                            filter_labels={name: _label(name, value, facets) for name, value in filters.items()})


def _label(name, value, facets):
    """How a filter in use reads: the facet's own label ("English" for en) when the facets carry it."""
    if name == "available":  # not a list of values: the facets give the number of books available now
        return "Available now"
    for entry in (facets or {}).get(name) or []:
        if entry["value"] == value:
            return entry["label"]
    return f"{value}s" if name == "decade" else value


@bp.app_template_global()
def params_with(params, **changes):
    """`params` with some changed, and those changed to None left out: the address of a facet's link."""
    return {name: value for name, value in (params | changes).items() if value is not None}


@bp.get("/suggestions")
def suggestions():
    """Titles and authors for the search box's list as someone types (htmx fills a <datalist>)."""
    text = request.args.get("q", "").strip()[:200]
    try:
        found = backend().suggestions(text) if len(text) >= 2 else []
    except (BackendError, DependencyUnavailable):
        found = []  # a nicety: without it the search box still searches
    return render_template("_suggestions.html", suggestions=found)


def panel_context(book_id, **context):
    """What the book's panel needs: the book, and for a logged-in reader their standing with it (None when
    borrow-service cannot say)."""
    book = book_or_404(book_id)
    patron = None
    if current_user.is_authenticated:
        patron, _problem = attempt(lambda: backend().patron(current_user.token, current_user.username, book_id),
                                   "The loans service")
    return {"book": book, "patron": patron, **context}


@bp.get("/books/<int:book_id>")
def book(book_id):
    context = panel_context(book_id)
    items, problem = attempt(lambda: backend().items(book_id), "The catalogue")
    context["shelf_places"] = shelf_places(items or [])
    if current_user.is_authenticated and current_user.is_librarian:
        context |= copies_context(book_id, items, problem) | {"recent": book_activity(book_id)}
    return render_template("book.html", **context)


def shelf_places(items):
    """Where readers find the book's copies on the shelves: each distinct place of its copies that can circulate
    (shelf location, call number, and the copy's type and format where they tell readers something), with how
    many copies are kept there. Nothing when no copy says where it is."""
    places = {}
    for item in items:
        if item["status"] != "available":  # missing, lost, damaged or withdrawn: not on any shelf
            continue
        key = (item.get("shelf_location"), item.get("call_number"), item.get("item_type") or "book",
               item.get("format"))
        places[key] = places.get(key, 0) + 1
    if not any(location or call_number or item_type != "book" for location, call_number, item_type, _ in places):
        return []
    names = item_type_names() if any(item_type != "book" for _, _, item_type, _ in places) else {}
    return [{"where": " · ".join(part for part in (location, call_number) if part),
             "item_type": None if item_type == "book" else names.get(item_type, item_type),
             "format": ITEM_FORMATS.get(format_), "copies": copies}
            for (location, call_number, item_type, format_), copies in places.items()]


def item_type_names():
    """{code: name} of the library's item types; empty when books-service cannot say (the codes are shown)."""
    found, _problem = attempt(lambda: backend().item_types(), "The catalogue")
    return {item_type["code"]: item_type["name"] for item_type in found or []}


@bp.get("/books/<int:book_id>/cover")
def cover(book_id):
    """The book's cover, from books-service, which fetched and keeps it: the reader's browser asks only the
    library, so no third party hears what they look at. Its ETag and caching are books-service's."""
    answer = or_404(lambda: backend().cover(book_id, request.headers.get("If-None-Match")))
    content_type = answer.headers.get("Content-Type")
    if answer.status_code == 200 and content_type not in COVER_TYPES:
        abort(404)
    response = Response(answer.content if answer.status_code == 200 else b"", status=answer.status_code,
                        content_type=content_type if answer.status_code == 200 else None)
    for header in ("ETag", "Cache-Control"):
        if header in answer.headers:
            response.headers[header] = answer.headers[header]
    return response


def copies_context(book_id, items, problem):
    """A librarian's view of a book's copies: each item, who has the ones that are out, and the form to add one
    (filled in like the book's first copy: further copies are mostly shelved alike)."""
    out, _unknown = attempt(lambda: backend().copies_out(current_user.token, book_id), "The loans service")
    types, _problem = attempt(lambda: backend().item_types(), "The catalogue")
    like = (items or [{}])[0]
    add_form = ItemForm(formdata=None, prefix=ItemForm.PREFIX, data={field: like.get(field) for field in
                                            ("item_type", "call_number", "shelf_location", "format")
                                            if like.get(field)}).with_item_types(types or [])
    return {"items": items or [], "items_problem": problem, "copies_out": (out or {}).get("items"),
            "new_barcodes": request.args.getlist("added"), "add_item_form": add_form, "item_formats": ITEM_FORMATS,
            "item_type_names": {item_type["code"]: item_type["name"] for item_type in types or []}}


def panel_or_back(book_id, done=None, problem=None):
    """htmx: the book's panel, updated; otherwise back to the book page with the news."""
    if is_htmx():
        return render_template("_borrow_panel.html", **panel_context(book_id, done=done, problem=problem))
    flash(done or problem, "success" if done else "error")
    return redirect(url_for("catalogue.book", book_id=book_id))


@bp.post("/books/<int:book_id>/borrow")
@login_required
def borrow(book_id):
    loan, problem = attempt(lambda: backend().borrow(current_user.token, book_id), "Borrowing")
    return panel_or_back(book_id, loan and f"Borrowed! Please return it by {nice_date(loan['due_date'])}.", problem)


@bp.post("/books/<int:book_id>/loans/<int:loan_id>/renew")
@login_required
def renew(book_id, loan_id):
    loan, problem = attempt(lambda: backend().renew(current_user.token, loan_id), "The loans service")
    return panel_or_back(book_id, loan and f"Renewed: now due {nice_date(loan['due_date'])}.", problem)


@bp.post("/books/<int:book_id>/loans/<int:loan_id>/return")
@login_required
def return_book(book_id, loan_id):
    loan, problem = attempt(lambda: backend().return_loan(current_user.token, loan_id), "The loans service")
    return panel_or_back(book_id, loan and "Returned. Thank you!", problem)


@bp.post("/books/<int:book_id>/hold")
@login_required
def place_hold(book_id):
    hold, problem = attempt(lambda: backend().place_hold(current_user.token, book_id), "The loans service")
    return panel_or_back(book_id, hold and "Hold placed: we will set a copy aside for you and tell you when it is "
                                           "ready.", problem)


@bp.post("/books/<int:book_id>/holds/<int:hold_id>/cancel")
@login_required
def cancel_hold(book_id, hold_id):
    hold, problem = attempt(lambda: backend().cancel_hold(current_user.token, hold_id), "The loans service")
    return panel_or_back(book_id, hold and "Your hold is cancelled.", problem)
