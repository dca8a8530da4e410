from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest


def test_borrowing_returns_the_seed_shape_with_a_due_date(borrow, neighbours):
    neighbours.copies[1] = 1

    response = borrow(1)

    assert response.status_code == 201
    loan = response.json
    assert {k: loan[k] for k in ("id", "username", "book_id", "returned", "overdue")} == {
        "id": 1, "username": "alice", "book_id": 1, "returned": False, "overdue": False}
    borrowed, due = datetime.fromisoformat(loan["borrow_date"]), datetime.fromisoformat(loan["due_date"])
    assert due - borrowed == timedelta(days=14)


def test_borrowing_needs_a_token(client, neighbours):
    neighbours.copies[1] = 1

    response = client.post("/borrowbook", json={"book_id": 1})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_book_is_404(borrow):
    assert borrow(404).status_code == 404


def test_books_service_down_is_503_never_a_guess(borrow, neighbours):
    neighbours.copies[1] = 1
    neighbours.books.down = True

    response = borrow(1)

    assert response.status_code == 503
    assert "books-service" in response.json["message"]


def test_no_free_copy_is_409(borrow, neighbours):
    neighbours.copies[1] = 1
    assert borrow(1, "alice").status_code == 201

    response = borrow(1, "bob")

    assert response.status_code == 409
    assert response.json["message"] == "No copy of this book is free right now: place a hold to be next"


def test_the_same_patron_cannot_hold_two_copies(borrow, neighbours):
    neighbours.copies[1] = 5
    borrow(1)

    assert borrow(1).status_code == 409


def test_the_loan_limit_is_enforced(borrow, neighbours):
    for book_id in range(1, 5):
        neighbours.copies[book_id] = 1
    for book_id in range(1, 4):
        assert borrow(book_id).status_code == 201

    response = borrow(4)

    assert response.status_code == 409
    assert "limit" in response.json["message"].lower()


def test_patrons_borrow_only_for_themselves(borrow, neighbours):
    neighbours.copies[1] = 1

    assert borrow(1, "alice", username="bob").status_code == 403
    assert borrow(1, "alice", username="ALICE").status_code == 201


def test_librarians_check_out_for_existing_patrons(borrow, neighbours):
    neighbours.copies[1] = 1

    assert borrow(1, "boss", "librarian", username="nobody").status_code == 404
    response = borrow(1, "boss", "librarian", username="BOB")

    assert response.status_code == 201
    assert response.json["username"] == "bob"


def test_checking_a_patron_needs_user_service(borrow, neighbours):
    neighbours.copies[1] = 1
    neighbours.user_service.down = True

    assert borrow(1, "boss", "librarian", username="bob").status_code == 503


@pytest.mark.parametrize(
    "body, field",
    [({}, "book_id"), ({"book_id": "1"}, "book_id"), ({"book_id": 0}, "book_id"), ({"book_id": 2**31}, "book_id"),
     ({"book_id": 1, "username": "x y"}, "username"), ({"book_id": 1, "extra": 1}, "extra")],
)
def test_invalid_loan_requests_are_400(client, as_user, body, field):
    response = client.post("/borrowbook", json=body, headers=as_user())

    assert response.status_code == 400
    assert field in response.json["errors"]


def test_thirty_simultaneous_borrows_of_two_copies_make_two_loans(app, neighbours):
    from borrow_service import loans
    from borrow_service.deps import deps
    from library_common.auth import Principal

    neighbours.copies[7] = 2
    neighbours.users |= {f"patron{number}" for number in range(30)}

    def attempt(number):
        with app.app_context():
            try:
                loans.check_out(deps(), Principal(f"patron{number}", "patron"), book_id=7, requested_username=None,
                                now=datetime.now().astimezone())
                return "loan"
            except loans.Conflict:
                return "conflict"

    with ThreadPoolExecutor(max_workers=30) as pool:
        outcomes = list(pool.map(attempt, range(30)))

    assert outcomes.count("loan") == 2
    assert outcomes.count("conflict") == 28
    with app.app_context():
        assert loans.counts([7]) == ({7: 2}, {7: 0})
