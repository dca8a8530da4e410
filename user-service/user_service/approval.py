"""Provisional accounts (Koha's and Evergreen's pending patrons): an account registered online may log in and
place holds, but borrows nothing until a librarian approves it or, under SELF_REGISTRATION=verified (the
default), its holder confirms their e-mail address; under `approval` only a librarian approves, under `open`
sign-ups are approved at once. So one sign-up cannot take the collection out of circulation. Accounts registered
at the desk, librarians, and accounts from before provisional ones existed are never provisional.

borrow-service asks user-service's account answer (`provisional`, `awaiting`) before each loan."""

from library_common import events
from library_common.errors import NotFound
from library_common.transactions import transaction

from .accounts import find_user, register
from .trail import record_account

OPEN, VERIFIED, APPROVAL = "open", "verified", "approval"
MODES = (OPEN, VERIFIED, APPROVAL)
# What a provisional account waits for (the account JSON's `awaiting`), for borrow-service and the pages to say.
EMAIL_CONFIRMATION, LIBRARIAN_APPROVAL = "email_confirmation", "librarian_approval"


def checked_mode(value):
    """SELF_REGISTRATION, refused at start-up unless it is one of MODES (a typo must not open sign-ups)."""
    if value not in MODES:
        raise RuntimeError(f"SELF_REGISTRATION must be one of {', '.join(MODES)}, not {value!r}")
    return value


def sign_up(deps, *, now, **registration):
    """A patron's own registration (POST /register, the sign-up page): provisional unless sign-ups are open."""
    return register(deps, now=now, provisional=deps.self_registration != OPEN, **registration)


def approves_by_email(mode):
    """Whether confirming the address approves a provisional account: not when only librarians approve."""
    return mode != APPROVAL


def awaiting(user, mode):
    """What a provisional account waits for (None once it may borrow)."""
    if not user.provisional:
        return None
    return EMAIL_CONFIRMATION if approves_by_email(mode) else LIBRARIAN_APPROVAL


def approve(username):
    """A librarian approves an account; approving it again changes nothing."""
    with transaction():
        user = find_user(username, lock=True)
        if user is None:
            raise NotFound(f"No user named {username!r}")
        _approve(user)
    return user


def approve_by_email(mode, user):
    """The holder confirmed their address (inside the caller's transaction): enough to approve, unless only
    librarians approve."""
    if approves_by_email(mode):
        _approve(user)


def _approve(user):
    if user.provisional:
        user.provisional = False
        events.record("account.approved", user.username)
        record_account("account.approved", user, {"provisional": {"before": True, "after": False}})
