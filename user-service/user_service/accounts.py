"""Accounts: registration, authentication and profile changes, as plain functions over the database."""

import secrets

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from library_common.auth import ACCOUNT_CHANGED, LIBRARIAN, PATRON, SESSION_ENDED
from library_common.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from library_common import events
from library_common.search_text import fold
from library_common.transactions import transaction

from library_common import audit

from . import cards, categories, throttle
from .trail import ACCOUNT_FIELDS, account_action, record_account
from .models import DEFAULT_CATEGORY, EndedSession, User, db

INVALID_LOGIN = "Invalid username or password"
# What only librarians change in an account besides its role and active flag: its category, its card's expiry,
# and the contact details the desk keeps (the holder sees the phone and address, never the note).
STAFF_FIELDS = ("category", "card_expires_on", "phone", "postal_address", "staff_note")
TAKEN = "That username is taken"
EMAIL_TAKEN = "Another account already uses this e-mail address"
DEACTIVATED = "This account is deactivated; ask a librarian"
# Password hashes no password matches (werkzeug finds no method in them): a deleted account's, and that of an
# account registered at the desk whose holder has not chosen a password yet (its welcome link sets one).
NO_PASSWORD = "!"
NO_PASSWORD_YET = "!not-chosen-yet"


class PasswordHasher:
    """Hashes passwords; also keeps a hash made with the same method to check against when an account has
    none, so timing says nothing."""

    def __init__(self, method):
        self.method = method
        self._decoy = generate_password_hash("decoy-password", method=method)

    def hash(self, password):
        return generate_password_hash(password, method=self.method)

    def matches(self, stored_hash, password):
        """Whether `password` is the one `stored_hash` was made from. Without a hash to check (`None`: no such
        account; or no password at all, or none chosen yet) the decoy is checked all the same and the answer is
        no: werkzeug refuses our markers without hashing, and that quicker answer would tell anyone which
        accounts exist without a password."""
        if stored_hash in (None, NO_PASSWORD, NO_PASSWORD_YET):
            check_password_hash(self._decoy, password)
            return False
        return check_password_hash(stored_hash, password)


def _named(username):
    return select(User).where(func.lower(User.username) == username.lower())


def find_user(username, lock=False):
    """The live account of that name (any letter case), or None; deleted accounts are not found.
    `lock`: its row stays locked until the transaction ends (for a change that must happen once)."""
    statement = _named(username).where(User.deleted_at.is_(None))
    return db.session.scalars(statement.with_for_update() if lock else statement).first()


def find_for_login(identifier):
    """The live account a login names, or None: by its verified e-mail address (text with an '@': an unverified
    address proves nothing, and several accounts may have typed it), by its card number, or by its username. A
    card number wins over a username that happens to be the same text (only accounts from before cards can have
    one: registration refuses usernames shaped like card numbers); a retired card names nobody."""
    if "@" in identifier:
        return verified_owner(identifier)
    card = cards.normalised(identifier)
    if card is not None:
        holder = cards.live_holder(card)
        if holder is not None:
            return holder
        if cards.retired(card) is not None:
            return None
    return find_user(identifier)


def find_by_username_or_email(text):
    """The live account with that username, or that e-mail address (a username has no '@'); any letter case."""
    if "@" not in text:
        return find_user(text)
    # Several accounts may name an unverified address; the one that verified it is its owner.
    return db.session.scalars(select(User).where(func.lower(User.email) == text.lower(), User.deleted_at.is_(None))
                              .order_by(User.email_verified_at.is_(None), User.id)).first()


def verified_owner(email, but_not=None):
    """The account that has verified `email` (any letter case), other than `but_not`, or None."""
    statement = select(User).where(func.lower(User.email) == email.lower(), User.email_verified_at.is_not(None))
    if but_not is not None:
        statement = statement.where(User.id != but_not.id)
    return db.session.scalars(statement).first()


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


