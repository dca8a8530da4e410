"""How dates read on the pages: "9 Dec 2026", in the library's time (UTC)."""

from datetime import datetime


def nice_date(iso_timestamp):
    if not iso_timestamp:
        return ""
    moment = datetime.fromisoformat(iso_timestamp)
    return f"{moment.day} {moment:%b %Y}"
