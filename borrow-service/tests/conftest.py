
from datetime import datetime, timedelta, timezone

import pytest

from borrow_service import create_app
from borrow_service.models import Loan, db
from library_common import deps
from library_common.testing import migrated_app

BOOKS_SERVICE = "http://books-service.test"
USER_SERVICE = "http://user-service.test"


@pytest.fixture(scope="session")
def app(postgres_server_url, tokens):
    app = migrated_app(create_app, postgres_server_url, "borrows", BOOKS_SERVICE_URL=BOOKS_SERVICE,
                       USER_SERVICE_URL=USER_SERVICE, HTTP_RETRIES=0, MAX_ACTIVE_LOANS=3, MAX_HOLDS=3)
    deps.replace(app, token_verifier=tokens.verifier())
    return app


def due_in(app, loan_id, days, loan_days=14):
    """Make a loan (lent for `loan_days`) due in `days` from now, as if lent that long ago."""
    with app.app_context():
        loan = db.session.get(Loan, loan_id)
        loan.due_date = datetime.now(timezone.utc) + timedelta(days=days)
        loan.borrow_date = loan.due_date - timedelta(days=loan_days)
        db.session.commit()


def barcode(book_id, copy=1):
    """The barcode the fake books-service gives copy `copy` of a book."""
    return f"B{book_id:03d}-{copy}"


class Neighbours:
    """books-service's books and items and user-service's users, answering from `copies` ({book_id: copies},
    items barcoded with `barcode()`), `statuses` ({barcode: inventory status}, 'available' when absent),
    `item_types` ({barcode: type}, 'book' when absent), `categories` ({username: category}, 'adult'),
    `expired_cards` (usernames),
    `users`, `deactivated` and `provisional` ({username: what approves it}); `books.down` / `user_service.down`
    stop either. While `books_wait` (a threading.Event) is set on it but not yet set itself, books-service does
    not list a book's items."""

    def __init__(self, fake_neighbour):
        self.copies, self.statuses = {}, {}
        self.users, self.deactivated = {"alice", "bob", "boss", "carol", "dave"}, set()
        self.provisional = {}
        self.item_types, self.categories, self.expired_cards = {}, {}, set()  # {barcode: type}, {user: category}
        self.books_wait = None
        self.books = fake_neighbour(BOOKS_SERVICE)
        self.books.route("GET", r"/books/(\d+)/items$", self._items)
        self.books.route("GET", r"/books/(\d+)(\?.*)?$", self._book)
        self.books.route("GET", r"/items/([^/?]+)$", self._item)
        self.books.route("GET", r"/item-types$", lambda _request, _match: (200, [
            {"code": code, "name": code.title()} for code in ("book", "reference", "dvd")]))
        self.user_service = fake_neighbour(USER_SERVICE)
        self.user_service.route("GET", r"/users/([^/?]+)", self._user)
        self.user_service.route("GET", r"/patron-categories$", lambda _request, _match: (200, [
            {"code": code, "name": code.title()} for code in ("adult", "child", "staff")]))

    def _item_json(self, book_id, copy):
        code = barcode(book_id, copy)
        return {"barcode": code, "book_id": book_id, "title": f"Book {book_id}",
                "status": self.statuses.get(code, "available"), "item_type": self.item_types.get(code, "book")}

    def _items(self, _request, match):
        if self.books_wait is not None:
            self.books_wait.wait(timeout=10)
        book_id = int(match.group(1))
        if book_id not in self.copies:
            return 404, {"message": "No book"}
        return 200, [self._item_json(book_id, copy) for copy in range(1, self.copies[book_id] + 1)]

    def _book(self, _request, match):
        book_id = int(match.group(1))
        if book_id not in self.copies:
            return 404, {"message": "No book"}
        return 200, {"id": book_id, "title": f"Book {book_id}", "copies": self.copies[book_id]}

    def _item(self, _request, match):
        for book_id, copies in self.copies.items():
            for copy in range(1, copies + 1):
                if barcode(book_id, copy) == match.group(1):
                    return 200, self._item_json(book_id, copy)
        return 404, {"message": "No item"}

    def _user(self, _request, match):
        found = next((user for user in self.users if user.lower() == match.group(1).lower()), None)
        if found is None:
            return 404, {"message": "No user"}
        return 200, {"username": found, "active": found not in self.deactivated,
                     "provisional": found in self.provisional, "awaiting": self.provisional.get(found),
                     "category": self.categories.get(found, "adult"), "card_expired": found in self.expired_cards,
                     "card_expires_on": "2026-11-01" if found in self.expired_cards else None}


@pytest.fixture(autouse=True)
def neighbours(fake_neighbour):
    return Neighbours(fake_neighbour)


@pytest.fixture
def as_user(tokens):
    def headers(username="alice", role="patron"):
        return tokens.headers(username, role)

    return headers


@pytest.fixture
def borrow(client, as_user):
    def borrow_book(book_id, caller="alice", role="patron", **body):
        return client.post("/borrowbook", json={"book_id": book_id, **body}, headers=as_user(caller, role))

    return borrow_book


@pytest.fixture
def hold(client, as_user):
    def place(book_id, caller="bob", role="patron", **body):
        return client.post("/holds", json={"book_id": book_id, **body}, headers=as_user(caller, role))

    return place


@pytest.fixture
def desk(client, as_user):
    """The loans desk: check_out(barcode, username) and check_in(barcode), as a librarian."""
    class Desk:
        @staticmethod
        def check_out(code, username):
            return client.post("/checkout", json={"barcode": code, "username": username},
                               headers=as_user("boss", "librarian"))

        @staticmethod
        def check_in(code):
            return client.post("/checkin", json={"barcode": code}, headers=as_user("boss", "librarian"))

    return Desk