def register(deps, *, username, password, first_name, last_name, now, email=None, role=PATRON, provisional=False,
             category=DEFAULT_CATEGORY, **contact):
    """A new account, with its library card (valid CARD_VALIDITY_DAYS). A name is never given twice, not even a
    deleted account's: loans refer to it; an e-mail address is the account's once verified (see _set_email).
    `password` None: registered at the desk, the holder chooses one through the welcome link mailed to `email`
    (without one, a librarian may give them a first password: give_desk_password). `provisional`: registered
    online, may not borrow yet (see approval.py). `category` and `contact` (phone, postal_address, staff_note):
    given at the desk."""
    if cards.looks_generated(username):
        raise BadRequest("Invalid input", errors={"username": cards.LOOKS_LIKE_A_CARD})
    if db.session.scalars(_named(username)).first() is not None:
        raise Conflict(TAKEN, errors={"username": TAKEN})
    categories.check_exists(category)
    may_mail = email is not None and one_more_mail_to(deps, email, now)
    user = User(
        username=username,
        password_hash=deps.hasher.hash(password) if password is not None else NO_PASSWORD_YET,
        first_name=first_name,
        last_name=last_name,
        role=role,
        provisional=provisional,
        category=category,
        **{field: _blank_is_none(value) for field, value in contact.items()},
    )
    try:
        with transaction():
            cards.issue_card(user, now, deps.card_validity_days)
            db.session.add(user)
            events.record("account.registered", username, role=role)
            if email is not None:
                _set_email(user, email, may_mail)
            record_account("account.registered", user, audit.created(user, ACCOUNT_FIELDS))
    except IntegrityError as exc:  # registered by a concurrent request since our check, or its category deleted
        if _violated(exc) == "users_category_fkey":
            raise categories.unknown_category(category) from exc
        raise Conflict(TAKEN, errors={"username": TAKEN}) from exc
    return user


def _violated(error):
    """The name of the constraint an IntegrityError broke (PostgreSQL says), or None."""
    return getattr(getattr(error.orig, "diag", None), "constraint_name", None)


def _blank_is_none(text):
    return text or None


def register_at_desk(deps, *, username, first_name, last_name, now, email=None, **details):
    """A patron registered by a librarian: no password from anyone; the welcome link (to `email`) sets the
    first one and, being proof that the mail arrived, verifies the address. `details`: category, phone,
    postal_address, staff_note."""
    return register(deps, username=username, password=None, first_name=first_name, last_name=last_name,
                    now=now, email=email, **details)


# A password given at the desk is read out or written down: no letters that look alike (0/O, 1/l/I), in groups.
DESK_PASSWORD_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
DESK_PASSWORD_GROUPS, DESK_PASSWORD_GROUP_LENGTH = 3, 4  # 12 random characters of 31: about 59 bits


def desk_password():
    return "-".join("".join(secrets.choice(DESK_PASSWORD_ALPHABET) for _ in range(DESK_PASSWORD_GROUP_LENGTH))
                    for _ in range(DESK_PASSWORD_GROUPS))


def give_desk_password(deps, username):
    """A first password for a patron registered at the desk without an e-mail address (so no welcome link can
    reach them), made here and shown once to the librarian to hand over: {username, password}. Only while the
    account has no password yet: once it has one (this, or a welcome link's), 409. Only its hash is kept, and it
    goes into no event: notification-service has nobody to tell."""
    user = get_user(username)
    _refuse_desk_password(user)
    password = desk_password()
    password_hash = deps.hasher.hash(password)  # slow by design: before the row is locked
    with transaction():
        user = find_user(username, lock=True)  # two librarians at once: the second is refused, not the first undone
        if user is None:
            raise NotFound(f"No user named {username!r}")
        _refuse_desk_password(user)
        user.password_hash = password_hash
        record_account("account.desk_password_set", user)
    return {"username": user.username, "password": password}


def _refuse_desk_password(user):
    if user.password_hash != NO_PASSWORD_YET:
        raise Conflict(f"{user.username} has a password already: only they can change it, or send them a reset "
                       "link")
    if user.email is not None:
        raise Conflict(f"{user.username} has an e-mail address: we have e-mailed them a link to choose their "
                       "password (remove the address first to give one here)")


