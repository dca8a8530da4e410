import json
import re
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses

from books_service import create_app
from library_common.testing import migrated_app

BORROW_SERVICE = "http://borrow-service.test"
ACTIVE_COUNTS = re.compile(re.escape(BORROW_SERVICE) + r"/borrows/active-counts.*")


@pytest.fixture(scope="session")
def app(postgres_server_url, tokens):
    app = migrated_app(create_app, postgres_server_url, "books", BORROW_SERVICE_URL=BORROW_SERVICE, HTTP_RETRIES=0)
    app.extensions["token_verifier"] = tokens.verifier()
    return app


class FakeBorrowService:
    """borrow-service's active-counts endpoint, answering from `on_loan` ({book_id: count})."""

    def __init__(self, mock):
        self.mock = mock
        self.on_loan = {}
        self.down = False
        mock.add_callback(responses.GET, ACTIVE_COUNTS, callback=self._answer)

    def _answer(self, request):
        if self.down:
            raise requests.ConnectionError("borrow-service is down")
        ids = parse_qs(urlparse(request.url).query).get("book_id")
        counts = {str(i): self.on_loan.get(int(i), 0) for i in ids} if ids else {
            str(k): v for k, v in self.on_loan.items() if v}
        return 200, {}, json.dumps({"counts": counts})

    @property
    def calls(self):
        return len(self.mock.calls)


@pytest.fixture(autouse=True)
def borrow_service():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeBorrowService(mock)


@pytest.fixture
def librarian(tokens):
    return tokens.headers("boss", "librarian")


@pytest.fixture
def patron(tokens):
    return tokens.headers("alice", "patron")


HITCHHIKER = {"title": "The Hitchhiker's Guide to the Galaxy", "author": "Douglas Adams", "genre": "Science Fiction"}


@pytest.fixture
def add_book(client, librarian):
    def add(**fields):
        response = client.post("/books", json={**HITCHHIKER, **fields}, headers=librarian)
        assert response.status_code == 201, response.json
        return response.json

    return add
