"""Holds: the line for a book whose copies are all out, the hold shelf, and what happens at its ends."""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from threading import Barrier

import pytest
import sqlalchemy as sa

from borrow_service import holds as hold_rules
from borrow_service import loans
from borrow_service.deps import deps
from borrow_service.models import Hold, Loan, db
from library_common.auth import Principal

from .conftest import barcode, due_in

LIBRARIAN = ("boss", "librarian")


@pytest.fixture
def all_out(borrow, neighbours):
    """Book 1 has one copy, lent to alice."""
    neighbours.copies[1] = 1
    return borrow(1, "alice").json


def check_in(client, as_user, copy=1):
    """The desk scans the copy alice returns."""
    return client.post("/checkin", json={"barcode": barcode(1, copy)}, headers=as_user(*LIBRARIAN))


def hold_status(client, as_user, hold_id, who="boss", role="librarian"):
    return client.get(f"/holds/{hold_id}", headers=as_user(who, role)).json


def test_placing_a_hold_when_every_copy_is_out(hold, all_out):
    response = hold(1, "bob")

    assert response.status_code == 201
    body = response.json
    assert {key: body[key] for key in ("book_id", "username", "status", "position", "pickup_by")} == {
        "book_id": 1, "username": "bob", "status": "waiting", "position": 1, "pickup_by": None}
    assert body["placed_at"] and body["title"] == "Book 1"
    assert body["estimated_available"] == all_out["due_date"][:10]  # no history yet: the due date


def test_a_free_copy_is_borrowed_not_held(hold, neighbours):
    neighbours.copies[1] = 1

    response = hold(1, "bob")

    assert response.status_code == 409 and response.json["message"].endswith("borrow it instead")


@pytest.mark.parametrize("caller, role, message", [("alice", "patron", "You already have this book"),
                                                   ("boss", "librarian", "alice already has this book")])
def test_no_hold_on_a_book_you_have(hold, all_out, caller, role, message):
    response = hold(1, caller, role, **({"username": "alice"} if role == "librarian" else {}))

    assert response.status_code == 409 and response.json["message"] == message


def test_one_hold_per_patron_and_book(hold, all_out):
    hold(1, "bob")

    response = hold(1, "bob")

    assert response.status_code == 409 and response.json["message"] == "You already have a hold on this book"


def test_at_most_max_holds(hold, borrow, neighbours):
    for book_id in range(1, 5):
        neighbours.copies[book_id] = 1
        assert borrow(book_id, *LIBRARIAN, username="carol" if book_id < 4 else "dave").status_code == 201

    placed = [hold(book_id, "bob").status_code for book_id in range(1, 5)]

    assert placed == [201, 201, 201, 409]


def test_librarians_hold_for_active_patrons_only(hold, all_out, neighbours):
    neighbours.deactivated.add("dave")

    assert hold(1, *LIBRARIAN, username="bob").json["username"] == "bob"
    assert hold(1, *LIBRARIAN, username="dave").status_code == 409
    assert hold(1, *LIBRARIAN, username="nobody").status_code == 404
    assert hold(1, "carol", username="dave").status_code == 403


def test_unknown_books_cannot_be_held(hold):
    assert hold(999, "bob").status_code == 404


def test_position_counts_only_the_holds_waiting_ahead(client, as_user, hold, all_out):
    first, second, third = (hold(1, who).json for who in ("bob", "carol", "dave"))
    client.post(f"/holds/{second['id']}/cancel", headers=as_user("carol"))

    assert [first["position"], second["position"], third["position"]] == [1, 2, 3]
    assert hold_status(client, as_user, third["id"])["position"] == 2
    assert hold_status(client, as_user, second["id"])["position"] is None


def test_a_returned_copy_goes_to_the_first_in_line(client, as_user, hold, borrow, all_out):
    waiting = hold(1, "bob").json
    hold(1, "carol")

    returned = check_in(client, as_user)

    assert returned.status_code == 200
    ready = hold_status(client, as_user, waiting["id"])
    assert ready["status"] == "ready" and ready["barcode"] == barcode(1)
    pickup_by = datetime.fromisoformat(ready["pickup_by"]) - datetime.fromisoformat(ready["ready_at"])
    assert pickup_by == timedelta(days=7)
    assert borrow(1, "carol").status_code == 409  # on the hold shelf for bob, not for carol
    assert borrow(1, "dave").status_code == 409
    lent = borrow(1, "bob")
    assert lent.status_code == 201 and lent.json["barcode"] == barcode(1)
    assert hold_status(client, as_user, waiting["id"])["status"] == "fulfilled"


def test_the_book_counts_the_copy_on_the_hold_shelf_as_out(client, as_user, hold, all_out):
    hold(1, "bob")
    hold(1, "carol")
    check_in(client, as_user)

    assert client.get("/borrows/active-counts?book_id=1").json == {"counts": {"1": 1}, "holds_waiting": {"1": 1}}


