
import pytest

from borrow_service import create_app
from library_common import deps
from library_common.testing import migrated_app

BOOKS_SERVICE = "http://books-service.test"
USER_SERVICE = "http://user-service.test"


@pytest.fixture(scope="session")
def app(postgres_server_url, tokens):
    app = migrated_app(create_app, postgres_server_url, "borrows", BOOKS_SERVICE_URL=BOOKS_SERVICE,
                       USER_SERVICE_URL=USER_SERVICE, HTTP_RETRIES=0, MAX_ACTIVE_LOANS=3)
    deps.replace(app, token_verifier=tokens.verifier())
    return app


class Neighbours:
    """books-service's `GET /books/<id>` and user-service's `GET /users/<name>`, answering from
    `copies` ({book_id: copies}), `users` and `deactivated`; `books.down` / `user_service.down` stop either.
    While `books_wait` (a threading.Event) is set on it but not yet set itself, books-service does not answer."""

    def __init__(self, fake_neighbour):
        self.copies = {}
        self.users = {"alice", "bob", "boss"}
        self.deactivated = set()
        self.books_wait = None
        self.books = fake_neighbour(BOOKS_SERVICE)
        self.books.route("GET", r"/books/(\d+).*", self._book)
        self.user_service = fake_neighbour(USER_SERVICE)
        self.user_service.route("GET", r"/users/([^/?]+)", self._user)

    def _book(self, _request, match):
        if self.books_wait is not None:
            self.books_wait.wait(timeout=10)
        book_id = int(match.group(1))
        if book_id not in self.copies:
            return 404, {"message": "No book"}
        return 200, {"id": book_id, "title": f"Book {book_id}", "copies": self.copies[book_id]}

    def _user(self, _request, match):
        found = next((user for user in self.users if user.lower() == match.group(1).lower()), None)
        if found is None:
            return 404, {"message": "No user"}
        return 200, {"username": found, "active": found not in self.deactivated}


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