def _set_email(user, email, may_mail):
    """Give `user` this address, unverified (None: no address), inside the caller's transaction, and record
    what must be mailed: the verification link, or, to an account without a password yet, the welcome link.
    An account with a verified address keeps it, for mail and login, and the new one waits as `pending_email`
    until its link is used (recovery.verify_email): a typing slip, or an address its owner never confirms,
    must not leave the account with no address that works. Removing the address (None) removes both.

    An unverified address reserves nothing, and the answer is the same whether or not another account has
    verified the address (nobody learns from the library whose addresses it knows): then its owner, not this
    account, is told that someone tried to use it. The address verified until now hears of the change.
    `may_mail`: whether the new address may get one more mail (one_more_mail_to, asked before the
    transaction)."""
    previous = user.email if user.email_verified else None
    if email is not None and previous is not None:
        user.pending_email = email  # the verified address hears of the change once it happens: when confirmed
    else:
        user.email, user.email_verified_at, user.pending_email = email, None, None
        if previous is not None:
            events.record("account.email_changed", user.username, previous_email=previous)
    if email is None or not may_mail:
        return
    owner = verified_owner(email, but_not=user)
    if owner is not None:
        events.record("account.email_claim_refused", owner.username)
    elif user.password_hash == NO_PASSWORD_YET:
        record_password_link(user)
    else:
        record_verification_link(user)


def one_more_mail_to(deps, address, now):
    """Whether `address` may get one more mail that someone else can cause (a link, "someone tried to use
    your address"): at most RATE_LIMIT_MAILS_PER_ADDRESS, whoever asks from wherever, so nobody can make the
    library flood a mailbox. Counted at once, in a transaction of its own."""
    return deps.rate_limiter.within("mails_per_address", f"address {address.lower()}", now)


# The events that ask for a link to be mailed name no address and hold no link: notification-service asks for
# the link, and where to send it, as it sends the mail (contacts.mailed_link), so no working link is ever
# stored anywhere. `previous_email` alone travels: once changed, this service no longer knows it.
def record_verification_link(user):
    """Ask for a link that verifies the account's (unverified) address to be mailed to it."""
    events.record("account.email_verification_requested", user.username)


def may_receive_password_link(user):
    """A password link goes to a verified address, or, as the welcome link, to the address a librarian gave
    when registering an account that has no password yet."""
    return user.email is not None and (user.email_verified or user.password_hash == NO_PASSWORD_YET)


def record_password_link(user):
    """Ask for a link that sets the account's password to be mailed to its address: `purpose` "welcome" for
    the first password of an account registered at the desk, "reset" otherwise."""
    events.record("account.password_reset_requested", user.username,
                  purpose="welcome" if user.password_hash == NO_PASSWORD_YET else "reset")


def record_password_changed(user, via):
    """notification-service tells the holder (at a verified address) that the password changed."""
    events.record("account.password_changed", user.username, via=via)


def authenticate(hasher, identifier, password):
    """The user these credentials belong to (a username, card number or verified e-mail address: find_for_login);
    Unauthorized otherwise, the same way whatever was wrong, after one password hash either way."""
    user = find_for_login(identifier)
    if not hasher.matches(user.password_hash if user else None, password) or user is None:
        raise Unauthorized(INVALID_LOGIN)
    if not user.active:
        raise Forbidden(DEACTIVATED)
    return user


def check_account(principal):
    """user-service's own check that a valid token's account still exists, is active, has that role, and
    that its session has not ended since: logged out on that device, or everywhere (Log out everywhere, a password
    change, deactivation). The people whose session ended elsewhere are told why (SESSION_ENDED)."""
    user = find_user(principal.username)
    if user is None or not user.active or user.role != principal.role:
        raise Unauthorized(ACCOUNT_CHANGED)
    if user.tokens_valid_after is not None and principal.issued_at < user.tokens_valid_after.timestamp():
        raise Unauthorized(SESSION_ENDED.get(user.sessions_ended_because, ACCOUNT_CHANGED))
    if principal.session_id and db.session.get(EndedSession, principal.session_id) is not None:
        raise Unauthorized(SESSION_ENDED["logged_out"])


