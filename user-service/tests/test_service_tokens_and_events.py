"""The library's other services get short tokens for their secret, and read the accounts' event log with them."""

import time

import jwt
import pytest
import sqlalchemy as sa

from library_common import feeds

from .conftest import NOTIFIER_SECRET, registration


def service_token(client, secret=NOTIFIER_SECRET, service="notification-service"):
    return client.post("/service-tokens", json={"service": service, "secret": secret})


def test_a_known_service_gets_a_short_token_for_its_secret(client):
    response = service_token(client)

    assert response.status_code == 200 and response.json["expires_in"] == 900
    claims = jwt.decode(response.json["token"], options={"verify_signature": False})
    assert (claims["sub"], claims["role"], claims["exp"] - claims["iat"]) == ("notification-service", "service", 900)


@pytest.mark.parametrize("service, secret", [("notification-service", "wrong"), ("stranger-service", NOTIFIER_SECRET)])
def test_an_unknown_service_or_a_wrong_secret_gets_nothing(client, service, secret):
    response = service_token(client, secret, service)

    assert response.status_code == 401 and "token" not in response.json


def read_feed_until_it_has_events(client, headers, seconds=10):
    """The feed holds events back while an older transaction runs anywhere on the server (tests in other
    databases on it, here), so they appear soon rather than at once."""
    deadline = time.monotonic() + seconds
    while not (feed := client.get("/events", headers=headers)).json["events"] and time.monotonic() < deadline:
        time.sleep(0.05)
    return feed


def test_registrations_appear_in_the_event_log_for_services_without_names(client):
    client.post("/register", json=registration("alice"))
    headers = {"Authorization": f"Bearer {service_token(client).json['token']}"}

    feed = read_feed_until_it_has_events(client, headers)
    empty = client.get(f"/events?after={feed.json['next']}", headers=headers)

    assert feed.status_code == 200
    assert [(event["type"], event["subject"], event["payload"]) for event in feed.json["events"]] == [
        ("account.registered", "alice", {"role": "patron"})]
    assert empty.json == {"events": [], "next": feed.json["next"]}


def test_the_event_log_is_for_services_with_its_scope_only(app, client, make_user, login):
    """Librarians no longer read it (it says whose account changed how), nor does a service whose token lacks
    the scope (books-service: a compromise of the process that parses uploads must not read the accounts)."""
    make_user("alice")
    make_user("boss", role="librarian")
    books_secret = "books-secret-for-the-tests-0123456789abc"
    app.config["BOOKS_SERVICE_SECRET"] = books_secret
    try:
        from library_common import deps
        from user_service import build_deps
        deps.attach(app, build_deps(app.config))
        books = {"Authorization": f"Bearer {service_token(client, books_secret, 'books-service').json['token']}"}
    finally:
        app.config["BOOKS_SERVICE_SECRET"] = ""
    notifier = {"Authorization": f"Bearer {service_token(client).json['token']}"}

    assert client.get("/events").status_code == 401
    assert client.get("/events", headers=login("alice")).status_code == 403
    assert client.get("/events", headers=login("boss")).status_code == 403
    assert client.get("/events", headers=books).status_code == 403
    assert client.get("/contacts/alice", headers=books).status_code == 403
    assert client.post("/mailed-links", json={"event_id": 1}, headers=books).status_code == 403
    assert client.get("/events", headers=notifier).status_code == 200
    assert client.get("/events?after=not-a-cursor", headers=notifier).status_code == 400


def test_each_service_token_names_its_scopes(client):
    claims = jwt.decode(service_token(client).json["token"], options={"verify_signature": False})

    assert claims["scope"].split() == ["events:read", "links:mail"]


def test_service_tokens_are_rate_limited_per_client(app):
    from user_service import create_app

    from .conftest import FAST_HASH
    site = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "PASSWORD_HASH_METHOD": FAST_HASH,
                       "TESTING": True, "NOTIFICATION_SERVICE_SECRET": NOTIFIER_SECRET,
                       "RATE_LIMIT_SERVICE_TOKENS": "3/minute"}).test_client()
    site.environ_base["REMOTE_ADDR"] = "203.0.113.77"

    outcomes = [service_token(site, "a wrong guess").status_code for _ in range(3)] + [service_token(site).status_code]

    assert outcomes == [401, 401, 401, 429]


def test_a_service_token_acts_for_no_account(client):
    headers = {"Authorization": f"Bearer {service_token(client).json['token']}"}

    assert client.get("/me", headers=headers).status_code == 403
    assert client.get("/users", headers=headers).status_code == 403


