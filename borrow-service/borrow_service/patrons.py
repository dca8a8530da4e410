"""A patron at a glance, for the pages: what they have, what they wait for, what they may do next, and
(for a book page) their loan of and hold on one book."""

from dataclasses import dataclass

import sqlalchemy as sa

from library_common.errors import Forbidden

from . import history, holds, rules
from .models import ANY, OPEN, Hold, Loan, db


@dataclass
class PatronSummary:
    username: str
    active_loans: int
    overdue_loans: int
    waiting_holds: int
    ready_holds: int
    max_active_loans: int
    max_holds: int
    keep_history: bool
    provisional: bool  # user-service's word: registered online, not approved yet
    awaiting: str | None  # what would approve it (see neighbours.Patron)
    category: str = "adult"
    card_expired: bool = False
    card_expires_on: object = None  # a date, or None: the card does not expire
    web_checkout: bool = True  # the library's WEB_CHECKOUT: false, a free copy is requested, not borrowed
    loan: Loan | None = None  # of the book asked about
    hold: Hold | None = None  # on the book asked about (waiting or ready)

    @property
    def may_borrow(self):
        return not self.provisional and not self.card_expired and self.active_loans < self.max_active_loans

    @property
    def may_hold(self):
        return self.waiting_holds + self.ready_holds < self.max_holds


def summary(deps, actor, username, now, book_id=None):
    if not actor.may_act_for(username):
        raise Forbidden("You may only see your own account")
    account = deps.directory.patron(username, actor.token)
    active = sa.select(sa.func.count()).select_from(Loan).where(Loan.username == username, ~Loan.returned)
    held = dict(db.session.execute(sa.select(Hold.status, sa.func.count()).where(
        Hold.username == username, Hold.status.in_(OPEN)).group_by(Hold.status)).all())
    found = PatronSummary(
        username=username,
        active_loans=db.session.scalar(active),
        overdue_loans=db.session.scalar(active.where(Loan.due_date < now)),
        waiting_holds=held.get("waiting", 0),
        ready_holds=held.get("ready", 0),
        max_active_loans=rules.rule_for(account.category, ANY, deps.policy).max_loans,
        max_holds=deps.policy.max_holds,
        keep_history=history.settings_of(actor, username).keep_history,
        provisional=account.provisional,
        awaiting=account.awaiting,
        category=account.category,
        card_expired=account.card_expired,
        card_expires_on=account.card_expires_on,
        web_checkout=deps.policy.web_checkout,
    )
    if book_id is not None:
        found.loan = db.session.scalars(sa.select(Loan).where(Loan.username == username, Loan.book_id == book_id,
                                                              ~Loan.returned)).first()
        found.hold = db.session.scalars(sa.select(Hold).where(Hold.username == username, Hold.book_id == book_id,
                                                              Hold.status.in_(OPEN))).first()
        if found.hold is not None:
            holds.with_queue_places([found.hold], deps, now)
    return found