def end_sessions(user, now, because=None):
    """Every token issued to `user` before `now` stops working: here at once, elsewhere within
    ACCOUNT_CHECK_SECONDS (the other services ask /me that often). `because` (a key of SESSION_ENDED) is what the
    other devices are told; without one (deactivation, deletion) they hear that the account changed."""
    user.tokens_valid_after = now
    user.sessions_ended_because = because


def delete_user(actor, username, circulation, now):
    """Delete an account for good (librarians): what stays is a tombstone that keeps its name taken.

    Only deactivated accounts, so nobody is deleted by one slip, and only without active loans:
    borrow-service, asked with the librarian's token, refuses while there are any and otherwise cancels the
    account's holds (when it cannot answer, nothing is deleted). The first and last name, password, address,
    contact details, staff note and card go (a retired card's record keeps only the username, which stays
    anyway), the category becomes the default one; the loans, which refer to the name, keep their history.
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
        user.email = user.email_verified_at = user.pending_email = None
        user.phone = user.postal_address = user.staff_note = None
        user.card_number = user.card_expires_on = None
        user.category = DEFAULT_CATEGORY  # a category says something of the person (a child); and it may go
        user.password_hash = NO_PASSWORD
        end_sessions(user, now)
        # What the log said of the account goes with it; the deletion itself is told, so readers forget it too.
        events.scrub(user.username)
        events.record("account.deleted", user.username)
        # what was erased is not kept here either: the trail says only that the account was deleted
        record_account("account.deleted", user)


def list_users(offset, limit, search=None, provisional=None):
    """A page of users by username; `search` keeps those whose username or name starts with it (accents and
    letter case do not matter: "zoe" finds Zoë), or whose card number it is (the desk scans a card into the
    search); `provisional` those that are (or are not) waiting for approval."""
    statement = select(User).where(User.deleted_at.is_(None))
    if provisional is not None:
        statement = statement.where(User.provisional.is_(provisional))
    if search:
        prefix = fold(search).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches = [func.lower(User.username).like(prefix), User.first_name_folded.like(prefix),
                   User.last_name_folded.like(prefix)]
        card = cards.normalised(search)
        if card is not None:
            matches.append(User.card_number == card)
        statement = statement.where(or_(*matches))
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

    Librarians change anyone's names, e-mail address, role, active flag, category, card expiry and contact
    details (STAFF_FIELDS). Everyone changes their own names and, given the current password, their own password
    and e-mail address (a stolen session must not be enough to take the account over through a reset link): a
    guess at it is counted like a failed login (throttle). A password change ends every session issued before
    it, as deactivation does. A new address is unverified until its link is used.
    """
    if not actor.may_act_for(username):  # before looking: whether an account exists is not theirs to know
        raise Forbidden("You may only change your own account")
    user = get_user(username)
    is_self = actor.username.lower() == user.username.lower()
    if not actor.is_librarian and ({"role", "active"} & changes.keys()):
        raise Forbidden("Only librarians change roles and deactivate accounts")
    if not actor.is_librarian and (set(STAFF_FIELDS) & changes.keys()):
        raise Forbidden("Only librarians change categories, library cards and contact details: ask at the desk")
    if "category" in changes:
        categories.check_exists(changes["category"])
    if "password" in changes and not is_self:
        raise Forbidden("Only the account holder changes a password")
    email_changes = _email_changes(user, changes)
    if "password" in changes or (email_changes and is_self):
        _check_current_password(deps, user, changes.get("current_password"), client, now)
    if "password" in changes:
        refuse_username_as_password(changes["password"], user.username)
    may_mail = False
    if email_changes:
        _count_address_change(deps, user, client, now)
        may_mail = changes["email"] is not None and one_more_mail_to(deps, changes["email"], now)
    try:
        with transaction():
            return _apply_changes(deps, actor, get_user(username), changes, email_changes, may_mail, now)
    except IntegrityError as exc:
        if _violated(exc) == "users_category_fkey":  # deleted by a librarian since we looked
            raise categories.unknown_category(changes["category"]) from exc
        raise


