"""The lending rules that need no database."""

from datetime import datetime, timedelta, timezone

import pytest

from borrow_service.loans import LoanPolicy, borrower, is_overdue, lender_to, whose_loans
from borrow_service.models import Loan
from borrow_service.neighbours import Account
from library_common.auth import Principal
from library_common.errors import Conflict, Forbidden

ALICE = Principal("alice", "patron")
BOSS = Principal("boss", "librarian")
NOW = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)


class Directory:
    def account(self, username, token):
        return Account(username.capitalize(), active=username.lower() != "gone")


def test_a_loan_period_is_the_policy_s_days():
    assert LoanPolicy(loan_days=14, max_active_loans=5, max_renewals=2).loan_period == timedelta(days=14)


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


def test_whose_loans_a_caller_may_list():
    assert whose_loans(BOSS, None) is None and whose_loans(BOSS, "bob") == "bob"
    assert whose_loans(ALICE, None) == "alice" and whose_loans(ALICE, "Alice") == "alice"
    with pytest.raises(Forbidden):
        whose_loans(ALICE, "bob")


def test_librarians_lend_only_to_active_accounts():
    """Issue 12, finding 7: a librarian could check out to a deactivated account."""
    assert lender_to(BOSS, "carol", Directory()) == "Carol"
    with pytest.raises(Conflict, match="deactivated"):
        lender_to(BOSS, "gone", Directory())
    assert borrower(BOSS, "gone", Directory()) == "Gone"  # returning for it is still fine
