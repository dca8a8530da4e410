"""N copies mean exactly N loans, however many requests race across borrow-service's worker processes."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from library_common.testing import register_patron

pytestmark = pytest.mark.integration
PATRONS = 30


def test_thirty_patrons_racing_for_two_copies_get_exactly_two_loans(stack):
    librarian = stack.login(*stack.librarian)
    book = requests.post(f"{stack.books}/books", headers=librarian, timeout=5,
                         json={"title": "Popular Book", "author": "A. Writer", "genre": "Fiction", "copies": 2}).json()
    patrons = []
    for number in range(PATRONS):
        patrons.append(stack.login(stack.approve(register_patron(stack.users, f"racer{number:02d}", "racing-password")),
                                   "racing-password"))
    start = threading.Barrier(PATRONS)

    def borrow(headers):
        start.wait()
        return requests.post(f"{stack.borrows}/borrowbook", json={"book_id": book["id"]}, headers=headers,
                             timeout=30).status_code

    with ThreadPoolExecutor(max_workers=PATRONS) as pool:
        statuses = list(pool.map(borrow, patrons))

    assert sorted(statuses) == [201] * 2 + [409] * (PATRONS - 2)
    active = requests.get(f"{stack.borrows}/borrows?book_id={book['id']}&active=true", headers=librarian, timeout=5)
    assert active.headers["X-Total-Count"] == "2"
    assert requests.get(f"{stack.books}/books/{book['id']}", timeout=5).json()["available_copies"] == 0
    workers = len(stack.pids("borrows")) - 1  # all but the gunicorn master
    assert workers >= 2
