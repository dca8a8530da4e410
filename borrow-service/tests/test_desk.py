"""The desk by scanner: lend the scanned item, check items in and hear where each goes."""

import pytest
import sqlalchemy as sa

from borrow_service.models import db

from .conftest import barcode


@pytest.fixture
def two_copies(neighbours):
    neighbours.copies[1] = 2


def test_the_desk_lends_the_item_it_scanned(desk, two_copies):
    response = desk.check_out(barcode(1, 2), "alice")

    assert response.status_code == 201
    assert (response.json["barcode"], response.json["username"], response.json["title"]) == (
        barcode(1, 2), "alice", "Book 1")


def test_an_item_on_loan_is_not_lent_again(desk, two_copies):
    desk.check_out(barcode(1), "alice")

    response = desk.check_out(barcode(1), "bob")

    assert response.status_code == 409 and "already on loan" in response.json["message"]


def test_an_item_out_of_circulation_is_not_lent(desk, two_copies, neighbours):
    neighbours.statuses[barcode(1)] = "missing"

    response = desk.check_out(barcode(1), "alice")

    assert response.status_code == 409 and "not in circulation" in response.json["message"]


def test_the_desk_speaks_of_the_patron_by_name(desk, two_copies):
    desk.check_out(barcode(1), "alice")

    response = desk.check_out(barcode(1, 2), "alice")

    assert response.json["message"] == "alice already has this book"


def test_deactivated_and_unknown_patrons_and_items(desk, two_copies, neighbours):
    neighbours.deactivated.add("dave")

    assert desk.check_out(barcode(1), "dave").status_code == 409
    assert desk.check_out(barcode(1), "nobody").status_code == 404
    assert desk.check_out("NO-SUCH-ITEM", "alice").status_code == 404
    assert desk.check_in("NO-SUCH-ITEM").status_code == 404


def test_check_in_sends_the_item_back_to_the_shelf(desk, two_copies, borrow):
    desk.check_out(barcode(1), "alice")

    response = desk.check_in(barcode(1))

    assert response.status_code == 200
    assert response.json["route"] == "shelf" and response.json["hold"] is None
    assert response.json["loan"]["returned"] is True and response.json["loan"]["username"] == "alice"
    assert desk.check_in(barcode(1)).status_code == 409  # not on loan any more


def test_check_in_sends_the_item_to_the_hold_shelf_for_the_first_in_line(desk, hold, neighbours):
    neighbours.copies[1] = 1
    desk.check_out(barcode(1), "alice")
    hold(1, "bob")

    response = desk.check_in(barcode(1))

    assert response.json["route"] == "hold_shelf"
    slip = response.json["hold"]
    assert (slip["username"], slip["barcode"], slip["status"]) == ("bob", barcode(1), "ready")
    assert slip["pickup_by"]
    refused = desk.check_out(barcode(1), "carol")
    assert refused.status_code == 409 and "on the hold shelf for bob" in refused.json["message"]
    assert desk.check_out(barcode(1), "bob").status_code == 201


def test_an_item_withdrawn_while_out_is_checked_in_and_taken_out_of_circulation(desk, two_copies, neighbours):
    desk.check_out(barcode(1), "alice")
    neighbours.statuses[barcode(1)] = "withdrawn"

    response = desk.check_in(barcode(1))

    assert response.json["route"] == "out_of_circulation"


def test_a_loan_from_before_barcodes_is_checked_in_by_any_copy_of_its_book(app, desk, two_copies):
    with app.app_context():
        db.session.execute(sa.text("INSERT INTO loans (username, book_id, borrow_date, due_date, returned, renewals) "
                                   "VALUES ('alice', 1, now(), now() + interval '14 days', false, 0)"))
        db.session.commit()
    assert desk.check_out(barcode(1, 2), "bob").status_code == 201  # one copy is "some copy" of alice's
    assert desk.check_out(barcode(1), "carol").status_code == 409

    response = desk.check_in(barcode(1))

    assert response.status_code == 200 and response.json["loan"]["username"] == "alice"
    assert response.json["loan"]["barcode"] == barcode(1)


def test_the_desk_is_for_librarians(client, as_user, two_copies):
    for path, body in (("/checkout", {"barcode": barcode(1), "username": "alice"}),
                       ("/checkin", {"barcode": barcode(1)})):
        assert client.post(path, json=body).status_code == 401
        assert client.post(path, json=body, headers=as_user("alice")).status_code == 403


