"""The library's list of item types: everyone reads it, librarians add, rename and delete them."""

from library_common.api import Blueprint

from .. import item_types
from ..schemas import ItemTypeInputSchema, ItemTypeNameSchema, ItemTypeSchema

blp = Blueprint("item_types", __name__, description="Item types: what kind of material each copy is")


@blp.route("/item-types")
@blp.response(200, ItemTypeSchema(many=True))
def list_item_types():
    """Every item type, by name, with its number of copies"""
    return item_types.list_item_types()


@blp.route("/item-types", methods=["POST"])
@blp.librarian_required
@blp.arguments(ItemTypeInputSchema)
@blp.response(201, ItemTypeSchema)
@blp.errors(409)
def add_item_type(fields):
    """Add an item type (librarians); 409 when its code is taken"""
    return item_types.add_item_type(fields["code"], fields["name"])


@blp.route("/item-types/<code>", methods=["PATCH"])
@blp.librarian_required
@blp.arguments(ItemTypeNameSchema)
@blp.response(200, ItemTypeSchema)
@blp.errors(404)
def rename_item_type(fields, code):
    """Rename an item type (librarians); its code stays"""
    return item_types.rename_item_type(code, fields["name"])


@blp.route("/item-types/<code>", methods=["DELETE"])
@blp.librarian_required
@blp.response(204)
@blp.errors(404, 409)
def delete_item_type(code):
    """Delete an item type (librarians); 409 while a copy has it, and for the type new copies get"""
    item_types.delete_item_type(code)