def _count_address_change(deps, user, client, now):
    """Each change of address mails someone: at most RATE_LIMIT_EMAIL_CHANGE per client and
    RATE_LIMIT_EMAIL_CHANGES_PER_ACCOUNT per account (429 beyond)."""
    deps.rate_limiter.hit("email_change", f"client {client}", now)
    deps.rate_limiter.hit("email_changes_per_account", f"account {user.username.lower()}", now)


def refuse_username_as_password(password, username):
    """Registration's schema says it too; a password changed or reset later is checked here."""
    if password.lower() == username.lower():
        raise BadRequest("Invalid input", errors={"password": "Password must not be the username"})


def _email_changes(user, changes):
    """Whether `changes` gives another address than the account's (letter case aside), or takes it away. Giving
    the pending address again is a change (its link is mailed again); giving the current one is not."""
    return "email" in changes and (changes["email"] or "").lower() != (user.email or "").lower()


def _apply_changes(deps, actor, user, changes, email_changes, may_mail, now):
    before = audit.snapshot(user, ACCOUNT_FIELDS)
    _change(deps, actor, user, changes, email_changes, may_mail, now)
    changed = audit.changes(before, user)
    if changed:
        record_account(account_action(changed), user, changed)
    return user


def _change(deps, actor, user, changes, email_changes, may_mail, now):
    for field in ("first_name", "last_name"):  # first: the events below greet the holder by the new name
        if field in changes:
            setattr(user, field, changes[field])
    if "password" in changes:
        user.password_hash = deps.hasher.hash(changes["password"])
        end_sessions(user, now, because="password_changed")
        record_password_changed(user, via="current_password")
    if _would_leave_no_librarian(user, changes):
        raise Conflict("The library must keep at least one active librarian")
    if changes.get("active") is False and user.active:
        end_sessions(user, now)
        events.record("account.deactivated", user.username, by=actor.username)
    if changes.get("active") is True and not user.active:
        events.record("account.reactivated", user.username, by=actor.username)
    if email_changes:
        _set_email(user, changes["email"], may_mail)
    elif "email" in changes:  # the same address in another letter case: still the same, still verified
        user.email = changes["email"]
        user.pending_email = None  # and a change asked for earlier is called off
    for field in ("role", "active", "category", "card_expires_on"):
        if field in changes:
            setattr(user, field, changes[field])
    for field in ("phone", "postal_address", "staff_note"):  # an empty one, or null, removes it
        if field in changes:
            setattr(user, field, _blank_is_none(changes[field]))


def _check_current_password(deps, user, current, client, now):
    throttle.count_attempt(deps.throttle_policy, user.username, client, now)
    if current is None or not deps.hasher.matches(user.password_hash, current):
        raise BadRequest("Current password is incorrect", errors={"current_password": "Incorrect password"})
    throttle.forget_attempt(deps.throttle_policy, user.username, client)


def ensure_librarian(deps, username, password, log, now):
    """Make sure a librarian account exists (BOOTSTRAP_LIBRARIAN, `flask create-user`)."""
    user = find_user(username)
    if user is None:
        try:
            return register(deps, username=username, password=password, first_name=username,
                            last_name="(librarian)", role=LIBRARIAN, now=now)
        except Conflict:  # another worker created it a moment ago, or a deleted account keeps the name
            user = find_user(username)
            if user is None:
                log.warning("Bootstrap librarian %r: the name belonged to a deleted account; choose another", username)
            return user
    if user.role != LIBRARIAN:
        # Never promote silently: someone else may have registered this name as a patron.
        log.warning("Bootstrap librarian %r exists as a %s; leaving it unchanged", username, user.role)
    return user
