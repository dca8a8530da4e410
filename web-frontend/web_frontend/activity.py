"""The Activity page's rules: the audit trails of books-service, user-service and borrow-service merged into one
list, newest first, paged by a cursor that neither loses nor repeats an entry when entries of several services
share one moment; the filters as the services take them; what an entry says in words, and where it links; and
the CSV export's rows, safe to open in a spreadsheet.

Each service keeps the entries of the data it owns and answers GET /audit newest first by (at, id); the merged
order is (at DESC, the service's place in SOURCES, id DESC), so that one moment's entries of several services
always come in the same order, page after page.
"""

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import url_for
from markupsafe import Markup

# Each service's audit trail, in the order the merged list shows one moment's entries.
SOURCES = ("books", "users", "borrows")
SERVICE_NAMES = {"books": "books-service", "users": "user-service", "borrows": "borrow-service"}
# What the reader misses when a service does not answer.
SOURCE_PARTS = {"books": "the catalogue's (books, copies, genres, imports)",
                "users": "the accounts' (accounts, library cards, patron categories)",
                "borrows": "circulation's (loans, holds, rules, calendar)"}
# A `before_id` above any entry's id: every entry at the cursor's very moment.
ALL_AT_THAT_MOMENT = 2**63 - 1

# The filter's suggestions, grouped by what they are about: (object type, its name, its actions). The services
# may record actions that are not listed: an entry shows whatever action it has, and a filter for one not
# listed still works from the address.
ACTION_GROUPS = (
    ("book", "Books", ("book.created", "book.updated", "book.deleted")),
    ("item", "Copies", ("item.created", "item.updated", "item.deleted", "item.found")),
    ("genre", "Genres", ("genre.created", "genre.renamed", "genre.merged", "genre.deleted")),
    ("import", "Imports", ("import.created", "import.restaged", "import.committed", "import.reverted",
                           "import.discarded")),
    ("account", "Accounts", ("account.registered", "account.updated", "account.role_changed", "account.deactivated",
                             "account.reactivated", "account.approved", "account.deleted",
                             "account.password_reset_sent", "account.desk_password_set")),
    ("card", "Library cards", ("card.replaced", "card.renewed")),
    ("category", "Patron categories", ("category.created", "category.updated", "category.deleted")),
    ("loan", "Loans", ("loan.checked_out", "loan.checked_in", "loan.renewed", "loan.overridden")),
    ("hold", "Holds", ("hold.placed", "hold.cancelled", "hold.moved", "hold.updated")),
    ("rule", "Circulation rules", ("rule.set", "rule.deleted")),
    ("closure", "Calendar", ("closure.added", "closure.deleted")),
)
OBJECT_TYPES = {object_type: name for object_type, name, _actions in ACTION_GROUPS}

# What was done, in words: the verb before the object's summary (which the services write to name it: a book's
# title; a copy's barcode and title; a loan's or a hold's title and patron, "“Dune” for alice").
ACTION_WORDS = {
    "book.created": "added the book",
    "book.updated": "changed the book",
    "book.deleted": "deleted the book",
    "item.created": "added the copy",
    "item.updated": "changed the copy",
    "item.deleted": "deleted the copy",
    "item.found": "marked as found the copy",
    "genre.created": "added the genre",
    "genre.renamed": "renamed the genre",
    "genre.merged": "merged the genre",
    "genre.deleted": "deleted the genre",
    "import.created": "uploaded the import",
    "import.restaged": "read again the import",
    "import.committed": "committed the import",
    "import.reverted": "reverted the import",
    "import.discarded": "discarded the import",
    "account.registered": "registered",
    "account.updated": "changed the account of",
    "account.role_changed": "changed the role of",
    "account.deactivated": "deactivated",
    "account.reactivated": "reactivated",
    "account.approved": "approved",
    "account.deleted": "deleted the account of",
    "account.password_reset_sent": "sent a password reset link to",
    "account.desk_password_set": "gave a password to",
    "card.replaced": "replaced the library card of",
    "card.renewed": "renewed the library card of",
    "category.created": "added the patron category",
    "category.updated": "changed the patron category",
    "category.deleted": "deleted the patron category",
    "loan.checked_out": "checked out",
    "loan.checked_in": "checked in",
    "loan.renewed": "renewed",
    "loan.overridden": "lent past the rule",
    "hold.placed": "placed a hold on",
    "hold.cancelled": "cancelled the hold on",
    "hold.moved": "moved in the queue the hold on",
    "hold.updated": "changed the hold on",
    "rule.set": "set",
    "rule.deleted": "deleted",
    "closure.added": "added to the calendar",
    "closure.deleted": "removed from the calendar",
}

