"""How things read on the pages: dates ("9 Dec 2026", in the library's time, UTC), numbers ("3rd") and book
covers' placeholders."""

import zlib
from datetime import datetime

from library_common.search_text import words

COVER_HUES = 12  # .cover-hue-0 ... .cover-hue-11 in style.css (no inline styles under the CSP)


def nice_date(iso_timestamp):
    if not iso_timestamp:
        return ""
    moment = datetime.fromisoformat(iso_timestamp)
    return f"{moment.day} {moment:%b %Y}"


def short_date(iso_timestamp):
    """ "11 Dec": for dates within the coming weeks, where the year goes without saying."""
    if not iso_timestamp:
        return ""
    moment = datetime.fromisoformat(iso_timestamp)
    return f"{moment.day} {moment:%b}"


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
