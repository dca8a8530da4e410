import pytest

from library_common import deps
from library_common.testing import migrated_app
from user_service import create_app
from user_service.accounts import register

# Hashing is deliberately slow in production (scrypt); the tests need not be.
FAST_HASH = "pbkdf2:sha256:1000"


@pytest.fixture(scope="session")
def app(postgres_server_url):
    return migrated_app(create_app, postgres_server_url, "users", PASSWORD_HASH_METHOD=FAST_HASH)


def registration(username="alice", **overrides):
    return {"username": username, "password": "correct horse", "first_name": "Alice", "last_name": "Liddell",
            **overrides}


@pytest.fixture
def make_user(app):
    def make(username="alice", role="patron", password="correct horse"):
        with app.app_context():
            register(deps.AppDeps.current().hasher, username=username, password=password,
                     first_name=username.title(), last_name="Example", role=role)
        return username

    return make


@pytest.fixture
def login(client):
    def log_in(username, password="correct horse"):
        response = client.post("/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['token']}"}

    return log_in
