from datetime import datetime, timedelta, timezone

import pytest

from borrow_service.models import Loan, db

from .conftest import due_in


@pytest.fixture
def alice_has_book_1(borrow, neighbours):
    neighbours.copies[1] = 1
    return borrow(1).json


def test_returning_frees_the_copy(client, as_user, borrow, alice_has_book_1):
    response = client.post("/return", json={"book_id": 1}, headers=as_user())

    assert response.status_code == 200
    assert response.json["returned"] is True and response.json["returned_date"]
    assert borrow(1, "bob").status_code == 201


def test_returning_what_you_do_not_have_is_404(client, as_user, alice_has_book_1):
    assert client.post("/return", json={"book_id": 1}, headers=as_user("bob")).status_code == 404


def test_patrons_return_only_their_own(client, as_user, alice_has_book_1):
    assert client.post("/return", json={"book_id": 1, "username": "alice"}, headers=as_user("bob")).status_code == 403


def test_librarians_check_in_for_patrons(client, as_user, alice_has_book_1):
    response = client.post("/return", json={"book_id": 1, "username": "alice"}, headers=as_user("boss", "librarian"))

    assert response.status_code == 200


def test_a_loan_is_returned_by_its_id(client, as_user, borrow, alice_has_book_1):
    response = client.post(f"/borrows/{alice_has_book_1['id']}/return", headers=as_user())

    assert response.status_code == 200
    assert response.json["id"] == alice_has_book_1["id"] and response.json["returned"] is True
    assert borrow(1, "bob").status_code == 201


def test_returning_a_loan_twice_is_409(client, as_user, alice_has_book_1):
    url = f"/borrows/{alice_has_book_1['id']}/return"
    client.post(url, headers=as_user())

    response = client.post(url, headers=as_user())

    assert response.status_code == 409 and "returned already" in response.json["message"]


@pytest.mark.parametrize("caller, role, status", [("alice", "patron", 200), ("bob", "patron", 403),
                                                  ("boss", "librarian", 200)])
def test_a_loan_is_returned_by_its_borrower_or_a_librarian(client, as_user, alice_has_book_1, caller, role, status):
    response = client.post(f"/borrows/{alice_has_book_1['id']}/return", headers=as_user(caller, role))

    assert response.status_code == status


def test_returning_an_unknown_loan_is_404(client, as_user):
    assert client.post("/borrows/999/return", headers=as_user()).status_code == 404


def test_renewal_counts_a_loan_period_from_today_up_to_the_limit(app, client, as_user, alice_has_book_1):
    url = f"/borrows/{alice_has_book_1['id']}/renew"
    due_in(app, alice_has_book_1["id"], days=2)
    before = datetime.now(timezone.utc)
    first = client.post(url, headers=as_user())
    due_in(app, alice_has_book_1["id"], days=1)
    second = client.post(url, headers=as_user())
    due_in(app, alice_has_book_1["id"], days=1)
    third = client.post(url, headers=as_user())

    assert before + timedelta(days=14) <= datetime.fromisoformat(first.json["due_date"]) <= (
        datetime.now(timezone.utc) + timedelta(days=14))
    assert second.json["renewals"] == 2 and second.json["renewals_left"] == 0
    assert third.status_code == 409 and third.json["message"] == "Already renewed 2 times, the most allowed"


def test_a_renewal_that_would_give_no_more_time_is_refused(client, as_user, alice_has_book_1):
    """Counted from today, a renewal on the day of the loan ends when the loan does: it would spend a renewal
    for nothing (the seed's rule added a period to the due date, so two clicks made a six-week loan)."""
    refused = client.post(f"/borrows/{alice_has_book_1['id']}/renew", headers=as_user())

    assert refused.status_code == 409
    assert refused.json["message"].startswith("Renewing today would give no more time: it is due on ")


def test_overdue_loans_cannot_be_renewed(app, client, as_user, alice_has_book_1):
    with app.app_context():
        db.session.get(Loan, alice_has_book_1["id"]).due_date = datetime.now(timezone.utc) - timedelta(days=1)
        db.session.commit()

    response = client.post(f"/borrows/{alice_has_book_1['id']}/renew", headers=as_user())

    assert response.status_code == 409
    assert "overdue" in response.json["message"].lower()
    assert client.get("/borrows", headers=as_user()).json[0]["overdue"] is True


def test_renewal_rules(app, client, as_user, alice_has_book_1):
    url = f"/borrows/{alice_has_book_1['id']}/renew"
    due_in(app, alice_has_book_1["id"], days=2)

    assert client.post(url, headers=as_user("bob")).status_code == 403
    assert client.post(url, headers=as_user("boss", "librarian")).status_code == 200
    assert client.post("/borrows/999/renew", headers=as_user()).status_code == 404
    client.post("/return", json={"book_id": 1}, headers=as_user())
    assert client.post(url, headers=as_user()).status_code == 409
