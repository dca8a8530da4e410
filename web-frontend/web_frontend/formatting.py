"""How dates and numbers read on the pages: "9 Dec 2026" (in the library's time, UTC), "3rd"."""

from datetime import datetime


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
