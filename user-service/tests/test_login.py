from datetime import datetime, timezone

import jwt


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
    assert claims["exp"] - claims["iat"] == 3600
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


def test_repeated_failures_for_one_username_are_throttled(client, make_user):
    make_user("alice")
    for _ in range(5):
        assert client.post("/login", json={"username": "alice", "password": "guess"}).status_code == 401

    response = client.post("/login", json={"username": "alice", "password": "correct horse"})

    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 900
    assert response.json["message"]


def test_success_before_the_limit_clears_the_failures(client, make_user):
    make_user("alice")
    for _ in range(4):
        client.post("/login", json={"username": "alice", "password": "guess"})
    assert client.post("/login", json={"username": "alice", "password": "correct horse"}).status_code == 200

    for _ in range(4):
        assert client.post("/login", json={"username": "alice", "password": "guess"}).status_code == 401


def test_one_client_guessing_many_usernames_is_throttled(app, make_user):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for number in range(50):
        client.post("/login", json={"username": f"user{number}", "password": "guess"})

    response = client.post("/login", json={"username": "someone", "password": "guess"})
    other_client = app.test_client()
    other_client.environ_base["REMOTE_ADDR"] = "203.0.113.10"

    assert response.status_code == 429
    assert other_client.post("/login", json={"username": "someone", "password": "guess"}).status_code == 401


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


def test_behind_a_trusted_proxy_failures_count_per_forwarded_client(app, make_user):
    from user_service import create_app

    proxied = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                          "TRUSTED_PROXIES": 1, "LOGIN_MAX_FAILURES_PER_CLIENT": 3, "TESTING": True}).test_client()
    for number in range(3):
        proxied.post("/login", json={"username": f"user{number}", "password": "guess"},
                     headers={"X-Forwarded-For": "198.51.100.7"})

    blocked = proxied.post("/login", json={"username": "someone", "password": "guess"},
                           headers={"X-Forwarded-For": "198.51.100.7"})
    other_person = proxied.post("/login", json={"username": "someone", "password": "guess"},
                                headers={"X-Forwarded-For": "198.51.100.8"})

    assert blocked.status_code == 429
    assert other_person.status_code == 401
