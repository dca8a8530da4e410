"""Library cards: the number the desk scans and the patron may log in with, until when it is valid, and what
happens when one is lost.

A card number is "P", eight digits from a PostgreSQL sequence and a Luhn check digit: P000000018, P000000026...
- The sequence makes each number unique without a retry loop, and never hands one out twice, so a retired
  number is never someone else's later.
- The "P" tells a patron's card from an item's barcode (digits only, e.g. 1000000001) when either is scanned
  into the wrong field at the desk, and is what keeps generated numbers out of the usernames people choose.
- The check digit catches a mistyped digit or two swapped neighbours when a number is typed by hand, so a slip
  at the desk finds nobody rather than another patron (the numbers are consecutive).
Card numbers are not secrets (they are printed on the card): logging in with one still needs the password.

A lost card is replaced: a new number, and the old one goes to `retired_cards`, refused everywhere from then
on with that reason (looking it up at the desk says so; logging in with it fails like any wrong login).
"""

import re
from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, has_app_context

from library_common import audit
from library_common.errors import Conflict, NotFound
from library_common.transactions import transaction

from .models import RetiredCard, User, card_numbers, db
from .trail import record_account

# What the column holds (models.User): printable in every barcode symbology and typed without ambiguity.
CARD_FORMAT = re.compile(r"[0-9A-Z]{6,20}")
PREFIX = "P"
# The numbers this library makes (PREFIX, at least eight digits, the check digit): a username may not look like
# one, or it could be mistaken for someone's card at login.
GENERATED = re.compile(r"P[0-9]{9,19}", re.IGNORECASE)
LOOKS_LIKE_A_CARD = "That looks like a library card number; choose another username"


def luhn_check_digit(digits):
    """The Luhn (mod 10) check digit of a string of digits, as payment cards use: it catches any single wrong
    digit and most swaps of two neighbours."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char) * (2 if position % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return str(-total % 10)


def card_number_for(serial):
    digits = f"{serial:08d}"
    return f"{PREFIX}{digits}{luhn_check_digit(digits)}"


def has_valid_check_digit(number):
    """Whether a number of the form this library makes ends in the right check digit."""
    digits = number[len(PREFIX):]
    return luhn_check_digit(digits[:-1]) == digits[-1]


def new_card_number():
    """The next card number (inside the caller's transaction; a number taken by a transaction that rolls back is
    simply never used)."""
    return card_number_for(db.session.scalar(card_numbers.next_value()))


def normalised(text):
    """`text` as a card number is stored (upper case, no surrounding spaces), or None when it cannot be one."""
    candidate = (text or "").strip().upper()
    return candidate if CARD_FORMAT.fullmatch(candidate) else None


def looks_generated(username):
    return GENERATED.fullmatch(username) is not None


def library_today(now):
    """The library's date at `now` (in LIBRARY_TIMEZONE, as borrow-service's due dates are): the day a card's
    expiry is compared with. Outside an app (a plain function's test), UTC's."""
    zone = ZoneInfo(current_app.config["LIBRARY_TIMEZONE"]) if has_app_context() else timezone.utc
    return now.astimezone(zone).date()


def expiry_from(now, validity_days):
    """The expiry date of a card issued at `now` (CARD_VALIDITY_DAYS)."""
    return library_today(now) + timedelta(days=validity_days)


def is_expired(user, now):
    """A card is valid through its expiry date and expired from the day after; None never expires."""
    return user.card_expires_on is not None and user.card_expires_on < library_today(now)


def issue_card(user, now, validity_days):
    """Give a new account its card (inside the caller's transaction)."""
    user.card_number = new_card_number()
    user.card_expires_on = expiry_from(now, validity_days)


def retired(number):
    return db.session.get(RetiredCard, number)


def retired_refusal(card):
    return Conflict(f"Card {card.number} was reported lost and replaced on {card.retired_at:%d %b %Y} "
                    f"({card.username}'s old card): it is no longer valid; ask for the new card")


def holder_of(number):
    """The live account whose card this is (the desk's lookup by scan): 404 for no such card (saying so when the
    check digit shows a typing slip), 409 for a card reported lost and replaced."""
    card = normalised(number)
    if card is None:
        raise NotFound(f"{number!r} is not a card number: 6 to 20 letters and digits")
    user = live_holder(card)
    if user is not None:
        return user
    old = retired(card)
    if old is not None:
        raise retired_refusal(old)
    if looks_generated(card) and not has_valid_check_digit(card):
        raise NotFound(f"No card {card}: its check digit is wrong, so a digit was probably mistyped")
    raise NotFound(f"No card {card}")


def live_holder(card):
    """The live account with this (normalised) card number, or None (a retired card has none)."""
    return db.session.scalars(sa.select(User).where(User.card_number == card, User.deleted_at.is_(None))).first()


def _live_account(username):
    """The live account of that name, its row locked until the transaction ends."""
    user = db.session.scalars(sa.select(User).where(sa.func.lower(User.username) == username.lower(),
                                                    User.deleted_at.is_(None)).with_for_update()).first()
    if user is None:
        raise NotFound(f"No user named {username!r}")
    return user


def renew(username, now, validity_days):
    """The card is valid CARD_VALIDITY_DAYS from today, as when it was issued (counted from today, not from its
    old expiry: what a renewal at the desk promises the patron is the same whenever they come)."""
    with transaction():
        user = _live_account(username)
        before = user.card_expires_on
        user.card_expires_on = expiry_from(now, validity_days)
        record_account("card.renewed", user, audit.changes({"card_expires_on": before}, user))
    return user


def replace_lost_card(username, now):
    """A new card for an account whose card was lost (or a first one for an account from before cards): the old
    number is retired for good. The expiry stays as it was: a replacement is not a renewal."""
    with transaction():
        # Locked: two replacements at once retire each number once (the second retires the first's new one).
        user = _live_account(username)
        if user.card_number is not None:
            db.session.add(RetiredCard(number=user.card_number, username=user.username, retired_at=now))
        before = user.card_number
        user.card_number = new_card_number()
        record_account("card.replaced", user, audit.changes({"card_number": before}, user))
    return user
