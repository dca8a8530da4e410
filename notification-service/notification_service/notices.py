"""What the library tells its patrons, made from the library's event log.

Each event read from a producer's feed (borrow-service: loans, holds, reminders; user-service: accounts)
becomes at most one notice, keyed by the event's source and id: reading an event twice (the feed is read at
least once) makes no second notice, and the cursor moves in the same transaction as the notices it led to,
so a crash anywhere loses nothing and doubles nothing.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from jinja2 import Environment, PackageLoader, pass_context, select_autoescape
from sqlalchemy.dialects.postgresql import insert

from library_common import tracing
from library_common.errors import NotFound
from library_common.feeds import continuing
from library_common.text import one_line
from library_common.transactions import transaction

from .models import FeedCursor, Notice, Preference, db


@dataclass(frozen=True)
class Kind:
    label: str  # for the preferences page
    in_app_required: bool = False  # the app always shows it, whatever the patron chose
    email_required: bool = False  # always mailed (to a verified address), whatever the patron chose
    chosen_by_patron: bool = True  # False: links for the account itself, e-mailed only

    def allowed(self, channels):
        """The patron's choice with what this kind always uses: 'both' where the choice leaves one out."""
        if (self.in_app_required and channels == "email") or (self.email_required and channels == "in_app"):
            return "both"
        return channels


KINDS = {
    "due_soon": Kind("Books due in a few days"),
    "overdue": Kind("Overdue books"),
    "hold_ready": Kind("A hold is ready to collect", in_app_required=True),
    "hold_expiring": Kind("A hold is about to expire"),
    "hold_ended": Kind("A hold expired, or staff cancelled it"),
    "receipt": Kind("Checkout and return receipts"),
    # Security notices: a patron who did not change their password or address must hear of it where they
    # read mail, not only when they next log in (which whoever made the change may keep them from).
    "account": Kind("Changes to your account (password or address changed)", email_required=True),
    "account_link": Kind("E-mail verification and password links", chosen_by_patron=False),
}


@dataclass(frozen=True)
class Draft:
    """A notice to make: its kind, for whom, what the template needs, and (account links) where to mail it."""

    kind: str
    username: str
    context: dict
    link: str | None = None
    email_to: str | None = None  # set: mailed to this address alone, never shown in the app
    link_event: int | None = None  # an account link: user-service makes it (and names the address) as it is mailed


def drafts_for(source, event, settings):
    """The notices an event of `source` ("borrows" or "users") asks for (usually one, often none)."""
    kind_of, payload, who = event["type"], event["payload"], event["subject"]
    site = settings["SITE_URL"].rstrip("/")
    book = f"{site}/books/{payload['book_id']}" if "book_id" in payload else None
    if source == "borrows":
        if kind_of == "hold.ready":
            return [Draft("hold_ready", who, payload, book)]
        if kind_of == "hold.expiring":
            return [Draft("hold_expiring", who, payload, book)]
        if kind_of == "hold.expired" or (kind_of == "hold.cancelled" and payload.get("by_staff")):
            return [Draft("hold_ended", who, payload | {"how": kind_of.split(".")[1]}, book)]
        if kind_of == "loans.due_soon":
            return [Draft("due_soon", who, payload, f"{site}/my/borrows")]
        if kind_of == "loans.overdue":
            return [Draft("overdue", who, payload, f"{site}/my/borrows")]
        if kind_of in ("loan.made", "loan.returned") and settings["SEND_RECEIPTS"]:
            return [Draft("receipt", who, payload | {"what": kind_of.split(".")[1]}, f"{site}/my/borrows")]
        return []
    if kind_of in LINK_REQUESTS:
        purpose = "verify" if kind_of == "account.email_verification_requested" else payload.get("purpose", "reset")
        return [Draft("account_link", who, {"purpose": purpose}, link_for(site, purpose, HIDDEN),
                      link_event=event["id"])]
    if kind_of == "account.email_changed":
        # the address that had the account's mail until now hears of the change, in case it was not them
        return [Draft("account", who, {"change": "email"}, f"{site}/account", email_to=payload["previous_email"])]
    if kind_of == "account.email_claim_refused":
        return [Draft("account", who, {"change": "claim"}, f"{site}/account")]
    if kind_of == "account.password_changed":
        return [Draft("account", who, payload, f"{site}/account")]
    return []


