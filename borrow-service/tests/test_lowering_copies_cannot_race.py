"""A book's items are read under the book's lock, and the account of its copies out that books-service asks
before an item leaves circulation waits on it (issue 12, finding 7: deleting a book or lowering its copies
could slip between a borrow's look at the book and its loan)."""

import threading
import time


def test_the_copies_out_wait_for_a_borrow_in_flight(app, client, as_user, neighbours):
    neighbours.copies[7] = 2
    answer = neighbours.books_wait = threading.Event()
    results = {}

    def borrow():
        results["borrow"] = app.test_client().post("/borrowbook", json={"book_id": 7}, headers=as_user("alice"))

    def copies_out():
        results["count"] = app.test_client().get("/circulation/books/7", headers=as_user("boss", "librarian"))

    borrowing = threading.Thread(target=borrow)
    borrowing.start()
    time.sleep(0.3)  # the borrow holds the book's lock while it waits for books-service
    counting = threading.Thread(target=copies_out)
    counting.start()
    time.sleep(0.3)

    assert "count" not in results  # waiting on the book's lock
    answer.set()
    borrowing.join(timeout=10)
    counting.join(timeout=10)
    assert results["borrow"].status_code == 201
    assert list(results["count"].json["items"]) == [results["borrow"].json["barcode"]]


def test_librarians_cannot_lend_to_a_deactivated_account(borrow, neighbours):
    neighbours.copies[1] = 1
    neighbours.deactivated.add("bob")

    response = borrow(1, "boss", "librarian", username="bob")

    assert response.status_code == 409
    assert "deactivated" in response.json["message"]
