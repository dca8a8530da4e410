"""Deleted accounts keep their name (issue 12, finding 1); Log out ends this session and Log out everywhere,
password changes and deactivation end every session, the others told why (finding 4, issue 20); registration and
password changes are rate limited per client (finding 5)."""

import sqlalchemy as sa

from library_common.auth import ACCOUNT_CHANGED, SESSION_ENDED

from user_service import create_app

from .conftest import FAST_HASH, registration


def deactivate(client, username, librarian):
    assert client.patch(f"/users/{username}", json={"active": False}, headers=librarian).status_code == 200


def test_a_deleted_accounts_name_is_never_given_to_anyone_else(client, make_user, login):
    """Loans refer to the name: a newcomer with the same name would have seen and returned the old loans."""
    make_user("boss", role="librarian")
    make_user("alice")
    boss = login("boss")
    deactivate(client, "alice", boss)

    assert client.delete("/users/alice", headers=boss).status_code == 204

    for name in ("alice", "ALICE", "Alice"):
        again = client.post("/register", json=registration(name))
        assert again.status_code == 409, name
        assert again.json["errors"] == {"username": "That username is taken"}


def test_a_deleted_account_is_a_tombstone_without_personal_data(app, client, make_user, login):
    make_user("boss", role="librarian")
    make_user("alice")
    boss = login("boss")
    deactivate(client, "alice", boss)
    client.delete("/users/alice", headers=boss)

    with app.app_context():
        row = app.extensions["sqlalchemy"].session.execute(sa.text(
            "SELECT first_name, last_name, password_hash, active, deleted_at FROM users WHERE username = 'alice'"
        )).one()
    assert row.first_name == row.last_name == "" and row.password_hash == "!" and not row.active and row.deleted_at
    assert client.post("/login", json={"username": "alice", "password": "correct horse"}).json == {
        "message": "Invalid username or password"}
    assert client.get("/users/alice", headers=boss).status_code == 404
    assert [user["username"] for user in client.get("/users", headers=boss).json] == ["boss"]
    assert client.delete("/users/alice", headers=boss).status_code == 404


def test_an_account_with_books_on_loan_is_not_deleted(client, make_user, login, borrow_service):
    make_user("boss", role="librarian")
    make_user("alice")
    boss = login("boss")
    deactivate(client, "alice", boss)
    borrow_service.active_loans["alice"] = 2

    response = client.delete("/users/alice", headers=boss)

    assert response.status_code == 409
    assert "on loan" in response.json["message"]
    assert borrow_service.calls[-1].request.headers["Authorization"] == boss["Authorization"]
    borrow_service.active_loans["alice"] = 0
    assert client.delete("/users/alice", headers=boss).status_code == 204
    assert borrow_service.closed == ["alice"]  # its holds were cancelled before the account went


def test_nothing_is_deleted_when_borrow_service_cannot_say(client, make_user, login, borrow_service):
    make_user("boss", role="librarian")
    make_user("alice")
    boss = login("boss")
    deactivate(client, "alice", boss)
    borrow_service.down = True

    assert client.delete("/users/alice", headers=boss).status_code == 503
    assert client.get("/users/alice", headers=boss).status_code == 200


def test_logout_ends_this_session_only(client, make_user, login):
    make_user("alice")
    laptop, phone = login("alice"), login("alice")

    assert client.post("/logout", headers=laptop).status_code == 204

    refused = client.get("/me", headers=laptop)
    assert refused.status_code == 401 and refused.json["message"] == SESSION_ENDED["logged_out"]
    assert client.get("/me", headers=phone).status_code == 200
    assert client.post("/logout", headers=laptop).status_code == 401
    assert client.post("/logout").status_code == 401


def test_logout_everywhere_ends_every_session_and_the_others_are_told_why(client, make_user, login):
    make_user("alice")
    laptop, phone = login("alice"), login("alice")

    assert client.post("/logout/everywhere", headers=laptop).status_code == 204

    for token in (laptop, phone):
        refused = client.get("/me", headers=token)
        assert refused.status_code == 401 and refused.json["message"] == SESSION_ENDED["logged_out_everywhere"]
    assert client.get("/me", headers=login("alice")).status_code == 200
    assert client.post("/logout/everywhere").status_code == 401


