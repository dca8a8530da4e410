"""Reading history is kept only when the patron chooses; otherwise returned loans lose the name."""

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from borrow_service import history
from borrow_service.deps import deps


@pytest.fixture
def returned_loan(client, as_user, borrow, neighbours):
    neighbours.copies[1] = 1
    loan = borrow(1, "alice").json
    client.post(f"/borrows/{loan['id']}/return", headers=as_user("alice"))
    return loan


def anonymise(app, days_later):
    with app.app_context():
        return history.anonymise_expired(deps().policy, deps().history_key,
                                         datetime.now(timezone.utc) + timedelta(days=days_later))


def test_history_is_not_kept_unless_chosen(app, client, as_user, returned_loan):
    assert client.get("/patrons/alice/settings", headers=as_user("alice")).json == {
        "username": "alice", "keep_history": False}
    assert anonymise(app, days_later=29) == 0

    assert anonymise(app, days_later=31) == 1

    assert client.get("/borrows", headers=as_user("alice")).json == []
    everyone = client.get("/borrows", headers=as_user("boss", "librarian")).json
    assert [(loan["id"], loan["username"]) for loan in everyone] == [(returned_loan["id"], None)]


def test_a_patron_who_keeps_history_keeps_it(app, client, as_user, returned_loan):
    chosen = client.put("/patrons/alice/settings", json={"keep_history": True}, headers=as_user("alice"))

    assert chosen.status_code == 200 and chosen.json["keep_history"] is True
    assert anonymise(app, days_later=365) == 0
    assert [loan["id"] for loan in client.get("/borrows", headers=as_user("alice")).json] == [returned_loan["id"]]


def test_active_loans_are_never_anonymised(app, client, as_user, borrow, neighbours):
    neighbours.copies[2] = 1
    borrow(2, "alice")

    assert anonymise(app, days_later=365) == 0
    assert len(client.get("/borrows", headers=as_user("alice")).json) == 1


def test_a_patron_deletes_their_history_at_once(client, as_user, borrow, returned_loan, neighbours):
    neighbours.copies[2] = 1
    borrow(2, "alice")

    response = client.delete("/patrons/alice/history", headers=as_user("alice"))

    assert response.status_code == 204
    assert [loan["book_id"] for loan in client.get("/borrows", headers=as_user("alice")).json] == [2]


def test_the_pseudonym_is_keyed_and_stable():
    assert history.pseudonym("key", "Alice") == history.pseudonym("key", "alice")
    assert history.pseudonym("key", "alice") != history.pseudonym("another key", "alice")
    assert "alice" not in history.pseudonym("key", "alice")


def test_only_the_patron_chooses(client, as_user):
    assert client.put("/patrons/alice/settings", json={"keep_history": True},
                      headers=as_user("boss", "librarian")).status_code == 403
    assert client.put("/patrons/alice/settings", json={"keep_history": True}, headers=as_user("bob")).status_code == 403
    assert client.get("/patrons/alice/settings", headers=as_user("bob")).status_code == 403
    assert client.get("/patrons/alice/settings", headers=as_user("boss", "librarian")).status_code == 200
    assert client.delete("/patrons/alice/history", headers=as_user("boss", "librarian")).status_code == 403
    assert client.put("/patrons/alice/settings", json={"keep_history": 1}, headers=as_user("alice")).status_code == 400


def test_a_patron_at_a_glance(client, as_user, borrow, hold, neighbours):
    neighbours.copies[1] = neighbours.copies[2] = 1
    loan = borrow(1, "alice").json
    borrow(2, "carol")
    hold(2, "alice")

    mine = client.get("/patrons/alice?book_id=1", headers=as_user("alice")).json
    on_two = client.get("/patrons/alice?book_id=2", headers=as_user("boss", "librarian")).json

    assert {key: mine[key] for key in ("active_loans", "overdue_loans", "waiting_holds", "ready_holds",
                                       "max_active_loans", "may_borrow", "may_hold", "keep_history")} == {
        "active_loans": 1, "overdue_loans": 0, "waiting_holds": 1, "ready_holds": 0, "max_active_loans": 3,
        "may_borrow": True, "may_hold": True, "keep_history": False}
    assert mine["loan"]["id"] == loan["id"] and mine["hold"] is None
    assert on_two["loan"] is None and on_two["hold"]["position"] == 1
    assert client.get("/patrons/alice", headers=as_user("bob")).status_code == 403


def log_of(app):
    """(type, subject, payload) of every event in borrow-service's log."""
    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        rows = session.execute(sa.text("SELECT type, subject, payload FROM events ORDER BY id")).all()
        session.rollback()
    return [tuple(row) for row in rows]


def test_deleting_ones_history_scrubs_the_event_log_too(app, client, as_user, borrow, returned_loan, neighbours):
    neighbours.copies[2] = 1
    borrow(2, "bob")
    assert {subject for _type, subject, _payload in log_of(app)} == {"alice", "bob"}

    client.delete("/patrons/alice/history", headers=as_user("alice"))

    log = log_of(app)
    assert [subject for _type, subject, _payload in log if subject != "bob"] == [None, None]
    assert all(set(payload) <= {"loan_id", "book_id", "hold_id"} for _type, subject, payload in log if subject is None)
    assert ("loan.made", "bob") in [(kind, subject) for kind, subject, _payload in log]


def test_anonymising_old_history_also_scrubs_old_events(app, returned_loan):
    anonymise(app, days_later=31)

    assert [subject for _type, subject, _payload in log_of(app)] == [None, None]
