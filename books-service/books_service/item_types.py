"""The library's list of item types: what kind of material each copy is (a book, a reference copy, a DVD...), so
that loan rules can tell them apart. Everyone reads the list; librarians add, rename and delete types."""

import re

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from library_common import audit
from library_common.errors import BadRequest, Conflict, NotFound
from library_common.transactions import transaction

from .models import DEFAULT_ITEM_TYPE, ITEM_TYPE_CODE, Item, ItemType, db


def _copies_of_each_type():
    return (sa.select(ItemType.code, ItemType.name, sa.func.count(Item.id).label("items"))
            .outerjoin(Item, Item.item_type == ItemType.code)
            .group_by(ItemType.code))


def _listed(row):
    return {"code": row.code, "name": row.name, "items": row.items}


def list_item_types():
    """Every item type, by name, with how many copies have it."""
    return [_listed(row) for row in db.session.execute(_copies_of_each_type().order_by(ItemType.name, ItemType.code))]


def get_item_type(code):
    # A code that cannot exist is not looked up: a path segment may hold anything, a NUL byte included,
    # which PostgreSQL would refuse with an error rather than find nothing.
    if re.fullmatch(ITEM_TYPE_CODE.strip("^$"), code) is not None:
        row = db.session.execute(_copies_of_each_type().where(ItemType.code == code)).first()
        if row is not None:
            return _listed(row)
    raise NotFound(f"No item type {code!r}")


def require_item_type(code):
    """Refuse (400) a copy given an item type the list does not have: the request is wrong, not the copy."""
    if db.session.get(ItemType, code) is None:
        raise unknown_item_type(code)


def unknown_item_type(code):
    return BadRequest(f"No item type {code!r}: choose one from GET /item-types",
                      errors={"item_type": "No such item type"})


def add_item_type(code, name):
    with transaction():
        # ON CONFLICT: a type added by a concurrent request a moment before is a conflict, not a server error
        added = db.session.scalar(insert(ItemType).values(code=code, name=name).on_conflict_do_nothing()
                                  .returning(ItemType.code))
        if added is not None:
            audit.record("item_type.created", code, summary=name, changes={"name": {"after": name}})
    if added is None:
        existing = db.session.get(ItemType, code)
        raise Conflict(f"The item type {code!r} already exists (“{existing.name if existing else code}”)",
                       errors={"code": "Already in the list"})
    return get_item_type(code)


def rename_item_type(code, name):
    """A new name; the code, which copies and loan rules refer to, stays."""
    listed = get_item_type(code)
    with transaction():
        db.session.execute(sa.update(ItemType).where(ItemType.code == code).values(name=name))
        audit.record("item_type.renamed", code, summary=name,
                     changes=audit.changes({"name": listed["name"]}, {"name": name}))
    return get_item_type(code)


def delete_item_type(code):
    """Remove a type no copy has; the default, which new copies get, is never removed."""
    listed = get_item_type(code)
    if code == DEFAULT_ITEM_TYPE:
        raise Conflict(f"“{listed['name']}” is the type new copies get, so it cannot be deleted (rename it instead)")
    try:
        with transaction():
            db.session.execute(sa.delete(ItemType).where(ItemType.code == code))
            audit.record("item_type.deleted", code, summary=listed["name"],
                         changes={"name": {"before": listed["name"]}})
    except IntegrityError as exc:  # the foreign key refuses while a copy has it, even one given it a moment ago
        raise _in_use(code) from exc


def _in_use(code):
    listed = get_item_type(code)
    copies = f"{listed['items']} cop{'y has' if listed['items'] == 1 else 'ies have'}"
    return Conflict(f"{copies} the item type “{listed['name']}”: give them another type before deleting it")
