from urllib.parse import parse_qs, urlparse

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from books_service import create_app
from books_service.models import ItemType, db
from library_common import deps
from library_common.testing import migrated_app

BORROW_SERVICE = "http://borrow-service.test"
USER_SERVICE = "http://user-service.test"


@pytest.fixture(scope="session")
def app(postgres_server_url, tokens):
    app = migrated_app(create_app, postgres_server_url, "books", BORROW_SERVICE_URL=BORROW_SERVICE,
                       USER_SERVICE_URL=USER_SERVICE, HTTP_RETRIES=0, SPELLING_REFRESH_SECONDS=0,
                       # the covers' tests serve images from a local HTTP server
                       COVER_FETCH_PRIVATE_NETWORKS="loopback", COVER_FETCH_TIMEOUT=2.0)
    deps.replace(app, token_verifier=tokens.verifier())
    return app


@pytest.fixture(scope="session")
def seeded_item_types(app):
    """The item types the migration starts a library with, read before any test changes them."""
    with app.app_context():
        return [{"code": code, "name": name} for code, name in db.session.execute(
            sa.select(ItemType.code, ItemType.name))]


@pytest.fixture(autouse=True)
def item_types_as_migrated(request):
    """Every test empties every table after it, the item types too; a fresh database has the migration's, so each
    test that uses the database starts with them again (no copy can be made without its type)."""
    if "app" not in request.fixturenames:
        return
    app, seeded = request.getfixturevalue("app"), request.getfixturevalue("seeded_item_types")
    with app.app_context():
        db.session.execute(insert(ItemType).values(seeded).on_conflict_do_nothing())
        db.session.commit()


@pytest.fixture(autouse=True)
def borrow_service(fake_neighbour):
    """borrow-service's counts and its per-book circulation, answering from `on_loan` ({book_id: count}),
    `holds_waiting` ({book_id: count}) and `items_out` ({book_id: {barcode: state}}). `asked` records each
    per-book question (book id, Authorization), and `before_answering(book_id)` runs first when set: a borrow
    finishing while books-service waits for the answer."""
    fake = fake_neighbour(BORROW_SERVICE)
    fake.on_loan, fake.holds_waiting, fake.items_out = {}, {}, {}

    def active_counts(request, _match):
        ids = parse_qs(urlparse(request.url).query).get("book_id")
        counts = {i: fake.on_loan.get(int(i), 0) for i in ids} if ids else {
            str(k): v for k, v in fake.on_loan.items() if v}
        holds = {i: fake.holds_waiting.get(int(i), 0) for i in ids} if ids else {}
        return 200, {"counts": counts, "holds_waiting": holds}

    def state_of(book_id, authorization):
        if fake.before_answering:
            fake.before_answering(book_id)
        fake.asked.append((book_id, authorization))
        items = {barcode: {"state": state} for barcode, state in fake.items_out.get(book_id, {}).items()}
        return {"items": items, "holds_waiting": fake.holds_waiting.get(book_id, 0)}

    def book_circulation(request, match):
        return 200, state_of(int(match.group(1)), request.headers.get("Authorization"))

    def books_circulation(request, _match):
        ids = [int(i) for i in parse_qs(urlparse(request.url).query)["book_id"]]
        return 200, {"books": {str(i): state_of(i, request.headers.get("Authorization")) for i in ids}}

    fake.asked, fake.before_answering = [], None
    fake.route("GET", r"/borrows/active-counts.*", active_counts)
    fake.route("GET", r"/circulation/books/(\d+)$", book_circulation)
    fake.route("GET", r"/circulation/books\?.*", books_circulation)
    return fake


@pytest.fixture(autouse=True)
def user_service(fake_neighbour):
    """user-service's service tokens, for books-service acting as itself (its worker reverting an import)."""
    fake = fake_neighbour(USER_SERVICE)
    fake.route("POST", r"/service-tokens$", lambda _request, _match: (
        200, {"token": "books-service-token", "expires_in": 900}))
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
