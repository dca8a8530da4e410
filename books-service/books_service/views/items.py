"""A book's copies as items with barcodes: listed for anyone, added, changed and removed by librarians."""

from library_common.api import Blueprint
from library_common.auth import current_principal

from .. import inventory
from ..deps import deps
from ..schemas import ItemChangesSchema, ItemInputSchema, ItemSchema

blp = Blueprint("items", __name__, description="Copies of books (items with barcodes)")


@blp.route("/books/<id:book_id>/items")
@blp.response(200, ItemSchema(many=True))
@blp.errors(404)
def list_items(book_id):
    """A book's items, by barcode"""
    return inventory.items_of(book_id)


@blp.route("/books/<id:book_id>/items", methods=["POST"])
@blp.librarian_required
@blp.arguments(ItemInputSchema, required=False)
@blp.response(201, ItemSchema)
@blp.errors(400, 404, 409)
def add_item(fields, book_id):
    """Add a copy (librarians); without a barcode it gets the next generated one, without an item type a book's"""
    barcode = fields.pop("barcode", None)
    return inventory.add_item(book_id, barcode, fields)


@blp.route("/items/<path:barcode>")
@blp.response(200, ItemSchema)
@blp.errors(404)
def get_item(barcode):
    """One item, by barcode"""
    return inventory.get_item(barcode)


@blp.route("/items/<path:barcode>", methods=["PATCH"])
@blp.librarian_required
@blp.arguments(ItemChangesSchema)
@blp.response(200, ItemSchema)
@blp.errors(400, 404, 409, 503)
def change_item(changes, barcode):
    """Change an item (librarians): its status or barcode not while it is on loan or on the hold shelf; its item
    type, call number, shelf location and format at any time"""
    return inventory.change_item(barcode, changes, deps().circulation, current_principal().token)


@blp.route("/items/<path:barcode>", methods=["DELETE"])
@blp.librarian_required
@blp.response(204)
@blp.errors(404, 409, 503)
def delete_item(barcode):
    """Remove an item (librarians); not while it is on loan or on the hold shelf"""
    inventory.delete_item(barcode, deps().circulation, current_principal().token)
