"""Signing keys: sealed with a modern KDF (issue 12, finding 6), migrated from the old encryption, rotated,
and removed ones stop verifying within JWKS_CACHE_SECONDS everywhere (finding 7)."""

import threading
import time
from datetime import datetime, timezone

import jwt
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask_migrate import upgrade
from werkzeug.serving import make_server

from library_common.app import token_verifier
from library_common.config import load_settings
from library_common.databases import recreate_database
from library_common.errors import Unauthorized
from user_service import create_app
from user_service.keys import SCRYPT_N, seal, thumbprint, unseal

from .conftest import FAST_HASH


def stored_keys(app):
    with app.app_context():
        return app.extensions["sqlalchemy"].session.execute(sa.text(
            "SELECT kid, public_key, sealed_private_key FROM signing_keys ORDER BY created_at")).all()


def test_the_generated_key_is_sealed_with_scrypt_and_aes_gcm(app, client, make_user, login):
    make_user("alice")
    login("alice")

    [(kid, public_key, sealed)] = stored_keys(app)

    kind, n, r, p, *_ = sealed.split("$")
    assert (kind, int(n), int(r), int(p)) == ("scrypt-aes256gcm", SCRYPT_N, 8, 1)
    assert SCRYPT_N >= 2**15
    assert public_key.startswith("-----BEGIN PUBLIC KEY-----")
    assert thumbprint(unseal(sealed, app.config["SECRET_KEY"], kid).public_key()) == kid
    with pytest.raises(ValueError):
        unseal(sealed, "another secret key entirely, of good length", kid)
    with pytest.raises(ValueError):
        unseal(sealed, app.config["SECRET_KEY"], "another-kid")  # the kid is authenticated with the key


def test_the_migration_reseals_a_key_encrypted_the_old_way(postgres_server_url):
    """A database from before: its key in PKCS#8 PEM encrypted with SECRET_KEY by cryptography's defaults."""
    url = recreate_database(postgres_server_url, "test_users_reseal")
    secret = "a-secret-key-that-is-long-enough-for-production"
    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": secret, "PASSWORD_HASH_METHOD": FAST_HASH})
    old_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = thumbprint(old_key.public_key())
    old_pem = old_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.BestAvailableEncryption(secret.encode())).decode()
    with app.app_context():
        upgrade(revision="0003")
        session = app.extensions["sqlalchemy"].session
        session.execute(sa.text("INSERT INTO signing_keys (kid, private_key_pem) VALUES (:kid, :pem)"),
                        {"kid": kid, "pem": old_pem})
        session.commit()

        upgrade()

    [(stored_kid, _public, sealed)] = stored_keys(app)
    assert stored_kid == kid and sealed.startswith("scrypt-aes256gcm$")
    with app.app_context():  # the same key goes on signing: tokens issued before the upgrade stay valid
        assert app.extensions["deps"].key_store.signing_key(datetime.now(timezone.utc))[0] == kid
        app.extensions["sqlalchemy"].engine.dispose()


def test_the_migration_stops_when_secret_key_cannot_open_the_old_key(postgres_server_url, caplog):
    url = recreate_database(postgres_server_url, "test_users_reseal_wrong")
    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "not-the-secret-it-was-encrypted-with"})
    old_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    old_pem = old_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.BestAvailableEncryption(b"the original secret")).decode()
    with app.app_context():
        upgrade(revision="0003")
        session = app.extensions["sqlalchemy"].session
        session.execute(sa.text("INSERT INTO signing_keys (kid, private_key_pem) VALUES ('k', :pem)"), {"pem": old_pem})
        session.commit()
        with pytest.raises(SystemExit):  # Flask-Migrate logs the migration's error and exits
            upgrade()
        assert "Signing key k cannot be decrypted with this SECRET_KEY" in caplog.text
        app.extensions["sqlalchemy"].engine.dispose()


class Served:
    """The app on a free local port, over real HTTP, so other services' JWKS clients can reach it."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def served(app):
    fast_cache = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "PASSWORD_HASH_METHOD": FAST_HASH,
                             "TESTING": True, "JWKS_CACHE_SECONDS": 1})
    running = Served(fast_cache)
    yield fast_cache, running
    running.server.shutdown()


def test_a_rotated_key_signs_after_a_cache_period_and_a_removed_one_stops_verifying_everywhere(served, make_user):
    users, running = served
    make_user("alice")

    def log_in():
        return users.test_client().post("/login", json={"username": "alice", "password": "correct horse"}).json["token"]

    # another service's verifier: user-service's JWKS over HTTP, cached JWKS_CACHE_SECONDS (1 s here)
    elsewhere = token_verifier(load_settings({}, {"JWKS_URL": f"{running.url}/.well-known/jwks.json",
                                                  "JWKS_CACHE_SECONDS": 1}), account_check=lambda principal: None)
    first = log_in()
    old_kid = jwt.get_unverified_header(first)["kid"]
    assert elsewhere.verify(first).username == "alice"

    rotated = users.test_cli_runner().invoke(args=["rotate-keys"])
    assert rotated.exit_code == 0, rotated.output
    assert len(users.test_client().get("/.well-known/jwks.json").json["keys"]) == 2  # published at once
    assert jwt.get_unverified_header(log_in())["kid"] == old_kid  # ... but not signing yet
    time.sleep(2.1)  # a cache period for every service to fetch it, and one for this process to notice
    second = log_in()
    assert jwt.get_unverified_header(second)["kid"] != old_kid
    assert elsewhere.verify(second).username == "alice"
    assert elsewhere.verify(first).username == "alice"  # the old key still verifies its tokens

    removed = users.test_cli_runner().invoke(args=["rotate-keys", "--remove-retired", "--grace-seconds", "0"])
    assert removed.exit_code == 0, removed.output
    assert old_kid in removed.output
    time.sleep(1.1)
    with pytest.raises(Unauthorized):
        elsewhere.verify(first)
    assert users.test_client().get("/me", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    assert elsewhere.verify(second).username == "alice"


def test_retired_keys_are_kept_while_their_tokens_may_still_be_valid(served, make_user):
    users, _running = served
    make_user("alice")
    users.test_client().post("/login", json={"username": "alice", "password": "correct horse"})
    users.test_cli_runner().invoke(args=["rotate-keys"])
    time.sleep(1.1)

    result = users.test_cli_runner().invoke(args=["rotate-keys", "--remove-retired"])  # grace: a token's lifetime

    assert "Removed 0 retired key(s)" in result.output
    assert len(stored_keys(users)) == 3


def test_a_configured_key_is_not_rotated_here(app):
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    configured = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "JWT_PRIVATE_KEY": pem, "TESTING": True})

    result = configured.test_cli_runner().invoke(args=["rotate-keys"])

    assert result.exit_code != 0 and "JWT_PRIVATE_KEY" in result.output


def test_a_sealed_key_opens_only_with_its_secret_and_kid():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    sealed = seal(key, "the-secret", "kid-1")

    assert unseal(sealed, "the-secret", "kid-1").private_numbers() == key.private_numbers()
