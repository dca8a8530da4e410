"""Patron categories: the kinds of patron a library names (adult, child, staff...), each account in exactly one.

user-service only keeps them and says which one each account is in (`category` in GET /users/<username>);
what a category may do (how many loans, for how long) is borrow-service's business. The code is the category's
identity, used by the other services, so it never changes; the name does.
"""

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from library_common import audit
from library_common.errors import BadRequest, Conflict, NotFound
from library_common.transactions import transaction

from .models import DEFAULT_CATEGORY, PatronCategory, User, db

CODE_RULE = "1 to 32 lower-case letters, digits, '_' or '-'"


def _counts():
    """{code: live accounts in it}; tombstones keep no category worth counting (see accounts.delete_user)."""
    rows = db.session.execute(select(User.category, func.count()).where(User.deleted_at.is_(None))
                              .group_by(User.category)).all()
    return dict(rows)


def _described(category, patrons):
    return {"code": category.code, "name": category.name, "patrons": patrons,
            "default": category.code == DEFAULT_CATEGORY}


def list_categories():
    """Every category, by name, with how many accounts are in it."""
    counts = _counts()
    categories = db.session.scalars(select(PatronCategory).order_by(func.lower(PatronCategory.name))).all()
    return [_described(category, counts.get(category.code, 0)) for category in categories]


def _found(code, lock=False):
    statement = select(PatronCategory).where(PatronCategory.code == code)
    category = db.session.scalars(statement.with_for_update() if lock else statement).first()
    if category is None:
        raise NotFound(f"No patron category {code!r}")
    return category


def _patrons_in(code):
    return db.session.scalar(select(func.count()).select_from(User)
                             .where(User.category == code, User.deleted_at.is_(None)))


def _name_taken(name, but_not=None):
    statement = select(PatronCategory).where(func.lower(PatronCategory.name) == name.lower())
    if but_not is not None:
        statement = statement.where(PatronCategory.code != but_not)
    return db.session.scalars(statement).first() is not None


def _refuse_taken_name(name, but_not=None):
    if _name_taken(name, but_not):
        raise Conflict(f"Another category is named “{name}”", errors={"name": "Another category has this name"})


def create(code, name):
    if db.session.get(PatronCategory, code) is not None:
        raise Conflict(f"There is a category {code!r} already", errors={"code": "This code is taken"})
    _refuse_taken_name(name)
    try:
        with transaction():
            category = PatronCategory(code=code, name=name)
            db.session.add(category)
            audit.record("category.created", code, summary=name, changes={"name": {"after": name}})
    except IntegrityError as exc:  # the same code or name added by a concurrent request since our check
        raise Conflict(f"There is a category {code!r} or named “{name}” already") from exc
    return _described(category, 0)


def rename(code, name):
    _found(code)
    _refuse_taken_name(name, but_not=code)
    try:
        with transaction():
            category = _found(code, lock=True)
            audit.record("category.updated", code, summary=name,
                         changes=audit.changes({"name": category.name}, {"name": name}))
            category.name = name
    except IntegrityError as exc:
        raise Conflict(f"Another category is named “{name}”") from exc
    return _described(category, _patrons_in(code))


def delete(code):
    """Remove an empty category. Its row is locked first: an account being moved into it meanwhile waits for this
    transaction (the foreign key's check locks the row too), then fails as an unknown category."""
    if code == DEFAULT_CATEGORY:
        raise Conflict(f"“{code}” is the category new accounts get; it cannot be deleted (rename it instead)")
    try:
        with transaction():
            category = _found(code, lock=True)
            patrons = _patrons_in(code)
            if patrons:
                raise Conflict(f"{patrons} patron{'s are' if patrons != 1 else ' is'} in “{category.name}”: move "
                               "them to another category first")
            audit.record("category.deleted", code, summary=category.name, changes={"name": {"before": category.name}})
            db.session.delete(category)
    except IntegrityError as exc:  # the foreign key's last word: an account we did not count still names it
        raise Conflict(f"Accounts are still in {code!r}: move them to another category first") from exc


def check_exists(code):
    """The category `code` for an account (400 with the choices when there is none)."""
    if db.session.get(PatronCategory, code) is None:
        choices = ", ".join(db.session.scalars(select(PatronCategory.code).order_by(PatronCategory.code)))
        raise unknown_category(code, choices)
    return code


def unknown_category(code, choices=None):
    known = f": choose one of {choices}" if choices else ""
    message = f"No patron category {code!r}{known}"
    return BadRequest("Invalid input", errors={"category": message})