@pytest.mark.parametrize("body", [{"barcode": "ab", "username": "alice"}, {"barcode": "with space", "username": "x1"},
                                  {"username": "alice"}, {"barcode": "B001-1"}])
def test_bad_desk_requests_are_400(client, as_user, body):
    assert client.post("/checkout", json=body, headers=as_user("boss", "librarian")).status_code == 400


def test_who_has_each_copy_of_a_book(client, as_user, desk, hold, neighbours):
    neighbours.copies[1] = 2
    desk.check_out(barcode(1), "alice")
    desk.check_out(barcode(1, 2), "bob")
    hold(1, "carol")
    desk.check_in(barcode(1, 2))

    response = client.get("/circulation/books/1", headers=as_user("boss", "librarian"))

    assert response.status_code == 200
    items = response.json["items"]
    assert items[barcode(1)]["state"] == "on_loan" and items[barcode(1)]["username"] == "alice"
    assert items[barcode(1, 2)]["state"] == "on_hold_shelf" and items[barcode(1, 2)]["username"] == "carol"
    assert response.json["holds_waiting"] == 0
    assert client.get("/circulation/books/1", headers=as_user("alice")).status_code == 403


def test_a_service_asks_about_copies_only_with_the_circulation_scope(client, tokens):
    books_service = tokens.headers("books-service", "service", scope="circulation:read")
    another = tokens.headers("notification-service", "service", scope="events:read links:mail")

    assert client.get("/circulation/books/1", headers=books_service).status_code == 200
    assert client.get("/circulation/books?book_id=1", headers=books_service).status_code == 200
    assert client.get("/circulation/books/1", headers=another).status_code == 403
    assert client.get("/events", headers=books_service).status_code == 403
    assert client.get("/events", headers=another).status_code == 200
    assert client.get("/events", headers=tokens.headers("boss", "librarian")).status_code == 403


def test_a_copy_scanned_on_the_hold_shelf_says_whose_it_is(desk, hold, neighbours, borrow):
    neighbours.copies[1] = 1
    borrow(1, "alice")
    hold(1, "bob")
    desk.check_in(barcode(1))

    again = desk.check_in(barcode(1))

    assert again.status_code == 409
    assert again.json["message"].startswith(f"Item {barcode(1)} (Book 1) is on the hold shelf for bob until ")
    assert again.json["errors"] == {"hold_shelf": "bob"}


@pytest.mark.parametrize("status", ["missing", "lost"])
def test_a_missing_copy_that_turns_up_is_offered_mark_found(desk, two_copies, neighbours, status):
    neighbours.statuses[barcode(1)] = status

    scanned = desk.check_in(barcode(1))

    assert scanned.status_code == 409 and scanned.json["errors"] == {"item_status": status}
    assert scanned.json["message"].endswith("mark it found to put it back in circulation")


def test_a_librarian_lends_past_the_limit_with_a_reason_and_it_is_recorded(client, as_user, neighbours, borrow):
    for book_id in (1, 2, 3, 4):
        neighbours.copies[book_id] = 1
    for book_id in (1, 2, 3):  # MAX_ACTIVE_LOANS is 3 here
        borrow(book_id)
    librarian = as_user("boss", "librarian")

    refused = client.post("/checkout", json={"barcode": barcode(4), "username": "alice"}, headers=librarian)
    lent = client.post("/checkout", json={"barcode": barcode(4), "username": "alice",
                                          "override_reason": "Exam week", "due_date": "2099-01-05"}, headers=librarian)

    assert refused.status_code == 409 and "loan limit" in refused.json["message"]
    assert lent.status_code == 201
    assert (lent.json["override_reason"], lent.json["overridden_by"]) == ("Exam week", "boss")
    assert lent.json["due_date"].startswith("2099-01-05T23:59")  # the end of that day (the library's UTC here)


@pytest.mark.parametrize("body, field", [({"due_date": "2099-01-05"}, "due_date"),
                                         ({"override_reason": "no"}, "override_reason"),
                                         ({"override_reason": "Because", "due_date": "2001-01-01"}, "due_date")])
def test_an_override_needs_a_reason_and_a_date_to_come(client, as_user, two_copies, body, field):
    response = client.post("/checkout", json={"barcode": barcode(1), "username": "alice", **body},
                           headers=as_user("boss", "librarian"))

    assert response.status_code == 400 and field in response.json["errors"]
    assert client.get("/borrows?username=alice", headers=as_user("boss", "librarian")).json == []
