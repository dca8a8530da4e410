from urllib.parse import parse_qs, urlparse

import pytest

from books_service import create_app
from library_common import deps
from library_common.testing import migrated_app

BORROW_SERVICE = "http://borrow-service.test"


@pytest.fixture(scope="session")
def app(postgres_server_url, tokens):
    app = migrated_app(create_app, postgres_server_url, "books", BORROW_SERVICE_URL=BORROW_SERVICE, HTTP_RETRIES=0,
                       SPELLING_REFRESH_SECONDS=0)
    deps.replace(app, token_verifier=tokens.verifier())
    return app


@pytest.fixture(autouse=True)
def borrow_service(fake_neighbour):
    """borrow-service's active-counts endpoint, answering from `on_loan` ({book_id: count})."""
    fake = fake_neighbour(BORROW_SERVICE)
    fake.on_loan = {}

    def active_counts(request, _match):
        ids = parse_qs(urlparse(request.url).query).get("book_id")
        counts = {i: fake.on_loan.get(int(i), 0) for i in ids} if ids else {
            str(k): v for k, v in fake.on_loan.items() if v}
        return 200, {"counts": counts}

    fake.route("GET", r"/borrows/active-counts.*", active_counts)
    return fake


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
