"""Patron categories (adult, child, staff...): every account is in one; librarians keep the list."""

from library_common.api import Blueprint
from library_common.errors import NotFound

from .. import categories
from ..schemas import CATEGORY_CODE, CategoryRenameSchema, CategorySchema, NewCategorySchema

blp = Blueprint("categories", __name__, description="Patron categories")


def _code(code):
    """A code from the path, or 404 before any query (a code can only be what CATEGORY_CODE allows)."""
    if CATEGORY_CODE.regex.fullmatch(code) is None:
        raise NotFound(f"No patron category {code!r}")
    return code


@blp.route("/patron-categories")
@blp.token_required
@blp.response(200, CategorySchema(many=True))
def list_categories():
    """Every patron category by name, with how many accounts are in it (anyone logged in, and the library's
    services)"""
    return categories.list_categories()


@blp.route("/patron-categories", methods=["POST"])
@blp.librarian_required
@blp.arguments(NewCategorySchema)
@blp.response(201, CategorySchema)
@blp.errors(409)
def create_category(body):
    """Add a patron category (librarians); 409 when the code or the name is taken"""
    return categories.create(body["code"], body["name"])


@blp.route("/patron-categories/<code>", methods=["PATCH"])
@blp.librarian_required
@blp.arguments(CategoryRenameSchema)
@blp.response(200, CategorySchema)
@blp.errors(404, 409)
def rename_category(body, code):
    """Rename a patron category (librarians); its code never changes"""
    return categories.rename(_code(code), body["name"])


@blp.route("/patron-categories/<code>", methods=["DELETE"])
@blp.librarian_required
@blp.response(204)
@blp.errors(404, 409)
def delete_category(code):
    """Delete a patron category nobody is in (librarians); 409 while accounts are in it, and for the default
    category (adult), which new accounts get"""
    categories.delete(_code(code))
