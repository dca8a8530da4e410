"""The seed's `GET/POST /books` and `GET /books/<id>`, plus changes and removal by librarians."""

from library_common.api import Blueprint
from library_common.auth import current_principal
from library_common.pagination import CAPPED_HEADER_DOC, PAGE_HEADERS_DOC, offset, page_headers

from .. import catalogue
from ..deps import deps
from ..schemas import BookChangesSchema, BookInputSchema, BookListArgs, BookLookupArgs, BookSchema

blp = Blueprint("books", __name__, description="The catalogue")


def _expensive(args):
    return args.get("sort") == "relevance" or bool(args.get("available"))


@blp.route("/books")
@blp.arguments(BookListArgs, location="query")
@blp.response(200, BookSchema(many=True), headers=PAGE_HEADERS_DOC | CAPPED_HEADER_DOC)
@blp.errors(400, 503)
@blp.rate_limited("expensive_search", when=_expensive)
def list_books(args):
    """Search and browse the catalogue; `available` is null when loans cannot be checked.

    Searches and filters other than genre count at most 500 matches (see X-Total-Count-Capped).
    `sort=relevance` and `available=true` are limited per client (RATE_LIMIT_EXPENSIVE_SEARCH)."""
    query = catalogue.BookQuery(
        q=args.get("q"),
        ids=tuple(args["id"]) if "id" in args else None,
        genre=args.get("genre"),
        author=args.get("author"),
        only_available=bool(args.get("available")),
        availability=args["availability"],
        sort=args.get("sort"),
        offset=offset(args),
        limit=args["per_page"],
    )
    books, total = catalogue.browse(query, deps().circulation)
    return books, 200, page_headers(total.count, args["page"], args["per_page"], total.complete)


@blp.route("/books", methods=["POST"])
@blp.librarian_required
@blp.arguments(BookInputSchema)
@blp.response(201, BookSchema)
@blp.errors(400, 401, 403, 409)
def add_book(fields):
    """Add a book (librarians)"""
    return catalogue.add_book(fields)


@blp.route("/books/<id:book_id>")
@blp.arguments(BookLookupArgs, location="query")
@blp.response(200, BookSchema)
@blp.errors(400, 404)
def get_book(args, book_id):
    """One book, with its availability"""
    return catalogue.describe(book_id, deps().circulation, availability=args["availability"])


@blp.route("/books/<id:book_id>", methods=["PUT"])
@blp.librarian_required
@blp.arguments(BookInputSchema)
@blp.response(200, BookSchema)
@blp.errors(400, 401, 403, 404, 409, 503)
def replace_book(fields, book_id):
    """Replace a book's details (librarians); omitted optional fields are cleared"""
    return catalogue.replace_book(book_id, fields, deps().circulation, current_principal().token)


@blp.route("/books/<id:book_id>", methods=["PATCH"])
@blp.librarian_required
@blp.arguments(BookChangesSchema(partial=True))
@blp.response(200, BookSchema)
@blp.errors(400, 401, 403, 404, 409, 503)
def patch_book(changes, book_id):
    """Change some of a book's details (librarians); copies cannot go below those on loan"""
    return catalogue.update_book(book_id, changes, deps().circulation, current_principal().token)


@blp.route("/books/<id:book_id>", methods=["DELETE"])
@blp.librarian_required
@blp.response(204)
@blp.errors(401, 403, 404, 409, 503)
def delete_book(book_id):
    """Remove a book (librarians); refused while copies are on loan"""
    catalogue.delete_book(book_id, deps().circulation, current_principal().token)
