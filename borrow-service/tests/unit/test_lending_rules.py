"""The lending rules that need no database."""

from datetime import date, datetime, timedelta, timezone

import pytest

from borrow_service.loans import addressed, borrower, is_overdue, lender_to
from borrow_service.models import Loan
from borrow_service.neighbours import Patron
from borrow_service.policy import CirculationPolicy
from library_common.auth import Principal
from library_common.errors import Conflict, Forbidden

ALICE = Principal("alice", "patron")
BOSS = Principal("boss", "librarian")
NOW = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)


class Directory:
    def patron(self, username, token):
        return Patron(username.capitalize(), active=username != "gone", provisional=username == "newcomer",
                      awaiting="email_confirmation" if username == "newcomer" else None,
                      card_expires_on=date(2026, 11, 1) if username == "lapsed" else None,
                      card_expired=username == "lapsed")


def test_periods_are_the_policy_s_days():
    policy = CirculationPolicy(loan_days=14, hold_pickup_days=7, history_retention_days=30)

    assert (policy.loan_period, policy.pickup_window, policy.history_retention) == (
        timedelta(days=14), timedelta(days=7), timedelta(days=30))


@pytest.mark.parametrize("due, returned, expected", [(NOW - timedelta(seconds=1), False, True),
                                                     (NOW + timedelta(seconds=1), False, False),
                                                     (NOW - timedelta(days=3), True, False)])
def test_overdue_means_out_past_its_due_date(due, returned, expected):
    assert is_overdue(Loan(due_date=due, returned=returned), NOW) is expected


def test_patrons_borrow_for_themselves_only():
    assert borrower(ALICE, None, Directory()) == "alice"
    assert borrower(ALICE, "ALICE", Directory()) == "alice"
    with pytest.raises(Forbidden):
        borrower(ALICE, "bob", Directory())


def test_librarians_borrow_for_a_patron_as_registered():
    assert borrower(BOSS, "bob", Directory()) == "Bob"


def test_librarians_cannot_lend_to_a_deactivated_account():
    with pytest.raises(Conflict, match="deactivated"):
        borrower(BOSS, "gone", Directory())


def test_loans_go_to_approved_accounts_only():
    assert lender_to(ALICE, None, Directory()).username == "Alice"
    assert lender_to(BOSS, "bob", Directory()).username == "Bob"
    with pytest.raises(Conflict, match="Your account is waiting for approval"):
        lender_to(Principal("newcomer", "patron"), None, Directory())
    with pytest.raises(Conflict, match="Newcomer's account is waiting for approval"):
        lender_to(BOSS, "newcomer", Directory())
    with pytest.raises(Conflict, match="deactivated"):
        lender_to(BOSS, "gone", Directory())


def test_an_expired_card_lends_nothing_until_renewed():
    with pytest.raises(Conflict, match="^Your library card expired on 1 Nov 2026: please renew it at the desk"):
        lender_to(Principal("lapsed", "patron"), None, Directory())
    with pytest.raises(Conflict, match="^Lapsed's library card expired on 1 Nov 2026: renew it on their page"):
        lender_to(BOSS, "lapsed", Directory())


def test_messages_speak_to_whoever_reads_them():
    assert addressed(ALICE, "Alice", "You have it", "alice has it") == "You have it"
    assert addressed(BOSS, "alice", "You have it", "alice has it") == "alice has it"


def test_whose_loans_a_caller_may_list():
    assert BOSS.whose(None, "loans") is None and BOSS.whose("bob", "loans") == "bob"
    assert ALICE.whose(None, "loans") == "alice" and ALICE.whose("Alice", "loans") == "alice"
    with pytest.raises(Forbidden, match="your own loans"):
        ALICE.whose("bob", "loans")