# An action as the filter takes it: exact (book.updated), or every action on a kind of thing (book.).
# (The services' own limits: 32 characters for a type, 64 for an id or a name.)
ACTION_FILTER = re.compile(r"[a-z_]{1,32}\.([a-z_]{1,31})?")
# An object pasted whole: book:7.
OBJECT_REFERENCE = re.compile(r"\s*([a-z_]{1,32})\s*:\s*(\S{1,64})\s*")


@dataclass(frozen=True)
class Position:
    """Where a page of the merged list ended: its last entry's moment, service and id."""
    at: datetime
    source: str
    id: int

    @classmethod
    def of(cls, entry):
        return cls(datetime.fromisoformat(entry["at"]), entry["service"], entry["id"])

    @classmethod
    def from_args(cls, args):
        """The position an "Older" link carries (before, before_service, before_id); None when it is missing or
        makes no sense (the newest entries then)."""
        try:
            at = datetime.fromisoformat(args.get("before", ""))
            position = cls(at, args.get("before_service", ""), int(args.get("before_id", "")))
        except ValueError:
            return None
        return position if at.tzinfo is not None and position.source in SOURCES and position.id > 0 else None

    def link_args(self):
        return {"before": moment(self.at), "before_service": self.source, "before_id": self.id}


def moment(at):
    """An instant as the services take a cursor: ISO 8601 with microseconds, so no part of a second is lost."""
    return at.isoformat(timespec="microseconds")


def ask_after(position, source):
    """What to ask `source` for: its entries that come after `position` in the merged order (all of them for none).

    At the cursor's very moment, a service placed before the cursor's in SOURCES has had all its entries shown
    (they came first), the cursor's own service those with a larger id, and a service placed after it none."""
    if position is None:
        return {}
    older = {"before": moment(position.at)}
    rank, cursor_rank = SOURCES.index(source), SOURCES.index(position.source)
    if rank < cursor_rank:
        return older
    return older | {"before_id": position.id if rank == cursor_rank else ALL_AT_THAT_MOMENT}


def merge(answers, limit):
    """The first `limit` entries of the services' `answers` ({source: {"items", "has_more"}}, each newest first),
    in the merged order, each with its `service`, and whether there are more after them.

    Each service was asked for `limit` entries after the same position, so the first `limit` of their union are
    exactly the first `limit` of everything after it."""
    entries = [{**entry, "service": source} for source, answer in answers.items() for entry in answer["items"]]
    entries.sort(key=lambda entry: (datetime.fromisoformat(entry["at"]), -SOURCES.index(entry["service"]),
                                    entry["id"]), reverse=True)
    has_more = len(entries) > limit or any(answer["has_more"] for answer in answers.values())
    return entries[:limit], has_more


@dataclass(frozen=True)
class Filters:
    """The Activity page's filters, as its form gives them (empty strings and None for unused ones)."""
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    subject: str = ""
    since: date | None = None
    until: date | None = None

    def for_services(self, zone):
        """The query every service is sent: a type and an id become `object` (its own entries and those related to
        it: a book's copies, loans and holds too); the days, in the library's time zone, become the moments
        `since` (the first day's start) and `until` (the next day's start: the services' `until` is exclusive)."""
        object_type, object_id = self.object_type, self.object_id.strip()
        if pasted := OBJECT_REFERENCE.fullmatch(object_id):
            object_type, object_id = pasted.groups()
        params = {"actor": self.actor.strip(), "action": self.action, "subject": self.subject.strip()}
        if object_type and object_id:
            params["object"] = f"{object_type}:{object_id}"
        else:
            params |= {"object_type": object_type, "object_id": object_id}
        if self.since:
            params["since"] = moment(datetime.combine(self.since, time(), zone))
        if self.until:
            params["until"] = moment(datetime.combine(self.until + timedelta(days=1), time(), zone))
        return {name: value for name, value in params.items() if value}