@pytest.mark.parametrize("ending", ["cancel", "expire"])
def test_a_ready_hold_that_ends_passes_its_copy_on_or_back(app, client, as_user, hold, borrow, all_out, ending):
    first = hold(1, "bob").json
    second = hold(1, "carol").json
    check_in(client, as_user)

    def end(hold_id, who, days_later):
        if ending == "cancel":
            assert client.post(f"/holds/{hold_id}/cancel", headers=as_user(who)).status_code == 200
        else:
            with app.app_context():
                later = datetime.now(timezone.utc) + timedelta(days=days_later)
                assert hold_rules.expire_uncollected(deps(), later) == 1

    end(first["id"], "bob", days_later=8)
    assert hold_status(client, as_user, first["id"])["status"] == ("cancelled" if ending == "cancel" else "expired")
    assert hold_status(client, as_user, second["id"])["status"] == "ready"
    end(second["id"], "carol", days_later=16)
    assert borrow(1, "dave").json["barcode"] == barcode(1)  # back on the shelf: anyone may borrow it


def test_holds_not_yet_due_do_not_expire(app, hold, client, as_user, all_out):
    hold(1, "bob")
    check_in(client, as_user)

    with app.app_context():
        assert hold_rules.expire_uncollected(deps(), datetime.now(timezone.utc) + timedelta(days=6)) == 0


def test_a_renewal_waits_for_no_one(app, client, as_user, hold, all_out):
    renew = f"/borrows/{all_out['id']}/renew"
    due_in(app, all_out["id"], days=2)
    assert client.post(renew, headers=as_user("alice")).status_code == 200
    hold(1, "bob")

    refused = client.post(renew, headers=as_user("alice"))

    assert refused.status_code == 409 and "Another patron is waiting" in refused.json["message"]


def test_a_renewal_goes_ahead_when_another_copy_can_serve_the_line(app, client, as_user, hold, borrow, neighbours,
                                                                    all_out):
    due_in(app, all_out["id"], days=2)
    hold(1, "bob")
    neighbours.copies[1] = 2  # a copy added while bob waits

    response = client.post(f"/borrows/{all_out['id']}/renew", headers=as_user("alice"))

    assert response.status_code == 200
    assert client.get("/holds", headers=as_user("bob")).json[0]["status"] == "ready"


def test_copies_added_while_patrons_wait_go_to_them(app, client, as_user, hold, neighbours, all_out):
    hold(1, "bob")
    neighbours.copies[1] = 2

    with app.app_context():
        assert hold_rules.allocate_waiting(deps(), datetime.now(timezone.utc)) == 1

    assert client.get("/holds", headers=as_user("bob")).json[0]["barcode"] == barcode(1, 2)


def test_a_free_copy_goes_to_the_line_before_a_walk_in(borrow, hold, neighbours, all_out):
    hold(1, "bob")
    neighbours.copies[1] = 2

    refused = borrow(1, "carol")

    assert refused.status_code == 409 and "1 waiting" not in refused.json["message"]
    assert borrow(1, "bob").status_code == 201


def test_patrons_list_their_own_holds_and_librarians_everyone_s(client, as_user, hold, all_out, neighbours):
    neighbours.copies[2] = 1
    client.post("/borrowbook", json={"book_id": 2}, headers=as_user("carol"))
    hold(1, "bob")
    hold(2, "bob")
    hold(1, "dave")

    mine = client.get("/holds", headers=as_user("bob"))
    everyone = client.get("/holds?book_id=1&status=waiting", headers=as_user(*LIBRARIAN))

    assert [h["book_id"] for h in mine.json] == [2, 1] and mine.headers["X-Total-Count"] == "2"
    assert [h["username"] for h in everyone.json] == ["dave", "bob"]
    assert client.get("/holds?username=dave", headers=as_user("bob")).status_code == 403
    assert client.get(f"/holds/{everyone.json[0]['id']}", headers=as_user("bob")).status_code == 403
    assert client.post(f"/holds/{everyone.json[0]['id']}/cancel", headers=as_user("bob")).status_code == 403
    assert client.get("/holds").status_code == 401


def test_staff_cancel_a_patron_s_hold(client, as_user, hold, all_out):
    placed = hold(1, "bob").json

    cancelled = client.post(f"/holds/{placed['id']}/cancel", headers=as_user(*LIBRARIAN))
    again = client.post(f"/holds/{placed['id']}/cancel", headers=as_user(*LIBRARIAN))

    assert cancelled.json["status"] == "cancelled"
    assert again.status_code == 409 and again.json["message"] == "This hold is cancelled already"


def test_thirty_patrons_racing_to_hold_get_places_1_to_30(app, neighbours):
    neighbours.copies[5] = 1
    neighbours.users |= {f"racer{n}" for n in range(30)}
    start = Barrier(30)
    with app.app_context():
        loans.check_out(deps(), Principal("alice", "patron"), book_id=5, requested_username=None,
                        now=datetime.now(timezone.utc))

    def place(number):
        start.wait()
        with app.app_context():
            moment = datetime.now(timezone.utc)
            placed = hold_rules.place_hold(deps(), Principal(f"racer{number}", "patron"), book_id=5,
                                           requested_username=None, now=moment)
            return hold_rules.with_queue_places([placed], deps(), moment)[0].id

    with ThreadPoolExecutor(max_workers=30) as pool:
        ids = list(pool.map(place, range(30)))

    with app.app_context():
        placed = hold_rules.with_queue_places(db.session.query(Hold).filter(Hold.id.in_(ids)).all(), deps(),
                                              datetime.now(timezone.utc))
        assert sorted(hold.position for hold in placed) == list(range(1, 31))


