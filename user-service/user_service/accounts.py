"""Accounts: registration, authentication and profile changes, as plain functions over the database."""

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from library_common.auth import ACCOUNT_CHANGED, LIBRARIAN, PATRON
from library_common.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from library_common import events
from library_common.search_text import fold
from library_common.transactions import transaction

from . import throttle
from .models import User, db

INVALID_LOGIN = "Invalid username or password"
TAKEN = "That username is taken"
# A deleted account's password hash: no password matches it (werkzeug finds no method in it).
NO_PASSWORD = "!"


class PasswordHasher:
    """Hashes passwords; also keeps a hash to check against for unknown users, so timing says nothing."""

    def __init__(self, method):
        self.method = method
        self._decoy = generate_password_hash("decoy-password", method=method)

    def hash(self, password):
        return generate_password_hash(password, method=self.method)

    def matches(self, stored_hash, password):
        return check_password_hash(stored_hash or self._decoy, password)


def _named(username):
    return select(User).where(func.lower(User.username) == username.lower())


def find_user(username):
    """The live account of that name (any letter case), or None; deleted accounts are not found."""
    return db.session.scalars(_named(username).where(User.deleted_at.is_(None))).first()


def get_user(username):
    user = find_user(username)
    if user is None:
        raise NotFound(f"No user named {username!r}")
    return user


def account_for(actor, username):
    """The account `actor` asked to see: their own, or anyone's for a librarian."""
    if not actor.may_act_for(username):
        raise Forbidden("You may only see your own account")
    return get_user(username)


def register(hasher, *, username, password, first_name, last_name, role=PATRON):
    """A new account. A name is never given twice, not even a deleted account's: loans refer to it."""
    if db.session.scalars(_named(username)).first() is not None:
        raise Conflict(TAKEN, errors={"username": TAKEN})
    user = User(
        username=username,
        password_hash=hasher.hash(password),
        first_name=first_name,
        last_name=last_name,
        role=role,
    )
    try:
        with transaction():
            db.session.add(user)
            events.record("account.registered", username, username=username, first_name=first_name,
                          last_name=last_name, role=role)
    except IntegrityError as exc:  # registered by a concurrent request since our check
        raise Conflict(TAKEN, errors={"username": TAKEN}) from exc
    return user


def authenticate(hasher, username, password):
    """The user these credentials belong to; Unauthorized otherwise, the same way whatever was wrong."""
    user = find_user(username)
    if not hasher.matches(user.password_hash if user else None, password) or user is None:
        raise Unauthorized(INVALID_LOGIN)
    if not user.active:
        raise Forbidden("This account is deactivated; ask a librarian")
    return user


def check_account(principal):
    """user-service's own check that a valid token's account still exists, is active, has that role, and
    has not ended the token's session since (logout, password change, deactivation)."""
    user = find_user(principal.username)
    if user is None or not user.active or user.role != principal.role or _ended(principal, user):
        raise Unauthorized(ACCOUNT_CHANGED)


def _ended(principal, user):
    return user.tokens_valid_after is not None and principal.issued_at < user.tokens_valid_after.timestamp()


def end_sessions(user, now):
    """Every token issued to `user` before `now` stops working: here at once, elsewhere within
    ACCOUNT_CHECK_SECONDS (the other services ask /me that often)."""
    user.tokens_valid_after = now


def delete_user(actor, username, circulation, now):
    """Delete an account for good (librarians): what stays is a tombstone that keeps its name taken.

    Only deactivated accounts, so nobody is deleted by one slip, and only without active loans:
    borrow-service, asked with the librarian's token, refuses while there are any and otherwise cancels the
    account's holds (when it cannot answer, nothing is deleted). The name, first and last name and password
    go; the loans, which refer to the name, keep their history.
    """
    user = get_user(username)
    if user.username.lower() == actor.username.lower():
        raise Conflict("You cannot delete your own account")
    if user.active:
        raise Conflict("Deactivate the account before deleting it")
    circulation.close(user.username, actor.token)
    with transaction():
        user = get_user(username)
        user.deleted_at = now
        user.first_name = user.last_name = ""
        user.password_hash = NO_PASSWORD
        end_sessions(user, now)


def list_users(offset, limit, search=None):
    """A page of users by username; `search` keeps those whose username or name starts with it (accents and
    letter case do not matter: "zoe" finds Zoë)."""
    statement = select(User).where(User.deleted_at.is_(None))
    if search:
        prefix = fold(search).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(or_(func.lower(User.username).like(prefix),
                                        User.first_name_folded.like(prefix),
                                        User.last_name_folded.like(prefix)))
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    users = db.session.scalars(statement.order_by(User.username).offset(offset).limit(limit)).all()
    return users, total


def _would_leave_no_librarian(user, changes):
    demoted = changes.get("role", user.role) != LIBRARIAN or changes.get("active", user.active) is False
    if user.role != LIBRARIAN or not user.active or not demoted:
        return False
    others = db.session.scalar(
        select(func.count()).select_from(User).where(User.role == LIBRARIAN, User.active, User.id != user.id)
    )
    return others == 0


def update_user(deps, actor, username, changes, *, client, now):
    """Apply `changes` to a user, as `actor` (a Principal) may.

    Librarians change anyone's names, role and active flag. Everyone changes their own
    names and, given the current password, their own password: a guess at it is counted like a
    failed login (throttle), and a change ends every session issued before it, as deactivation does.
    """
    user = get_user(username)
    is_self = actor.username.lower() == user.username.lower()
    if not (is_self or actor.is_librarian):
        raise Forbidden("You may only change your own account")
    if not actor.is_librarian and ({"role", "active"} & changes.keys()):
        raise Forbidden("Only librarians change roles and deactivate accounts")
    if "password" in changes:
        if not is_self:
            raise Forbidden("Only the account holder changes a password")
        _check_current_password(deps, user, changes.get("current_password"), client, now)
        if changes["password"].lower() == user.username.lower():
            raise BadRequest("Invalid input", errors={"password": "Password must not be the username"})
    with transaction():
        user = get_user(username)
        if "password" in changes:
            user.password_hash = deps.hasher.hash(changes["password"])
            end_sessions(user, now)
        if _would_leave_no_librarian(user, changes):
            raise Conflict("The library must keep at least one active librarian")
        if changes.get("active") is False and user.active:
            end_sessions(user, now)
        for field in ("first_name", "last_name", "role", "active"):
            if field in changes:
                setattr(user, field, changes[field])
        return user


def _check_current_password(deps, user, current, client, now):
    throttle.count_attempt(deps.throttle_policy, user.username, client, now)
    if current is None or not deps.hasher.matches(user.password_hash, current):
        raise BadRequest("Current password is incorrect", errors={"current_password": "Incorrect password"})
    throttle.forget_attempt(deps.throttle_policy, user.username, client)


def ensure_librarian(hasher, username, password, log):
    """Make sure a librarian account exists (BOOTSTRAP_LIBRARIAN, `flask create-user`)."""
    user = find_user(username)
    if user is None:
        try:
            return register(hasher, username=username, password=password, first_name=username,
                            last_name="(librarian)", role=LIBRARIAN)
        except Conflict:  # another worker created it a moment ago, or a deleted account keeps the name
            user = find_user(username)
            if user is None:
                log.warning("Bootstrap librarian %r: the name belonged to a deleted account; choose another", username)
            return user
    if user.role != LIBRARIAN:
        # Never promote silently: someone else may have registered this name as a patron.
        log.warning("Bootstrap librarian %r exists as a %s; leaving it unchanged", username, user.role)
    return user
