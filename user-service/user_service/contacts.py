"""What notification-service asks as it mails: whom to greet and where to write (an account's contact), and
the link a mail carries, made at sending time.

The event log names accounts, never their names or addresses, and holds no link: a link that works exists
only in the mail that carries it. The event that asked for it stands for the request: a link is made only
while that request stands (the newest of its kind for the account, not older than the link would live, the
account still in the state it was asked for)."""

from datetime import timedelta

from library_common import events
from library_common.errors import Conflict, NotFound

from .accounts import NO_PASSWORD_YET, find_user, may_receive_password_link, verified_owner

NO_LONGER_NEEDED = "This link is no longer needed"
LINK_REQUESTS = ("account.email_verification_requested", "account.password_reset_requested")


def contact_of(username):
    """{username, first_name, email}: the verified address only (None without one); 404 for no live account."""
    user = find_user(username)
    if user is None:
        raise NotFound(f"No user named {username!r}")
    return {"username": user.username, "first_name": user.first_name,
            "email": user.email if user.email_verified else None}


def mailed_link(links, event_id, now):
    """The link event `event_id` asked to mail, made now: {username, first_name, email, purpose, token,
    expires_at}. 404 for an event that asked for none; 409 once the request no longer stands."""
    event = events.find(event_id)
    if event is None or event["type"] not in LINK_REQUESTS:
        raise NotFound(f"No request for a link with id {event_id}")
    user = find_user(event["subject"] or "")
    if user is None or user.email is None or events.superseded(event):
        raise Conflict(NO_LONGER_NEEDED)
    address = user.email
    if event["type"] == "account.email_verification_requested":
        purpose, lifetime = "verify", links.verification_lifetime
        address = user.address_to_confirm  # a pending address, while the verified one stays
        if address is None or verified_owner(address, but_not=user) is not None:
            raise Conflict(NO_LONGER_NEEDED)
        token = links.email_verification(user.username, address)
    else:
        welcome = user.password_hash == NO_PASSWORD_YET
        purpose, lifetime = ("welcome" if welcome else "reset"), links.password_lifetime(welcome)
        if not user.active or not may_receive_password_link(user) or purpose != event["payload"].get("purpose"):
            raise Conflict(NO_LONGER_NEEDED)
        token = links.password(user.username, user.email, user.password_hash, welcome)
    if now - event["occurred_at"] > lifetime + timedelta(minutes=5):  # the mail would carry a dead link
        raise Conflict(NO_LONGER_NEEDED)
    return {"username": user.username, "first_name": user.first_name, "email": address, "purpose": purpose,
            "token": token, "expires_at": now + lifetime}
