import base64
import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from user_service import create_app


def test_every_worker_signs_with_the_one_generated_key(app, make_user):
    config = {"DATABASE_URL": app.config["DATABASE_URL"], "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
    make_user("alice")
    worker_a, worker_b = create_app(config).test_client(), create_app(config).test_client()

    token_a = worker_a.post("/login", json={"username": "alice", "password": "correct horse"}).json["token"]
    token_b = worker_b.post("/login", json={"username": "alice", "password": "correct horse"}).json["token"]

    assert jwt.get_unverified_header(token_a)["kid"] == jwt.get_unverified_header(token_b)["kid"]
    assert worker_b.get("/me", headers={"Authorization": f"Bearer {token_a}"}).status_code == 200


def test_a_configured_private_key_is_used_and_published(app, make_user):
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    client = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "JWT_PRIVATE_KEY": pem,
                         "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}).test_client()
    make_user("alice")

    token = client.post("/login", json={"username": "alice", "password": "correct horse"}).json["token"]

    jwt.decode(token, private_key.public_key(), algorithms=["RS256"], audience="library")
    published = [key["kid"] for key in client.get("/.well-known/jwks.json").json["keys"]]
    assert jwt.get_unverified_header(token)["kid"] in published


def _forged(token, **claim_changes):
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(claim_changes)
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged_payload}.{signature}"


@pytest.fixture
def alice_token(client, make_user):
    make_user("alice")
    return client.post("/login", json={"username": "alice", "password": "correct horse"}).json["token"]


def test_a_token_with_an_edited_role_is_rejected(client, alice_token):
    response = client.get("/users", headers={"Authorization": f"Bearer {_forged(alice_token, role='librarian')}"})

    assert response.status_code == 401


def test_an_hs256_token_signed_with_the_public_key_is_rejected(client, alice_token):
    kid = jwt.get_unverified_header(alice_token)["kid"]
    jwk = next(k for k in client.get("/.well-known/jwks.json").json["keys"] if k["kid"] == kid)
    public_pem = jwt.PyJWK(jwk).key.public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode()).rstrip(b"=")
    payload = alice_token.split(".")[1]
    import hashlib
    import hmac

    signing_input = header + b"." + payload.encode()
    signature = base64.urlsafe_b64encode(hmac.new(public_pem, signing_input, hashlib.sha256).digest()).rstrip(b"=")
    forged = (signing_input + b"." + signature).decode()

    assert client.get("/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


@pytest.mark.parametrize("authorization", ["Bearer", "Bearer not.a.token", "Basic YWxpY2U6cGFzcw==", "Bearer ...."])
def test_garbage_authorization_is_401_json(client, authorization):
    response = client.get("/me", headers={"Authorization": authorization})

    assert response.status_code == 401
    assert response.json["message"]
