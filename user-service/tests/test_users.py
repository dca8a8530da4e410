import pytest

from user_service import create_app


def test_listing_users_is_for_librarians(client, make_user, login):
    make_user("boss", role="librarian")
    make_user("alice")

    assert client.get("/users").status_code == 401
    assert client.get("/users", headers=login("alice")).status_code == 403
    response = client.get("/users", headers=login("boss"))

    assert response.status_code == 200
    assert [user["username"] for user in response.json] == ["alice", "boss"]
    assert response.headers["X-Total-Count"] == "2"


def test_users_are_paginated(client, make_user, login):
    make_user("boss", role="librarian")
    for number in range(4):
        make_user(f"user{number}")

    response = client.get("/users?page=2&per_page=2", headers=login("boss"))

    assert [user["username"] for user in response.json] == ["user1", "user2"]
    assert response.headers["X-Total-Count"] == "5"
    assert 'rel="next"' in response.headers["Link"] and 'rel="prev"' in response.headers["Link"]


@pytest.mark.parametrize("query", ["page=0", "page=-1", "per_page=0", "per_page=101", "page=abc"])
def test_bad_pagination_is_400(client, make_user, login, query):
    make_user("boss", role="librarian")

    response = client.get(f"/users?{query}", headers=login("boss"))

    assert response.status_code == 400


def test_me_and_one_user(client, make_user, login):
    make_user("alice")
    make_user("bob")
    make_user("boss", role="librarian")

    assert client.get("/me", headers=login("alice")).json["username"] == "alice"
    assert client.get("/users/alice", headers=login("alice")).status_code == 200
    assert client.get("/users/alice", headers=login("bob")).status_code == 403
    assert client.get("/users/ALICE", headers=login("boss")).json["username"] == "alice"
    assert client.get("/users/nobody", headers=login("boss")).status_code == 404
    assert client.get("/me").status_code == 401


def test_users_change_their_own_names(client, make_user, login):
    make_user("alice")

    response = client.patch("/users/alice", json={"first_name": "  Alicia "}, headers=login("alice"))

    assert response.status_code == 200
    assert response.json["first_name"] == "Alicia"


def test_password_change_needs_the_current_password(client, make_user, login):
    make_user("alice")
    headers = login("alice")

    wrong = client.patch("/users/alice", json={"password": "new password 1", "current_password": "nope"},
                         headers=headers)
    right = client.patch("/users/alice", json={"password": "new password 1", "current_password": "correct horse"},
                         headers=headers)

    assert wrong.status_code == 400
    assert "current_password" in wrong.json["errors"]
    assert right.status_code == 200
    assert client.post("/login", json={"username": "alice", "password": "new password 1"}).status_code == 200


def test_patrons_cannot_change_roles_or_other_users(client, make_user, login):
    make_user("alice")
    make_user("bob")

    assert client.patch("/users/alice", json={"role": "librarian"}, headers=login("alice")).status_code == 403
    assert client.patch("/users/bob", json={"first_name": "Robert"}, headers=login("alice")).status_code == 403


def test_librarians_change_roles(client, make_user, login):
    make_user("boss", role="librarian")
    make_user("alice")

    response = client.patch("/users/alice", json={"role": "librarian"}, headers=login("boss"))

    assert response.status_code == 200
    assert response.json["role"] == "librarian"


def test_the_last_librarian_cannot_step_down(client, make_user, login):
    make_user("boss", role="librarian")

    response = client.patch("/users/boss", json={"role": "patron"}, headers=login("boss"))

    assert response.status_code == 409


@pytest.mark.parametrize("body", [{}, {"role": "admin"}, {"username": "new"}, {"active": "maybe"}])
def test_invalid_changes_are_400(client, make_user, login, body):
    make_user("boss", role="librarian")

    response = client.patch("/users/boss", json=body, headers=login("boss"))

    assert response.status_code == 400


def test_bootstrap_librarian_is_created_once_and_never_promotes_a_patron(app, client, make_user):
    config = {"DATABASE_URL": app.config["DATABASE_URL"], "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
    create_app({**config, "BOOTSTRAP_LIBRARIAN": "headlibrarian:shelves-and-stacks"})
    create_app({**config, "BOOTSTRAP_LIBRARIAN": "headlibrarian:shelves-and-stacks"})
    make_user("mallory")
    create_app({**config, "BOOTSTRAP_LIBRARIAN": "mallory:whatever-password"})

    login = client.post("/login", json={"username": "headlibrarian", "password": "shelves-and-stacks"})
    mallory = client.post("/login", json={"username": "mallory", "password": "correct horse"})

    assert login.json["user"]["role"] == "librarian"
    assert mallory.json["user"]["role"] == "patron"


def test_create_user_command(app, client):
    result = app.test_cli_runner().invoke(args=["create-user", "frontdesk", "--role", "librarian",
                                                "--password", "desk-password"])

    assert result.exit_code == 0, result.output
    assert client.post("/login", json={"username": "frontdesk", "password": "desk-password"}).json["user"]["role"] \
        == "librarian"
    again = app.test_cli_runner().invoke(args=["create-user", "frontdesk", "--password", "desk-password"])
    assert again.exit_code != 0 and "taken" in again.output


def test_production_refuses_the_default_secret(app):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"DATABASE_URL": app.config["DATABASE_URL"], "APP_ENV": "production"})


