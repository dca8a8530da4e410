"""The inventory's rules: each copy of a book is an item with a barcode and a status of its own.

books-service owns items and their inventory status; borrow-service (circulation) owns who has an
item and which item waits on the hold shelf. An item that is out (on loan or on the hold shelf) must
not leave circulation, and a borrow must never hand out an item that just left: the change is made
first, then borrow-service is asked under its per-book lock (which every borrow of that book holds
while it picks an item) whether the item is out, and the change is undone when it is. A borrow
either picked the item before the change (and the check sees it out) or sees it gone.
"""

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from library_common import audit
from library_common.errors import Conflict, DependencyUnavailable, found
from library_common.transactions import transaction

from .item_types import require_item_type, unknown_item_type
from .models import Book, Item, db

CIRCULATING = "available"


def items_of(book_id):
    _book(book_id)
    return db.session.scalars(sa.select(Item).where(Item.book_id == book_id).order_by(Item.barcode)).all()


def get_item(barcode):
    return found(db.session.scalars(sa.select(Item).where(Item.barcode == barcode)).first(),
                 f"No item with barcode {barcode!r}")


def _book(book_id):
    return found(db.session.get(Book, book_id), f"No book with id {book_id}")


def _barcode_taken(exc):
    return "items_barcode_key" in str(exc.orig)


def _refused_write(exc, item_type):
    """The error a refused INSERT or UPDATE of an item stands for."""
    if _barcode_taken(exc):
        return Conflict("That barcode is already on another item", errors={"barcode": "Already on another item"})
    if "items_item_type_known" in str(exc.orig):  # the type was deleted between our check and the write
        return unknown_item_type(item_type)
    return exc


# What the audit trail keeps of an item's changes (library_common.audit).
ITEM_FIELDS = ("barcode", "status", "item_type", "call_number", "shelf_location", "format")
# Statuses of a copy that went missing: one back to circulation from them was found.
GONE = ("missing", "lost")


def audit_item(action, item, changes, barcode=None):
    """An entry about an item (under the barcode it had, when it changes), part of its book."""
    audit.record(action, barcode or item.barcode, related=f"book:{item.book_id}", changes=changes,
                 summary=f"{barcode or item.barcode} “{item.book.title}”")


def insert_items(book_id, count):
    """`count` new circulating items with generated barcodes (inside the caller's transaction)."""
    return db.session.scalars(sa.text("INSERT INTO items (book_id) SELECT :book_id FROM generate_series(1, :count) "
                                      "RETURNING barcode"), {"book_id": book_id, "count": count}).all()


def add_item(book_id, barcode=None, details=None):
    """A new circulating item of a book: with the barcode given, or the next generated one, and its shelf
    details (item type, call number, shelf location, format; the type defaults to a book)."""
    _book(book_id)
    details = details or {}
    if "item_type" in details:
        require_item_type(details["item_type"])
    try:
        with transaction():
            # without a barcode, the column's default (next_item_barcode()) makes one, read back after the INSERT
            item = Item(book_id=book_id, **({} if barcode is None else {"barcode": barcode}), **details)
            db.session.add(item)
            db.session.flush()
            barcode = item.barcode
            db.session.refresh(item)  # its defaults, and its book for the audit trail's summary
            audit_item("item.created", item, audit.created(item, ITEM_FIELDS))
    except IntegrityError as exc:
        raise _refused_write(exc, details.get("item_type")) from exc
    return get_item(barcode)


def change_item(barcode, changes, circulation, token):
    """A librarian changes an item. An item that is out (on loan or on the hold shelf) keeps its status and
    barcode (409), which circulation depends on; its type, call number, shelf location and format describe the
    copy and may change at any time, so only a change of status or barcode asks borrow-service."""
    item = get_item(barcode)
    if "item_type" in changes:
        require_item_type(changes["item_type"])
    leaves_circulation = item.status == CIRCULATING and changes.get("status", CIRCULATING) != CIRCULATING
    renamed = changes.get("barcode", barcode) != barcode
    # Every field the request changes, so a refusal puts all of them back: the request happens whole or not at all.
    before = {"status": item.status, "barcode": item.barcode} | {field: getattr(item, field) for field in changes}
    audited = audit.snapshot(item, ITEM_FIELDS)
    try:
        with transaction():
            for field, value in changes.items():
                setattr(item, field, value)
            found_again = before["status"] in GONE and item.status == CIRCULATING
            audit_item("item.found" if found_again else "item.updated", item, audit.changes(audited, item),
                       barcode=before["barcode"])
    except IntegrityError as exc:
        raise _refused_write(exc, changes.get("item_type")) from exc
    if leaves_circulation or renamed:
        _undo_if_out(item, before, circulation, token)
    return item


def delete_item(barcode, circulation, token):
    item = get_item(barcode)
    book_id, before = item.book_id, {"status": item.status, "barcode": item.barcode}
    kept = audit.snapshot(item, ITEM_FIELDS)
    with transaction():
        item.status = "withdrawn"  # out of circulation first, so no borrow picks it while we ask
    _undo_if_out(item, before, circulation, token, audited=False)
    with transaction():
        audit_item("item.deleted", item, audit.deleted(kept, ITEM_FIELDS))
        db.session.delete(item)
    return book_id


OUT = ("on_loan", "on_hold_shelf")


def _undo_if_out(item, before, circulation, token, audited=True):
    """Ask borrow-service (under its lock on the book) whether the item is out; if it is, or if it cannot
    say, put the item back as it was and refuse."""
    try:
        state = circulation.book_state(item.book_id, token).items.get(before["barcode"], {}).get("state")
    except DependencyUnavailable:
        _restore(item, before, audited)
        raise
    if state in OUT:
        _restore(item, before, audited)
        where = "on loan" if state == "on_loan" else "on the hold shelf"
        raise Conflict(f"Item {before['barcode']} is {where}; check it in first")


def _restore(item, before, audited):
    """Put back a change refused because the item is out. The trail has the change when it was `audited`, and then
    this too, in the request's name: both were made."""
    with transaction():
        changed = audit.snapshot(item, ITEM_FIELDS)
        for field, value in before.items():
            setattr(item, field, value)
        if audited:
            audit_item("item.updated", item, audit.changes(changed, item), barcode=changed["barcode"])


def withdraw_free_items(book, count, circulation, token):
    """Take `count` circulating items of `book` that are not out out of circulation (lowering its copies)."""
    candidates = [item for item in reversed(book.items) if item.status == CIRCULATING]
    restore_status(candidates, "withdrawn")
    try:
        state = circulation.book_state(book.id, token)
    except DependencyUnavailable:
        restore_status(candidates, CIRCULATING)
        raise
    free = [item for item in candidates if state.items.get(item.barcode, {}).get("state") not in OUT]
    if len(free) - state.unnumbered_loans < count:  # a loan from before barcodes holds one of the free ones
        restore_status(candidates, CIRCULATING)
        raise Conflict(f"{state.out} copies are out (on loan or on the hold shelf); copies cannot go below that",
                       errors={"copies": f"At least {state.out} (copies out)"})
    restore_status([item for item in candidates if item not in free[:count]], CIRCULATING)


def restore_status(items, status):
    """Set the items' status in one transaction."""
    with transaction():
        for item in items:
            item.status = status
