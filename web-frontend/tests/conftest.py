import json
import re

import pytest
import responses

from library_common import deps
from web_frontend import create_app
from web_frontend.backend import Backend

BOOKS = "http://books.test"
USERS = "http://users.test"
BORROWS = "http://borrows.test"
NOTIFICATIONS = "http://notifications.test"
MAILBOX = "http://mailbox.test"


def make_app(tokens, **config):
    app = create_app({"TESTING": True, "BOOKS_SERVICE_URL": BOOKS, "USER_SERVICE_URL": USERS,
                      "BORROW_SERVICE_URL": BORROWS, "NOTIFICATION_SERVICE_URL": NOTIFICATIONS,
                      "MAILBOX_URL": MAILBOX, "HTTP_RETRIES": 0, "SECRET_KEY": "test-secret", **config})
    deps.replace(app, token_verifier=tokens.verifier())
    return app


@pytest.fixture(scope="session")
def app(tokens):
    """CSRF checks off, for tests about what a button does; `csrf_client` tests the checks themselves."""
    return make_app(tokens, WTF_CSRF_ENABLED=False)


@pytest.fixture(autouse=True)
def fresh_backend_caches(app):
    """The session's app keeps its clients, but no test sees genres or titles cached by another."""
    with app.app_context():
        backend = deps.AppDeps.current().backend
    deps.replace(app, backend=Backend(backend.books_service, backend.user_service, backend.borrow_service,
                                      backend.notification_service))


@pytest.fixture
def csrf_client(tokens):
    return make_app(tokens).test_client()


@pytest.fixture(autouse=True)
def services():
    """The three backends, faked: each test registers the answers it needs."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{BOOKS}/genres", json=[{"id": 1, "genre": "Science Fiction", "count": 1}])
        mock.get(f"{BOOKS}/books/facets", json=facets())
        yield mock


def book(book_id=1, **fields):
    return {"id": book_id, "title": "The Hitchhiker's Guide to the Galaxy", "author": "Douglas Adams",
            "genre": "Science Fiction", "isbn": None, "published_year": 1979, "description": None, "copies": 2,
            "available_copies": 1, "available": True, "created_at": "2026-11-01T10:00:00+00:00", **fields}


def facets(**counts):
    """A books-service facets answer: `counts` {facet: [(value, label, count)]}; one Science Fiction book by default."""
    counts = {"genre": [("Science Fiction", "Science Fiction", 1)]} | counts
    return {facet: [{"value": value, "label": label, "count": count} for value, label, count in counts.get(facet, [])]
            for facet in ("genre", "author", "language", "decade")} | {"available": None, "complete": True}


def loan(loan_id=1, book_id=1, **fields):
    return {"id": loan_id, "username": "alice", "book_id": book_id, "barcode": f"100000000{loan_id}", "title": None,
            "borrow_date": "2026-11-20T10:00:00+00:00", "due_date": "2026-12-04T10:00:00+00:00", "returned": False,
            "returned_date": None, "renewals": 0, "renewals_left": 2, "overdue": False, **fields}


def hold(hold_id=1, book_id=1, **fields):
    return {"id": hold_id, "book_id": book_id, "title": "Dune", "username": "alice", "status": "waiting",
            "position": 2, "placed_at": "2026-11-20T10:00:00+00:00", "estimated_available": "2026-12-14",
            "ready_at": None, "pickup_by": None, "barcode": None, "closed_at": None, **fields}


def patron(username="alice", **fields):
    """borrow-service's GET /patrons/<username>: a patron at a glance."""
    return {"username": username, "active_loans": 1, "overdue_loans": 0, "waiting_holds": 0, "ready_holds": 0,
            "max_active_loans": 5, "max_holds": 10, "may_borrow": True, "may_hold": True, "keep_history": False,
            "provisional": False, "awaiting": None, "loan": None, "hold": None, **fields}


def account(username="alice", **fields):
    """user-service's account: GET /users/<username>, /me, and what a change answers."""
    return {"username": username, "first_name": username.title(), "last_name": "Liddell", "role": "patron",
            "active": True, "created_at": "2026-01-01T10:00:00+00:00", "email": None, "email_verified": False,
            "provisional": False, "awaiting": None, "has_password": True, "category": "adult",
            "card_number": "P000000018", "card_expires_on": "2029-01-01", "card_expired": False, "phone": None,
            "postal_address": None, **fields}


def categories():
    """user-service's GET /patron-categories, as migration 0014 seeds them, alice an adult."""
    return [{"code": "adult", "name": "Adult", "patrons": 1, "default": True},
            {"code": "child", "name": "Child", "patrons": 0, "default": False},
            {"code": "staff", "name": "Staff", "patrons": 0, "default": False}]


def listing(items):
    return {"json": items, "headers": {"X-Total-Count": str(len(items))}}


@pytest.fixture
def log_in_as(client, tokens):
    """Put a session for `username` in the client's cookie, as a successful login would."""
    def log_in(username="alice", role="patron"):
        with client.session_transaction() as session:
            session["token"] = tokens.token(username, role)
            session["_user_id"] = username
            session["_fresh"] = True

    return log_in


def csrf_token(client, path="/login"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def json_body(call):
    return json.loads(call.request.body)
