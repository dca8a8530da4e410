from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from library_common import deps
from library_common.clock import now
from library_common.testing import migrated_app
from user_service import build_deps, create_app
from user_service.accounts import register

# Hashing is deliberately slow in production (scrypt); the tests need not be.
FAST_HASH = "pbkdf2:sha256:1000"


BORROW_SERVICE = "http://borrow-service.test"
NOTIFIER_SECRET = "notifier-secret-for-the-tests-0123456789"


@pytest.fixture(scope="session")
def app(postgres_server_url):
    return migrated_app(create_app, postgres_server_url, "users", PASSWORD_HASH_METHOD=FAST_HASH,
                        BORROW_SERVICE_URL=BORROW_SERVICE, HTTP_RETRIES=0,
                        NOTIFICATION_SERVICE_SECRET=NOTIFIER_SECRET)


SEEDED_CATEGORIES = {"adult": "Adult", "child": "Child", "staff": "Staff"}


@pytest.fixture(autouse=True)
def seeded_categories(app):
    """The categories migration 0014 seeds, back before each test (every test ends by emptying every table)."""
    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        session.execute(sa.text("INSERT INTO patron_categories (code, name) VALUES (:code, :name) "
                                "ON CONFLICT DO NOTHING"),
                        [{"code": code, "name": name} for code, name in SEEDED_CATEGORIES.items()])
        session.commit()


@pytest.fixture(autouse=True)
def fresh_deps(app):
    """Every test empties the tables, signing keys included: each starts with objects that know none."""
    yield
    deps.attach(app, build_deps(app.config))


def registration(username="alice", **overrides):
    return {"username": username, "password": "correct horse", "first_name": "Alice", "last_name": "Liddell",
            **overrides}


@pytest.fixture
def make_user(app):
    def make(username="alice", role="patron", password="correct horse", email=None):
        with app.app_context():
            register(deps.AppDeps.current(), username=username, password=password,
                     first_name=username.title(), last_name="Example", role=role, now=now(), email=email)
        return username

    return make


@pytest.fixture
def clock(monkeypatch):
    """The time the mailed links' views read, `clock["now"]`, set by the test."""
    moment = {"now": datetime.now(timezone.utc)}
    monkeypatch.setattr("user_service.views.email_links.now", lambda: moment["now"])
    return moment


@pytest.fixture
def recorded(app):
    """`recorded(type)`: the payloads of the events of that type in the event log, oldest first."""
    def payloads(event_type):
        with app.app_context():
            session = app.extensions["sqlalchemy"].session
            rows = session.execute(sa.text("SELECT payload FROM events WHERE type = :type ORDER BY id"),
                                   {"type": event_type}).scalars().all()
            session.rollback()
        return rows

    return payloads


@pytest.fixture
def login(client):
    def log_in(username, password="correct horse"):
        response = client.post("/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['token']}"}

    return log_in


@pytest.fixture(autouse=True)
def borrow_service(fake_neighbour):
    """borrow-service's `POST /patrons/<name>/close`: refused while `active_loans` ({username: count}) has
    loans; `closed` lists the accounts whose holds were cancelled."""
    fake = fake_neighbour(BORROW_SERVICE)
    fake.active_loans, fake.closed = {}, []

    def close(request, match):
        if fake.active_loans.get(match.group(1), 0):
            return 409, {"message": f"{match.group(1)} still has books on loan; check them in before deleting"}
        fake.closed.append(match.group(1))
        return 200, {"username": match.group(1), "holds_cancelled": 1}

    fake.route("POST", r"/patrons/([^/?]+)/close$", close)
    return fake


@pytest.fixture
def notifier(client):
    """notification-service's headers: a service token with its scopes."""
    response = client.post("/service-tokens", json={"service": "notification-service", "secret": NOTIFIER_SECRET})
    return {"Authorization": f"Bearer {response.json['token']}"}


@pytest.fixture
def link_for(app, client, notifier):
    """`link_for(event_type, index=-1)`: the answer to notification-service's POST /mailed-links for the event of
    that type (the newest by default): the link it would mail now, or the refusal."""
    def made(event_type="account.email_verification_requested", index=-1):
        with app.app_context():
            session = app.extensions["sqlalchemy"].session
            ids = session.execute(sa.text("SELECT id FROM events WHERE type = :type ORDER BY id"),
                                  {"type": event_type}).scalars().all()
            session.rollback()
        return client.post("/mailed-links", json={"event_id": ids[index]}, headers=notifier)

    return made
