import json
import re

import pytest
import requests
import responses

from borrow_service import create_app
from library_common.testing import migrated_app

BOOKS_SERVICE = "http://books-service.test"
USER_SERVICE = "http://user-service.test"


@pytest.fixture(scope="session")
def app(postgres_server_url, tokens):
    app = migrated_app(create_app, postgres_server_url, "borrows", BOOKS_SERVICE_URL=BOOKS_SERVICE,
                       USER_SERVICE_URL=USER_SERVICE, HTTP_RETRIES=0, MAX_ACTIVE_LOANS=3)
    app.extensions["token_verifier"] = tokens.verifier()
    return app


class FakeNeighbours:
    """books-service's `GET /books/<id>` and user-service's `GET /users/<name>`, answering from dicts."""

    def __init__(self, mock):
        self.copies = {}  # book_id -> copies
        self.users = {"alice", "bob", "boss"}
        self.books_down = False
        self.users_down = False
        mock.add_callback(responses.GET, re.compile(re.escape(BOOKS_SERVICE) + r"/books/(\d+).*"),
                          callback=self._book)
        mock.add_callback(responses.GET, re.compile(re.escape(USER_SERVICE) + r"/users/([^/?]+)"),
                          callback=self._user)
        self.mock = mock

    def _book(self, request):
        if self.books_down:
            raise requests.ConnectionError("books-service is down")
        book_id = int(re.search(r"/books/(\d+)", request.url).group(1))
        if book_id not in self.copies:
            return 404, {}, '{"message": "No book"}'
        body = {"id": book_id, "title": f"Book {book_id}", "copies": self.copies[book_id]}
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    def _user(self, request):
        if self.users_down:
            raise requests.ConnectionError("user-service is down")
        name = request.url.rsplit("/", 1)[1]
        match = next((user for user in self.users if user.lower() == name.lower()), None)
        if match is None:
            return 404, {}, '{"message": "No user"}'
        return 200, {}, json.dumps({"username": match})


@pytest.fixture(autouse=True)
def neighbours():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeNeighbours(mock)


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