@pytest.mark.parametrize("config, problem", [
    ({"SECRET_KEY": "CHANGE-ME-user-service-secret-key"}, "SECRET_KEY is a published example"),
    ({"SECRET_KEY": "short-but-not-published"}, "SECRET_KEY is shorter than 32 bytes"),
    ({"BOOTSTRAP_LIBRARIAN": "librarian:CHANGE-ME-librarian-password"}, "BOOTSTRAP_LIBRARIAN.s password"),
    ({"BOOTSTRAP_LIBRARIAN": "librarian:librarian-pass"}, "BOOTSTRAP_LIBRARIAN's password is a published"),
])
def test_production_refuses_published_or_weak_secrets(app, config, problem):
    """Issue 12, finding 6: production started with .env.example's placeholders."""
    strong = {"SECRET_KEY": "pQ7vX2mL9sR4tW8yB3nC6hJ1kF5dG0aZ-strong"}
    with pytest.raises(RuntimeError, match=problem):
        create_app({"DATABASE_URL": app.config["DATABASE_URL"], "APP_ENV": "production", **strong, **config})


@pytest.mark.parametrize("path", ["/users/nul%00byte", "/users/" + "a" * 40, "/users/a%20b", "/users/boss%0a"])
def test_impossible_usernames_in_paths_are_404(client, make_user, login, path):
    make_user("boss", role="librarian")

    response = client.get(path, headers=login("boss"))

    assert response.status_code == 404
    assert response.json["message"]


def test_tokens_of_deactivated_demoted_or_deleted_users_stop_working(client, make_user, login):
    make_user("boss", role="librarian")
    make_user("chief", role="librarian")
    make_user("alice")
    boss, chief, alice = login("boss"), login("chief"), login("alice")

    client.patch("/users/alice", json={"active": False}, headers=boss)
    assert client.get("/me", headers=alice).status_code == 401

    client.patch("/users/chief", json={"role": "patron"}, headers=boss)
    assert client.get("/users", headers=chief).status_code == 401

    assert client.delete("/users/alice", headers=boss).status_code == 204
    assert client.get("/users/alice", headers=boss).status_code == 404


def test_only_deactivated_accounts_can_be_deleted_by_librarians(client, make_user, login):
    make_user("boss", role="librarian")
    make_user("alice")

    assert client.delete("/users/alice", headers=login("alice")).status_code == 403
    assert client.delete("/users/alice", headers=login("boss")).status_code == 409
    assert client.delete("/users/boss", headers=login("boss")).status_code == 409


def test_librarians_find_users_by_the_start_of_a_name(client, make_user, login):
    make_user("boss", role="librarian")
    make_user("alice")
    make_user("alfred")
    make_user("bob")
    headers = login("boss")

    assert [u["username"] for u in client.get("/users?q=AL", headers=headers).json] == ["alfred", "alice"]
    assert client.get("/users?q=Bob", headers=headers).headers["X-Total-Count"] == "1"
    assert client.get("/users?q=%25", headers=headers).json == []  # LIKE wildcards are taken literally
    assert client.get("/users?q=_", headers=headers).json == []


def test_the_user_search_ignores_accents(client, make_user, login):
    make_user("boss", role="librarian")
    headers = login("boss")
    for username, first, last in [("zoe", "Zoë", "Brontë"), ("jose", "José", "García Márquez"), ("ole", "Øle", "Ås")]:
        client.post("/register", json={"username": username, "password": "long enough", "first_name": first,
                                       "last_name": last})

    def found(query):
        return [user["username"] for user in client.get("/users", query_string={"q": query}, headers=headers).json]

    assert found("zoe") == found("ZOË") == found("bronte") == ["zoe"]
    assert found("garcia") == found("García") == ["jose"]
    assert found("ole") == found("as") == ["ole"]


def test_renamed_users_are_found_by_their_new_name(client, make_user, login):
    make_user("boss", role="librarian")
    make_user("alice")
    headers = login("boss")

    client.patch("/users/alice", json={"first_name": "Élodie"}, headers=headers)

    assert [user["username"] for user in client.get("/users?q=elod", headers=headers).json] == ["alice"]
