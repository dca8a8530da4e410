import threading
from datetime import datetime, timedelta, timezone

import jwt
import pytest
import werkzeug.security

from library_common import deps


def test_login_returns_a_token_verifiable_with_the_published_keys(client, make_user):
    make_user("alice")

    response = client.post("/login", json={"username": "alice", "password": "correct horse"})

    assert response.status_code == 200
    assert response.json["message"] == "Login successful"
    assert response.json["user"]["username"] == "alice"
    token = response.json["token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    jwks = client.get("/.well-known/jwks.json").json
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"], audience="library",
                        issuer="library-user-service")
    assert claims["sub"] == "alice"
    assert claims["role"] == "patron"
    assert claims["first_name"] == "Alice"
    assert claims["exp"] - claims["iat"] == pytest.approx(3600)
    assert claims["jti"] and isinstance(claims["iat"], float)
    assert abs(claims["iat"] - datetime.now(timezone.utc).timestamp()) < 60


def test_login_is_case_insensitive_on_username(client, make_user):
    make_user("alice")

    response = client.post("/login", json={"username": "ALICE", "password": "correct horse"})

    assert response.status_code == 200
    assert response.json["user"]["username"] == "alice"


def test_wrong_password_and_unknown_user_get_the_same_answer(client, make_user):
    make_user("alice")

    wrong_password = client.post("/login", json={"username": "alice", "password": "wrong password"})
    unknown_user = client.post("/login", json={"username": "nobody", "password": "wrong password"})

    assert wrong_password.status_code == unknown_user.status_code == 401
    assert wrong_password.json == unknown_user.json == {"message": "Invalid username or password"}


@pytest.mark.parametrize("username, password, status", [
    ("alice", "correct horse", 200),
    ("alice", "wrong password", 401),
    ("nobody", "wrong password", 401),
    ("walkin", "any password", 401),  # registered at the desk: no password chosen yet
    ("gone", "correct horse", 401),  # deleted
])
def test_every_login_computes_one_password_hash(client, make_user, login, monkeypatch, username, password, status):
    """A refusal that skipped the slow hash would answer sooner, telling an attacker the account exists
    without a password (or not at all). Hashes are counted, not timed: a busy machine cannot blur a count."""
    make_user("boss", role="librarian")
    make_user("alice")
    make_user("gone")
    boss = login("boss")
    client.post("/users", json={"username": "walkin", "first_name": "Walk", "last_name": "In"}, headers=boss)
    client.patch("/users/gone", json={"active": False}, headers=boss)
    assert client.delete("/users/gone", headers=boss).status_code == 204
    computed = []
    hash_internal = werkzeug.security._hash_internal
    monkeypatch.setattr(werkzeug.security, "_hash_internal",
                        lambda *args: computed.append(args[0]) or hash_internal(*args))

    response = client.post("/login", json={"username": username, "password": password})

    assert response.status_code == status
    assert computed == ["pbkdf2:sha256:1000"]


def client_at(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def log_in(client, password, username="alice"):
    return client.post("/login", json={"username": username, "password": password})


@pytest.fixture
def frozen_clock(monkeypatch):
    """The time the login view reads, set by the test."""
    clock = {"now": datetime.now(timezone.utc)}
    monkeypatch.setattr("user_service.views.accounts.now", lambda: clock["now"])
    return clock


def test_repeated_failures_from_one_client_make_it_wait(app, make_user, frozen_clock):
    make_user("alice")
    attacker = client_at(app, "203.0.113.66")
    for _ in range(5):
        assert log_in(attacker, "guess").status_code == 401

    response = log_in(attacker, "correct horse")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert response.json["retry_after"] == 1
    assert response.json["message"].startswith("Too many failed attempts")


def test_failures_from_one_client_never_lock_the_owner_out_from_another(app, make_user, frozen_clock):
    """Issue 12, finding 2: five wrong passwords from anywhere used to block the right one for 15 minutes."""
    make_user("alice")
    attacker, owner = client_at(app, "203.0.113.66"), client_at(app, "198.51.100.20")
    for _ in range(20):
        log_in(attacker, "guess")

    assert log_in(attacker, "correct horse").status_code == 429
    assert log_in(owner, "correct horse").status_code == 200


def test_the_delays_grow_and_stop_at_the_window(app, make_user, frozen_clock):
    make_user("alice")
    attacker = client_at(app, "203.0.113.66")
    for _ in range(5):
        log_in(attacker, "guess")
    waits = []
    for _ in range(12):
        waits.append(int(log_in(attacker, "guess").headers["Retry-After"]))  # refused: still waiting
        frozen_clock["now"] += timedelta(seconds=waits[-1])
        assert log_in(attacker, "guess").status_code == 401  # waited long enough: checked (and wrong)

    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]


