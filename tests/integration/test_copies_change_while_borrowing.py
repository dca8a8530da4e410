"""Lowering a book's copies or deleting it while patrons borrow it never leaves more loans than copies
(issue 12, finding 7: books-service counted the loans, then changed the book, while a borrow that had
already read the old copies went on to lend)."""

import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from library_common.testing import register_patron

pytestmark = pytest.mark.integration
PATRONS = 8
ROUNDS = 10


@pytest.fixture(scope="module")
def patrons(stack):
    tokens = []
    for number in range(PATRONS):
        username = stack.approve(register_patron(stack.users, f"shelf{number}", "racing-password"))
        tokens.append(stack.login(username, "racing-password"))
    return tokens


def race(stack, patrons, book_id, change):
    """Every patron borrows `book_id` while the librarian's `change` runs a moment into the rush."""
    start = threading.Barrier(PATRONS + 1)

    def borrow(headers):
        start.wait()
        return requests.post(f"{stack.borrows}/borrowbook", json={"book_id": book_id}, headers=headers,
                             timeout=30).status_code

    def librarian_change():
        start.wait()
        threading.Event().wait(random.uniform(0, 0.05))
        return change()

    with ThreadPoolExecutor(max_workers=PATRONS + 1) as pool:
        borrows = [pool.submit(borrow, headers) for headers in patrons]
        changed = pool.submit(librarian_change)
        return changed.result(), [future.result() for future in borrows]


def active_loans(stack, librarian, book_id):
    response = requests.get(f"{stack.borrows}/borrows", params={"book_id": book_id, "active": "true",
                                                                 "per_page": 100}, headers=librarian, timeout=10)
    return response.json()


def return_all(stack, librarian, loans):
    for loan in loans:
        requests.post(f"{stack.borrows}/borrows/{loan['id']}/return", headers=librarian, timeout=10)


def add_book(stack, librarian, copies):
    return requests.post(f"{stack.books}/books", headers=librarian, timeout=10, json={
        "title": f"Tug of war {uuid.uuid4().hex[:6]}", "author": "R. Ace", "genre": "Races", "copies": copies}).json()


def test_lowering_copies_during_a_rush_never_over_lends(stack, patrons):
    librarian = stack.login(*stack.librarian)
    for _ in range(ROUNDS):
        book = add_book(stack, librarian, copies=4)
        lowered, statuses = race(stack, patrons, book["id"], lambda book=book: requests.patch(
            f"{stack.books}/books/{book['id']}", json={"copies": 1}, headers=librarian, timeout=30))

        copies = requests.get(f"{stack.books}/books/{book['id']}", timeout=10).json()["copies"]
        loans = active_loans(stack, librarian, book["id"])
        assert lowered.status_code in (200, 409), lowered.text
        assert copies == (1 if lowered.status_code == 200 else 4)
        assert len(loans) <= copies, (lowered.status_code, statuses)
        assert set(statuses) <= {201, 409}
        return_all(stack, librarian, loans)


def test_deleting_a_book_during_a_rush_leaves_no_loan_of_a_book_that_is_gone(stack, patrons):
    librarian = stack.login(*stack.librarian)
    for _ in range(ROUNDS):
        book = add_book(stack, librarian, copies=2)
        deleted, statuses = race(stack, patrons, book["id"], lambda book=book: requests.delete(
            f"{stack.books}/books/{book['id']}", headers=librarian, timeout=30))

        exists = requests.get(f"{stack.books}/books/{book['id']}", timeout=10).status_code
        loans = active_loans(stack, librarian, book["id"])
        assert deleted.status_code in (204, 409), deleted.text
        if deleted.status_code == 204:
            assert exists == 404 and loans == [], statuses
        else:
            assert exists == 200 and 0 < len(loans) <= 2
        assert set(statuses) <= {201, 404, 409}
        return_all(stack, librarian, loans)
