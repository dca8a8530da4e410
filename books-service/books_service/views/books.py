"""The seed's `GET/POST /books` and `GET /books/<id>`, plus changes and removal by librarians, facets and
search-box suggestions."""

from urllib.parse import quote

from flask import Response, request

from library_common.api import Blueprint
from library_common.auth import current_principal
from library_common.pagination import CAPPED_HEADER_DOC, PAGE_HEADERS_DOC, offset, page_headers

from .. import catalogue, covers, jobs
from ..deps import deps
from ..models import COVER_TYPES
from ..schemas import (BookChangesSchema, BookFilterArgs, BookInputSchema, BookListArgs, BookLookupArgs, BookSchema,
                       FacetsSchema, SuggestionArgs, SuggestionSchema)

blp = Blueprint("books", __name__, description="The catalogue")


SPELLING_HEADERS_DOC = {
    "X-Did-You-Mean": {
        "description": "A search that found 5 books or fewer: the corrected search (percent-encoded UTF-8) that "
                       "finds more", "schema": {"type": "string"}},
    "X-Showing-Results-For": {
        "description": "Present when the search as typed found nothing: the books listed are the corrected "
                       "search's (percent-encoded UTF-8)", "schema": {"type": "string"}},
    "X-Sorted-By": {
        "description": "title: relevance was asked for, but the search has more than 500 matches, too many to "
                       "rank; they are listed in title order", "schema": {"type": "string", "enum": ["title"]}},
}


def book_query(args, **page):
    return catalogue.BookQuery(
        q=args.get("q"),
        ids=tuple(args["id"]) if "id" in args else None,
        genre=args.get("genre"),
        author=args.get("author"),
        language=args.get("language"),
        decade=args.get("decade"),
        only_available=bool(args.get("available")),
        **page,
    )


def _expensive(args):
    return args.get("sort") == "relevance" or bool(args.get("available"))


@blp.route("/books")
@blp.arguments(BookListArgs, location="query")
@blp.response(200, BookSchema(many=True), headers=PAGE_HEADERS_DOC | CAPPED_HEADER_DOC | SPELLING_HEADERS_DOC)
@blp.errors(503)
@blp.rate_limited("expensive_search", when=_expensive)
def list_books(args):
    """Search and browse the catalogue; `available` is null when loans cannot be checked.

    Searches and filters other than genre count at most 500 matches (see X-Total-Count-Capped). A search
    that finds nothing answers with a corrected search's books when one finds some (X-Did-You-Mean).
    `sort=relevance` and `available=true` are limited per client (RATE_LIMIT_EXPENSIVE_SEARCH)."""
    query = book_query(args, availability=args["availability"], sort=args.get("sort"), offset=offset(args),
                       limit=args["per_page"])
    found = catalogue.browse(query, deps().circulation, deps().vocabulary)
    headers = page_headers(found.total.count, args["page"], args["per_page"], found.total.complete)
    if found.by_title_instead:
        headers["X-Sorted-By"] = "title"
    if found.did_you_mean:
        headers["X-Did-You-Mean"] = quote(" ".join(found.did_you_mean))
        if found.corrected:
            headers["X-Showing-Results-For"] = headers["X-Did-You-Mean"]
    return found.books, 200, headers


@blp.route("/books/facets")
@blp.arguments(BookFilterArgs, location="query")
@blp.response(200, FacetsSchema)
@blp.errors(503)
def book_facets(args):
    """How many matching books have each genre, author, language and decade (the same filters as GET /books)"""
    return catalogue.facet_counts(book_query(args), deps().circulation)


@blp.route("/books/suggestions")
@blp.arguments(SuggestionArgs, location="query")
@blp.response(200, SuggestionSchema(many=True))
def book_suggestions(args):
    """Titles and authors whose words start with what was typed, for a search box"""
    return catalogue.suggestions(args["q"])


@blp.route("/books", methods=["POST"])
@blp.librarian_required
@blp.arguments(BookInputSchema)
@blp.response(201, BookSchema)
@blp.errors(409)
def add_book(fields):
    """Add a book (librarians); its cover_url is fetched in the background"""
    book = catalogue.add_book(fields)
    if book.cover_url:
        jobs.fetch_covers_soon()
    return book


@blp.route("/books/<id:book_id>")
@blp.arguments(BookLookupArgs, location="query")
@blp.response(200, BookSchema)
@blp.errors(404)
def get_book(args, book_id):
    """One book, with its availability; its `version` is also its ETag (send it back as If-Match to change it)"""
    book = catalogue.describe(book_id, deps().circulation, availability=args["availability"])
    return book, 200, {"ETag": catalogue.version_of(book)}


@blp.route("/books/<id:book_id>", methods=["PUT"])
@blp.librarian_required
@blp.arguments(BookInputSchema)
@blp.response(200, BookSchema)
@blp.errors(404, 409, 412, 503)
def replace_book(fields, book_id):
    """Replace a book's details (librarians); omitted optional fields are cleared. With If-Match (its ETag or
    `version`), 412 when it was saved by someone else since"""
    book = catalogue.replace_book(book_id, fields, deps().circulation, current_principal().token,
                                  request.headers.get("If-Match"))
    if book.cover_url:
        jobs.fetch_covers_soon()
    return book


@blp.route("/books/<id:book_id>", methods=["PATCH"])
@blp.librarian_required
@blp.arguments(BookChangesSchema(partial=True))
@blp.response(200, BookSchema)
@blp.errors(404, 409, 412, 503)
def patch_book(changes, book_id):
    """Change some of a book's details (librarians); copies cannot go below those on loan. With If-Match (its
    ETag or `version`), 412 when it was saved by someone else since"""
    book = catalogue.update_book(book_id, changes, deps().circulation, current_principal().token,
                                 request.headers.get("If-Match"))
    if changes.get("cover_url"):
        jobs.fetch_covers_soon()
    return book


@blp.route("/books/<id:book_id>", methods=["DELETE"])
@blp.librarian_required
@blp.response(204)
@blp.errors(404, 409, 503)
def delete_book(book_id):
    """Remove a book (librarians); refused while copies are on loan"""
    catalogue.delete_book(book_id, deps().circulation, current_principal().token)


# A cover changes only with its book's cover_url, and then its ETag does too: a day's caching is safe, and a
# browser that asks again after it is answered 304 when nothing changed.
COVER_MAX_AGE = 24 * 60 * 60
COVER_HEADERS_DOC = {
    "ETag": {"description": "The image's SHA-256: send it back in If-None-Match", "schema": {"type": "string"}},
    "Cache-Control": {"description": "public, max-age=86400", "schema": {"type": "string"}},
}


def _image_responses(view):
    for content_type in COVER_TYPES:
        view = blp.response(200, {"type": "string", "format": "binary"}, content_type=content_type,
                            description="The cover, as fetched (its type known from its bytes)",
                            headers=COVER_HEADERS_DOC)(view)
    return view


@blp.route("/books/<id:book_id>/cover")
@_image_responses
@blp.alt_response(304, description="Not modified: the ETag sent in If-None-Match is the cover's",
                  headers=COVER_HEADERS_DOC)
@blp.errors(404)
def get_cover(book_id):
    """The book's cover image, fetched and kept by the library (anyone); 404 while it has none"""
    cover = covers.cover_of(book_id)
    response = Response(cover.content, mimetype=cover.content_type)
    response.set_etag(cover.etag)
    response.cache_control.public = True
    response.cache_control.max_age = COVER_MAX_AGE
    response.headers["X-Content-Type-Options"] = "nosniff"  # the type is the bytes' own: never guessed again
    return response.make_conditional(request)