def test_simultaneous_wrong_passwords_check_at_most_the_limit(app, make_user, frozen_clock):
    """Issue 12, finding 2: 16 guesses at once were all checked against a limit of 5."""
    make_user("alice")
    checked = []
    with app.app_context():
        hasher = deps.AppDeps.current().hasher

    class CountingHasher:
        method = hasher.method

        def matches(self, stored_hash, password):
            checked.append(password)
            return hasher.matches(stored_hash, password)

        def hash(self, password):
            return hasher.hash(password)

    deps.replace(app, hasher=CountingHasher())
    statuses = []
    barrier = threading.Barrier(16)

    def guess(number):
        client = client_at(app, "203.0.113.66")
        barrier.wait()
        statuses.append(log_in(client, f"guess {number}").status_code)

    threads = [threading.Thread(target=guess, args=(number,)) for number in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(checked) == 5
    assert sorted(statuses) == [401] * 5 + [429] * 11


def test_success_forgets_the_failures_of_that_username_from_that_client(app, make_user, frozen_clock):
    make_user("alice")
    client = client_at(app, "198.51.100.20")
    for _ in range(4):
        log_in(client, "guess")
    assert log_in(client, "correct horse").status_code == 200

    for _ in range(4):
        assert log_in(client, "guess").status_code == 401


def test_one_client_guessing_many_usernames_is_throttled(app, make_user, frozen_clock):
    client = client_at(app, "203.0.113.9")
    for number in range(50):
        log_in(client, "guess", username=f"user{number}")

    response = log_in(client, "guess", username="someone")
    other_client = client_at(app, "203.0.113.10")

    assert response.status_code == 429
    assert log_in(other_client, "guess", username="someone").status_code == 401


def test_successful_logins_do_not_use_up_the_clients_allowance(app, make_user, frozen_clock):
    """A library's computers share one address: patrons logging in there never add up to a block."""
    for number in range(3):
        make_user(f"patron{number}")
    shared_terminal = client_at(app, "198.51.100.99")
    for _ in range(18):  # 54 logins: more than the client's 50 free failures
        for number in range(3):
            assert log_in(shared_terminal, "correct horse", username=f"patron{number}").status_code == 200


def test_deactivated_account_cannot_log_in(client, make_user, login):
    make_user("boss", role="librarian")
    make_user("alice")
    client.patch("/users/alice", json={"active": False}, headers=login("boss"))

    response = client.post("/login", json={"username": "alice", "password": "correct horse"})

    assert response.status_code == 403


def test_login_validates_its_body(client):
    response = client.post("/login", json={"username": "alice"})

    assert response.status_code == 400
    assert response.json["errors"] == {"password": "Missing data for required field."}


def proxied_app(app, **config):
    from user_service import create_app

    return create_app({"DATABASE_URL": app.config["DATABASE_URL"], "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                       "TRUSTED_PROXIES": "127.0.0.1/32", "LOGIN_FAILURES_PER_CLIENT": 3, "TESTING": True, **config})


def test_behind_a_trusted_proxy_failures_count_per_forwarded_client(app, make_user, frozen_clock):
    frontend = proxied_app(app).test_client()  # its calls come from 127.0.0.1, the one trusted proxy
    for number in range(3):
        frontend.post("/login", json={"username": f"user{number}", "password": "guess"},
                      headers={"X-Forwarded-For": "198.51.100.7"})

    blocked = frontend.post("/login", json={"username": "someone", "password": "guess"},
                            headers={"X-Forwarded-For": "198.51.100.7"})
    other_person = frontend.post("/login", json={"username": "someone", "password": "guess"},
                                 headers={"X-Forwarded-For": "198.51.100.8"})

    assert blocked.status_code == 429
    assert other_person.status_code == 401


def test_a_caller_that_is_not_a_trusted_proxy_cannot_escape_its_limit(app, make_user, frozen_clock):
    """Issue 12, finding 3: with one hop trusted from anyone, a caller named a new address on every guess."""
    stranger = client_at(proxied_app(app), "203.0.113.50")
    for number in range(3):
        stranger.post("/login", json={"username": f"user{number}", "password": "guess"},
                      headers={"X-Forwarded-For": f"192.0.2.{number}"})

    response = stranger.post("/login", json={"username": "someone", "password": "guess"},
                             headers={"X-Forwarded-For": "192.0.2.200"})

    assert response.status_code == 429
