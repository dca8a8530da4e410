"""How things read on the pages: dates ("9 Dec 2026", on the library's own calendar: LIBRARY_TIMEZONE), numbers
("3rd") and book covers' placeholders."""

import zlib
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from library_common.search_text import words

COVER_HUES = 12  # .cover-hue-0 ... .cover-hue-11 in style.css (no inline styles under the CSP)


LIBRARY_ZONE = {"zone": ZoneInfo("UTC")}  # set once by create_app from LIBRARY_TIMEZONE


def _local(iso):
    """A moment as the library's clock reads it; a date (no time, no zone) as it is."""
    moment = datetime.fromisoformat(iso)
    return moment.astimezone(LIBRARY_ZONE["zone"]) if moment.tzinfo is not None else moment


def nice_date(iso_timestamp):
    if not iso_timestamp:
        return ""
    moment = _local(iso_timestamp)
    return f"{moment.day} {moment:%b %Y}"


def short_date(iso_timestamp):
    """ "11 Dec": for dates within the coming weeks, where the year goes without saying."""
    if not iso_timestamp:
        return ""
    moment = _local(iso_timestamp)
    return f"{moment.day} {moment:%b}"


def date_and_time(iso_timestamp):
    """ "3 Dec 2026, 18:40:12", the library's clock: when something happened, to the second (the Activity page)."""
    moment = _local(iso_timestamp)
    return f"{moment.day} {moment:%b %Y, %H:%M:%S}"


def in_future(iso_timestamp):
    """Whether a moment (a service's ISO timestamp) is still to come."""
    return bool(iso_timestamp) and datetime.fromisoformat(iso_timestamp) > datetime.now(timezone.utc)


def ordinal(number):
    if number is None:
        return ""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def cover_initials(title):
    """The placeholder cover's letters: the first letters of the title's first two words ("The Hobbit": TH)."""
    return "".join(word[0] for word in words(title)[:2]).upper() or "?"


def cover_hue(title):
    """The same title always gets the same placeholder colour."""
    return zlib.crc32(title.encode()) % COVER_HUES