LINK_REQUESTS = ("account.email_verification_requested", "account.password_reset_requested")
HIDDEN = "(hidden)"  # in place of a link's token wherever it is kept or shown: only the mail carries it


def link_for(site, purpose, token):
    page = "/account/verify" if purpose == "verify" else "/reset-password"
    return f"{site}{page}?token={token}"


def account_link_mail(made, settings):
    """(subject, the mail's plain text, its HTML) of an account link user-service made just now (`made`: its
    answer to POST /mailed-links), rendered as it is sent and kept nowhere."""
    site = settings["SITE_URL"].rstrip("/")
    draft = Draft("account_link", made["username"], {key: made[key] for key in ("purpose", "email", "expires_at")},
                  link_for(site, made["purpose"], made["token"]))
    subject, _summary, body_text, body_html = render(draft, made["first_name"], settings)
    return subject, body_text, body_html


# The token of a mailed link (verify an address, choose a password): whoever holds it acts as the patron.
_LINK_TOKEN = re.compile(r"([?&]token=)[^&#\s\"'<>]+")


def without_link_tokens(text):
    """`text` with every mailed link's token hidden ("...?token=(hidden)"), for whoever is not the patron."""
    return _LINK_TOKEN.sub(r"\1(hidden)", text) if text else text


def forget_account(username):
    """The account was deleted: its notices and choices go with it."""
    db.session.execute(sa.delete(Notice).where(Notice.username == username))
    db.session.execute(sa.delete(Preference).where(Preference.username == username))


