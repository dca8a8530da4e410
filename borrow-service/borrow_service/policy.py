"""The library's settings for circulation (LOAN_DAYS, MAX_ACTIVE_LOANS, MAX_RENEWALS, MAX_HOLDS,
HOLD_PICKUP_DAYS, HISTORY_RETENTION_DAYS, LIBRARY_TIMEZONE, WEB_CHECKOUT), read once. The first four make the `* x *`
circulation rule until a librarian saves one (rules.py)."""

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class CirculationPolicy:
    loan_days: int = 14
    max_active_loans: int = 5
    max_renewals: int = 2
    max_holds: int = 10
    hold_pickup_days: float = 7
    history_retention_days: int = 30
    zone: ZoneInfo = ZoneInfo("UTC")  # the library's days (due dates, closed days) are local ones
    # True: patrons borrow on the web, and a free copy goes to the next waiting patron by itself. False: web
    # borrowing is a request (a hold), and staff set copies aside from the pull list by scanning them in.
    web_checkout: bool = True

    @classmethod
    def from_settings(cls, settings):
        return cls(loan_days=settings["LOAN_DAYS"], max_active_loans=settings["MAX_ACTIVE_LOANS"],
                   max_renewals=settings["MAX_RENEWALS"], max_holds=settings["MAX_HOLDS"],
                   hold_pickup_days=settings["HOLD_PICKUP_DAYS"],
                   history_retention_days=settings["HISTORY_RETENTION_DAYS"],
                   zone=ZoneInfo(settings["LIBRARY_TIMEZONE"]), web_checkout=settings["WEB_CHECKOUT"])

    @property
    def loan_period(self):
        return timedelta(days=self.loan_days)

    @property
    def pickup_window(self):
        return timedelta(days=self.hold_pickup_days)

    @property
    def history_retention(self):
        return timedelta(days=self.history_retention_days)
