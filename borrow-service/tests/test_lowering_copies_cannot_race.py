"""A book's copies are read under the book's lock, and books-service's confirmation waits on it (issue 12,
finding 7: deleting a book or lowering its copies could slip between a borrow's look at the book and its loan)."""

import threading
import time


def test_the_settled_count_waits_for_a_borrow_in_flight(app, client, as_user, neighbours):
    neighbours.copies[7] = 2
    answer = neighbours.books_wait = threading.Event()
    results = {}

    def borrow():
        results["borrow"] = app.test_client().post("/borrowbook", json={"book_id": 7}, headers=as_user("alice"))

    def settled_count():
        results["count"] = app.test_client().get("/borrows/book/7/active-count", headers=as_user("boss", "librarian"))

    borrowing = threading.Thread(target=borrow)
    borrowing.start()
    time.sleep(0.3)  # the borrow holds the book's lock while it waits for books-service
    counting = threading.Thread(target=settled_count)
    counting.start()
    time.sleep(0.3)

    assert "count" not in results  # waiting on the book's lock
    answer.set()
    borrowing.join(timeout=10)
    counting.join(timeout=10)
    assert results["borrow"].status_code == 201
    assert results["count"].json == {"book_id": 7, "active": 1}


def test_the_settled_count_is_for_librarians(client, as_user):
    assert client.get("/borrows/book/7/active-count").status_code == 401
    assert client.get("/borrows/book/7/active-count", headers=as_user("alice")).status_code == 403
    assert client.get("/borrows/book/7/active-count", headers=as_user("boss", "librarian")).json == {
        "book_id": 7, "active": 0}


def test_librarians_cannot_lend_to_a_deactivated_account(borrow, neighbours):
    neighbours.copies[1] = 1
    neighbours.deactivated.add("bob")

    response = borrow(1, "boss", "librarian", username="bob")

    assert response.status_code == 409
    assert "deactivated" in response.json["message"]