def describe(entry, link=None):
    """What happened, after who did it: "changed the title of <em>Dune</em> from Dun to Dune", the object's summary
    a link to `link` when it has a page."""
    changes = entry.get("changes") or {}
    verb, after = ACTION_WORDS.get(entry["action"], f"recorded “{entry['action']}” on"), ""
    if entry["action"].endswith(".updated") and changes:
        verb = f"changed the {and_list([field_name(name) for name in changes])} of"
        if len(changes) == 1:
            change = next(iter(changes.values()))
            after = f" from {shown(change.get('before'))} to {shown(change.get('after'))}"
    name = entry.get("summary") or f"{entry.get('object_type')} {entry.get('object_id')}"
    if link:
        return Markup('{} <a href="{}"><em>{}</em></a>{}').format(verb, link, name, after)
    return Markup("{} <em>{}</em>{}").format(verb, name, after)


def and_list(words):
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def field_name(name):
    return name.replace("_", " ")


def shown(value):
    """A value before or after a change, as the page shows it."""
    if value is None or value == "" or value == []:
        return "nothing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(shown(part) for part in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def changes_table(entry):
    """The changed fields as a small table: (its columns, its rows), only the sides the entry has (something
    created has no before, something deleted no after), a row per field (field, before, after or either)."""
    changes = entry.get("changes") or {}
    sides = [side for side in ("before", "after") if any(side in change for change in changes.values())]
    rows = [(field_name(name), *(shown(change[side]) if side in change else "" for side in sides))
            for name, change in changes.items()]
    return ["Field", *(side.capitalize() for side in sides)], rows


# The kinds of things that have no page of their own, only a place on a librarians' page listing them.
LIST_PAGES = {"rule": "policy.policy", "closure": "policy.policy", "genre": "manage.genres",
              "category": "manage.patron_categories"}


def object_link(entry):
    """The page of what the entry is about, or None (something deleted, or a kind of thing without a page)."""
    object_type, object_id, action = entry.get("object_type"), str(entry.get("object_id") or ""), entry["action"]
    related_type, _colon, related_id = (entry.get("related") or "").partition(":")
    book_id = int(related_id) if related_type == "book" and related_id.isdigit() else None
    patron = entry.get("subject")
    if action.endswith(".deleted") and object_type not in LIST_PAGES:  # its page is gone with it
        return None
    if object_type == "book" and object_id.isdigit():
        return url_for("catalogue.book", book_id=int(object_id))
    if object_type == "item" and book_id:
        return url_for("catalogue.book", book_id=book_id)
    if object_type == "loan" and patron:
        return url_for("manage.patron_borrows", username=patron)
    if object_type == "hold" and book_id:
        return url_for("manage.hold_queue", book_id=book_id)
    if object_type == "loan" and book_id:
        return url_for("catalogue.book", book_id=book_id)
    if object_type in ("hold", "account", "card") and (patron or object_id):
        return url_for("manage.patron", username=patron or object_id)
    if object_type == "import" and object_id.isdigit():
        return url_for("imports.batch", import_id=int(object_id))
    return url_for(LIST_PAGES[object_type]) if object_type in LIST_PAGES else None


CSV_COLUMNS = ("at", "service", "actor", "actor_role", "action", "object_type", "object_id", "related", "subject",
               "summary", "changes", "request_id", "client_address")
# What a spreadsheet reads as the start of a formula (OWASP's list: = + - @, and tab and carriage return).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A cell that a spreadsheet shows as text, never runs: one that would start a formula gets an apostrophe."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_row(entry):
    values = entry | {"service": SERVICE_NAMES[entry["service"]],
                      "changes": json.dumps(entry["changes"], ensure_ascii=False, sort_keys=True)
                      if entry.get("changes") else ""}
    return [spreadsheet_safe(values.get(column)) for column in CSV_COLUMNS]