_templates = Environment(loader=PackageLoader("notification_service", "templates"),
                         autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


@pass_context
def _nice_date(context, iso):
    """"5 December 2026", the day on the library's calendar (LIBRARY_TIMEZONE), not UTC's."""
    return f"{_local(context, iso):%-d %B %Y}" if iso else ""


@pass_context
def _nice_time(context, iso):
    return f"{_local(context, iso):%-d %B %Y, %H:%M %Z}" if iso else ""


def _local(context, iso):
    moment = datetime.fromisoformat(iso)
    return moment.astimezone(context["zone"]) if moment.tzinfo is not None else moment


_templates.filters["nice_date"] = _nice_date
_templates.filters["nice_time"] = _nice_time


def render(draft, first_name, settings):
    """(subject, the message alone for the app, the mail's plain text, its HTML) of a draft, from its kind's
    templates."""
    context = {**draft.context, "username": draft.username, "first_name": first_name or draft.username,
               "library": settings["LIBRARY_NAME"], "site": settings["SITE_URL"].rstrip("/"), "link": draft.link,
               "zone": ZoneInfo(settings["LIBRARY_TIMEZONE"])}
    text = _templates.get_template(f"notices/{draft.kind}.txt")

    def block(name):
        return "".join(text.blocks[name](text.new_context(context))).strip()

    html = _templates.get_template(f"notices/{draft.kind}.html").render(context)
    # a title or a name may hold a line break: the subject is one line, in the app as in the mail's header
    return one_line(block("subject")), block("body"), text.render(context).strip() + "\n", html


def channels_for(username, kind):
    """'both', 'email' or 'in_app': what the patron chose for this kind of notice."""
    if not KINDS[kind].chosen_by_patron:
        return "email"
    chosen = db.session.get(Preference, (username, kind))
    return KINDS[kind].allowed(chosen.channels if chosen else "both")  # a choice made before a kind was required


def apply_events(source, events, cursor, settings, now, accounts):
    """Turn a page of `source`'s events into notices and move its cursor, in the caller's transaction.
    Returns how many notices were made (events already turned into notices make none). `accounts`
    (neighbours.Accounts) says whom to greet and where to write: the events name nobody's name or address."""
    contacts = Contacts(accounts)
    made = 0
    for event in events:
        with continuing(source, event):
            if source == "users" and event["type"] == "account.deleted" and event["subject"]:
                forget_account(event["subject"])
            for number, draft in enumerate(drafts_for(source, event, settings)):
                made += _make(f"{source}:{event['id']}" + (f":{number}" if number else ""), draft, settings, now,
                              contacts)
    db.session.execute(insert(FeedCursor).values(source=source, cursor=cursor)
                       .on_conflict_do_update(index_elements=["source"], set_={"cursor": cursor}))
    return made


class Contacts:
    """Each patron's contact, asked of user-service once per page of events."""

    def __init__(self, accounts):
        self._accounts, self._known = accounts, {}

    def of(self, username):
        if username not in self._known:
            self._known[username] = self._accounts.contact(username)
        return self._known[username]


def _make(dedupe_key, draft, settings, now, contacts):
    if db.session.scalar(sa.select(Notice.id).where(Notice.dedupe_key == dedupe_key)) is not None:
        return 0  # read before: made then
    if draft.link_event is not None:  # mailed as it is made: user-service names the address then
        email_to, first_name, in_app = None, "", False
    else:
        contact = contacts.of(draft.username)
        if contact is None:  # the account is no more
            return 0
        channels = channels_for(draft.username, draft.kind)
        email_to = draft.email_to or (contact["email"] if channels in ("both", "email") else None)
        first_name, in_app = contact["first_name"], draft.email_to is None and channels in ("both", "in_app")
    mailed = email_to is not None or draft.link_event is not None
    subject, summary, body_text, body_html = render(draft, first_name, settings)
    inserted = db.session.execute(insert(Notice).values(
        dedupe_key=dedupe_key, username=draft.username, kind=draft.kind, subject=subject[:300], summary=summary,
        body_text=body_text, body_html=body_html, link=draft.link, in_app=in_app, email_to=email_to,
        link_event_id=draft.link_event, email_status="pending" if mailed else "none",
        next_attempt_at=now if mailed else None, traceparent=tracing.carrier().get(tracing.TRACEPARENT),
    ).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(Notice.id)).first()
    return 1 if inserted else 0


def cursor_of(source):
    found = db.session.get(FeedCursor, source)
    return found.cursor if found else ""


def inbox(username, unread_only, offset, limit):
    """(a page of the patron's notices in the app, unread first then newest first; total)."""
    statement = sa.select(Notice).where(Notice.username == username, Notice.in_app)
    if unread_only:
        statement = statement.where(Notice.read_at.is_(None))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    page = db.session.scalars(statement.order_by(Notice.read_at.is_not(None), Notice.id.desc())
                              .offset(offset).limit(limit)).all()
    return page, total


def unread_count(username):
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notice).where(
        Notice.username == username, Notice.in_app, Notice.read_at.is_(None)))


def mark_read(actor, notice_id, now: datetime):
    with transaction():
        notice = db.session.get(Notice, notice_id)
        if notice is None or not notice.in_app or notice.username.lower() != actor.username.lower():
            raise NotFound(f"No notice with id {notice_id}")  # another patron's notices are not theirs to know of
        notice.read_at = notice.read_at or now
    return notice


def mark_all_read(username, now):
    with transaction():
        return db.session.execute(sa.update(Notice).where(Notice.username == username, Notice.in_app,
                                                          Notice.read_at.is_(None)).values(read_at=now)).rowcount


def preferences_of(username, receipts_sent):
    """Every kind a patron chooses for, with their choice (or the default); receipts only when the library
    sends them (SEND_RECEIPTS), so nobody chooses for something that never comes."""
    return [{"kind": kind, "label": spec.label, "channels": channels_for(username, kind),
             "in_app_required": spec.in_app_required, "email_required": spec.email_required}
            for kind, spec in KINDS.items()
            if spec.chosen_by_patron and (kind != "receipt" or receipts_sent)]


def choose(username, choices, receipts_sent):
    """Set the patron's channels per kind; a kind the app must show stays in the app, one that must be mailed
    stays mailed."""
    with transaction():
        for kind, chosen in choices.items():
            channels = KINDS[kind].allowed(chosen)
            db.session.execute(insert(Preference).values(username=username, kind=kind, channels=channels)
                               .on_conflict_do_update(index_elements=["username", "kind"],
                                                      set_={"channels": channels}))
    return preferences_of(username, receipts_sent)