def test_the_contact_gives_only_a_verified_address(client, make_user, notifier, link_for):
    make_user("alice", email="alice@example.org")

    unverified = client.get("/contacts/ALICE", headers=notifier)
    client.post("/email-verifications", json={"token": link_for().json["token"]})
    verified = client.get("/contacts/alice", headers=notifier)

    assert unverified.json == {"username": "alice", "first_name": "Alice", "email": None}
    assert verified.json == {"username": "alice", "first_name": "Alice", "email": "alice@example.org"}
    assert client.get("/contacts/nobody", headers=notifier).status_code == 404


def test_no_working_link_is_stored_anywhere_in_the_log(app, client, make_user, login, link_for):
    client.post("/register", json=registration("alice", email="alice@example.org"))
    client.post("/password-resets", json={"username_or_email": "alice"})
    token = link_for().json["token"]

    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        log = session.execute(sa.text("SELECT payload::text FROM events")).scalars().all()
        session.rollback()
    assert token and not any(token in payload or "alice@example.org" in payload for payload in log)


def test_a_link_is_made_only_for_an_event_that_asked_for_one(client, make_user, notifier, recorded):
    make_user("alice")

    assert client.post("/mailed-links", json={"event_id": 1}, headers=notifier).status_code in (404, 409)
    assert client.post("/mailed-links", json={"event_id": 0}, headers=notifier).status_code == 400
    assert client.post("/mailed-links", json={"event_id": 99999999}, headers=notifier).status_code == 404


def test_what_every_reader_has_passed_is_pruned_once_old(app, client, make_user, notifier):
    make_user("alice")
    make_user("bob")
    first = read_feed_until_it_has_events(client, notifier)
    everything = first.json["next"]

    def log_size():
        with app.app_context():
            session = app.extensions["sqlalchemy"].session
            size = session.execute(sa.text("SELECT count(*) FROM events")).scalar()
            session.rollback()
        return size

    app.config["EVENT_RETENTION_DAYS"] = 0.0
    try:
        client.get("/events", headers=notifier)  # asks from the start: has passed nothing yet
        kept = log_size()
        client.get(f"/events?after={everything}", headers=notifier)  # has passed both
    finally:
        app.config["EVENT_RETENTION_DAYS"] = 7.0
    assert kept == 2 and log_size() == 0


def test_nothing_is_pruned_before_it_is_old_enough(app, client, make_user, notifier):
    make_user("alice")
    feed = read_feed_until_it_has_events(client, notifier)

    client.get(f"/events?after={feed.json['next']}", headers=notifier)

    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        assert session.execute(sa.text("SELECT count(*) FROM events")).scalar() == 1
        session.rollback()


def test_deleting_an_account_scrubs_what_the_log_said_of_it(app, client, make_user, login, recorded, notifier):
    make_user("boss", role="librarian")
    client.post("/register", json=registration("alice", email="alice@example.org"))
    boss = login("boss")
    client.patch("/users/alice", json={"active": False}, headers=boss)

    assert client.delete("/users/alice", headers=boss).status_code == 204

    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        rows = session.execute(sa.text("SELECT type, subject, payload FROM events WHERE type <> 'account.registered' "
                                       "OR subject IS NULL ORDER BY id")).all()
        session.rollback()
    about_alice = [(row.type, row.subject) for row in rows]
    assert about_alice[-1] == ("account.deleted", "alice")  # readers must hear of it, to forget it too
    assert all(subject is None for _type, subject in about_alice[:-1])
    assert ("account.deactivated", None) in about_alice


def test_reading_the_feed_prunes_the_audit_trail_past_its_retention(app, client, notifier, monkeypatch):
    """user-service has no worker: its audit trail is pruned as notification-service reads the feed."""
    monkeypatch.setattr(feeds, "HOUSEKEEPING_SECONDS", 0)
    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        session.execute(sa.text(
            "INSERT INTO audit_log (at, actor, actor_role, action, object_type, object_id) VALUES "
            "(clock_timestamp() - interval '800 days', 'boss', 'librarian', 'account.updated', 'account', 'old'), "
            "(clock_timestamp() - interval '40 days', 'boss', 'librarian', 'account.updated', 'account', 'kept')"))
        session.commit()

    assert client.get("/events", headers=notifier).status_code == 200

    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        assert session.execute(sa.text("SELECT object_id FROM audit_log")).scalars().all() == ["kept"]
        session.rollback()