def test_returns_racing_with_borrows_never_give_a_shelved_copy_to_anyone_else(app, neighbours):
    """Two copies lent, a line of two; the copies come back while twenty walk-ins try to borrow."""
    neighbours.copies[6] = 2
    neighbours.users |= {f"walkin{n}" for n in range(20)}
    now = datetime.now(timezone.utc)
    with app.app_context():
        lent = [loans.check_out(deps(), Principal(who, "patron"), book_id=6, requested_username=None, now=now).id
                for who in ("alice", "bob")]
        for who in ("carol", "dave"):
            hold_rules.place_hold(deps(), Principal(who, "patron"), book_id=6, requested_username=None, now=now)
    start = Barrier(22)

    def act(number):
        start.wait()
        with app.app_context():
            try:
                if number < 2:
                    loans.return_loan(deps(), loan_id=lent[number], actor=Principal("boss", "librarian"),
                                      now=datetime.now(timezone.utc))
                    return "returned"
                loans.check_out(deps(), Principal(f"walkin{number - 2}", "patron"), book_id=6,
                                requested_username=None, now=datetime.now(timezone.utc))
                return "borrowed"
            except loans.Conflict:
                return "refused"

    with ThreadPoolExecutor(max_workers=22) as pool:
        outcomes = list(pool.map(act, range(22)))

    assert outcomes.count("returned") == 2 and outcomes.count("borrowed") == 0
    with app.app_context():
        ready = {hold.username: hold.barcode for hold in db.session.query(Hold).filter_by(book_id=6, status="ready")}
        active = db.session.query(Loan).filter_by(book_id=6, returned=False).count()
    assert set(ready) == {"carol", "dave"} and set(ready.values()) == {barcode(6, 1), barcode(6, 2)}
    assert active == 0


def test_two_simultaneous_returns_with_one_hold_waiting_trap_one_copy_and_free_the_other(app, neighbours):
    neighbours.copies[7] = 2
    now = datetime.now(timezone.utc)
    with app.app_context():
        lent = [loans.check_out(deps(), Principal(who, "patron"), book_id=7, requested_username=None, now=now).id
                for who in ("alice", "bob")]
        hold_rules.place_hold(deps(), Principal("carol", "patron"), book_id=7, requested_username=None, now=now)
    start = Barrier(2)

    def give_back(loan_id):
        start.wait()
        with app.app_context():
            return loans.return_loan(deps(), loan_id=loan_id, actor=Principal("boss", "librarian"),
                                     now=datetime.now(timezone.utc)).id

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(give_back, lent))

    with app.app_context():
        shelved = db.session.query(Hold).filter_by(book_id=7, status="ready").all()
        free = loans.counts([7])
    assert len(shelved) == 1 and shelved[0].username == "carol"
    assert free == ({7: 1}, {7: 0})  # one copy out (on the hold shelf), the other free


def test_the_library_s_habits_come_from_its_history(app):
    from borrow_service.estimates import library_habits

    with app.app_context():
        policy = deps().policy
        assert library_habits(policy).loan_length == policy.loan_period  # too little history: the rules
        db.session.execute(sa.text(
            "INSERT INTO loans (username, book_id, borrow_date, due_date, returned, returned_date, renewals) "
            "SELECT 'reader' || g, 100 + g, now() - interval '30 days', now() - interval '20 days', true, "
            "now() - interval '18 days', 0 FROM generate_series(1, 25) AS g"))
        db.session.commit()
        habits = library_habits(policy)

    assert habits.lateness == timedelta(days=2) and habits.loan_length == timedelta(days=12)
    assert habits.pickup_delay == policy.pickup_window / 2


def test_closing_an_account_cancels_its_holds_and_passes_their_copies_on(client, as_user, hold, borrow, all_out):
    mine = hold(1, "bob").json
    hold(1, "carol")
    check_in(client, as_user)  # on the hold shelf for bob

    response = client.post("/patrons/bob/close", headers=as_user(*LIBRARIAN))

    assert response.status_code == 200 and response.json == {"username": "bob", "holds_cancelled": 1}
    assert hold_status(client, as_user, mine["id"])["status"] == "cancelled"
    assert client.get("/holds?username=carol", headers=as_user(*LIBRARIAN)).json[0]["status"] == "ready"


def test_an_account_with_books_on_loan_is_not_closed(client, as_user, all_out):
    response = client.post("/patrons/alice/close", headers=as_user(*LIBRARIAN))

    assert response.status_code == 409 and "still has books on loan" in response.json["message"]
    assert client.post("/patrons/alice/close", headers=as_user("alice")).status_code == 403