def test_a_logged_out_session_is_forgotten_once_its_token_would_have_expired(app, client, make_user, login):
    """ended_sessions does not grow forever: each logout clears the rows whose tokens have expired anyway."""
    make_user("alice")
    first = login("alice")
    client.post("/logout", headers=first)
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        db.session.execute(sa.text("UPDATE ended_sessions SET expires_at = now() - interval '1 second'"))
        db.session.commit()

    client.post("/logout", headers=login("alice"))

    with app.app_context():
        assert app.extensions["sqlalchemy"].session.execute(
            sa.text("SELECT count(*) FROM ended_sessions")).scalar() == 1


def test_a_password_change_ends_the_sessions_before_it(client, make_user, login):
    make_user("alice")
    stolen = login("alice")

    changed = client.patch("/users/alice", json={"password": "a new password", "current_password": "correct horse"},
                           headers=stolen)

    assert changed.status_code == 200
    refused = client.get("/me", headers=stolen)
    assert refused.status_code == 401 and refused.json["message"] == SESSION_ENDED["password_changed"]
    assert client.get("/me", headers=login("alice", "a new password")).status_code == 200


def test_reactivating_an_account_does_not_revive_its_old_tokens(client, make_user, login):
    make_user("boss", role="librarian")
    make_user("alice")
    boss, alice = login("boss"), login("alice")
    deactivate(client, "alice", boss)

    client.patch("/users/alice", json={"active": True}, headers=boss)

    refused = client.get("/me", headers=alice)
    assert refused.status_code == 401 and refused.json["message"] == ACCOUNT_CHANGED
    assert client.get("/me", headers=login("alice")).status_code == 200


def test_wrong_current_password_guesses_are_throttled_like_logins(client, make_user, login):
    make_user("alice")
    alice = login("alice")
    for number in range(5):
        wrong = client.patch("/users/alice", json={"password": "a new password", "current_password": f"guess {number}"},
                             headers=alice)
        assert wrong.status_code == 400

    blocked = client.patch("/users/alice", json={"password": "a new password", "current_password": "correct horse"},
                           headers=alice)

    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) >= 1
    # the same counter as logins from this client: guessing here and there adds up
    assert client.post("/login", json={"username": "alice", "password": "correct horse"}).status_code == 429


def limited_app(app, **limits):
    return create_app({"DATABASE_URL": app.config["DATABASE_URL"], "PASSWORD_HASH_METHOD": FAST_HASH,
                       "TESTING": True, **limits})


def test_registrations_are_limited_per_client(app):
    """Each one costs a scrypt hash: a flood from one address is refused before it costs anything."""
    site = limited_app(app, RATE_LIMIT_REGISTER="2/hour")
    flooder, neighbour = site.test_client(), site.test_client()
    flooder.environ_base["REMOTE_ADDR"], neighbour.environ_base["REMOTE_ADDR"] = "203.0.113.7", "198.51.100.7"

    outcomes = [flooder.post("/register", json=registration(f"flood{number}")).status_code for number in range(3)]

    assert outcomes == [201, 201, 429]
    refused = flooder.post("/register", json=registration("flood9"))
    assert refused.json["message"].startswith("Too many sign-ups from your address; try again in")
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert neighbour.post("/register", json=registration("neighbour")).status_code == 201


def test_password_changes_are_limited_per_client(app, make_user):
    site = limited_app(app, RATE_LIMIT_PASSWORD_CHANGE="2/hour").test_client()
    make_user("alice")
    statuses = []
    for number in range(3):
        token = site.post("/login", json={"username": "alice", "password": f"password {number}" if number
                                          else "correct horse"}).json["token"]
        statuses.append(site.patch("/users/alice", headers={"Authorization": f"Bearer {token}"}, json={
            "password": f"password {number + 1}", "current_password": f"password {number}" if number
            else "correct horse"}).status_code)

    assert statuses == [200, 200, 429]
    token = site.post("/login", json={"username": "alice", "password": "password 2"}).json["token"]
    names_only = site.patch("/users/alice", json={"first_name": "Al"}, headers={"Authorization": f"Bearer {token}"})
    assert names_only.status_code == 200  # only password changes count
