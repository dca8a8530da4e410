"""Every kind of bad token is refused, by the verifier the services share."""

import base64
import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from library_common.auth import ACCOUNT_CHANGED, SESSION_ENDED, JwksKeyResolver
from library_common.errors import DependencyUnavailable, Unauthorized


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_good_token_names_its_principal(tokens):
    principal = tokens.verifier().verify(tokens.token("alice", "librarian"))

    assert (principal.username, principal.role, principal.is_librarian) == ("alice", "librarian", True)
    assert principal.may_act_for("ALICE") and principal.may_act_for("bob")


def test_clocks_a_little_apart_are_tolerated(tokens):
    """Up to 30 s: a token from a host whose clock runs ahead, or one that expired a moment ago."""
    now = datetime.now(timezone.utc)
    ahead = tokens.token(iat=now + timedelta(seconds=20), nbf=now + timedelta(seconds=20))
    just_expired = tokens.token(exp=now - timedelta(seconds=10))

    assert tokens.verifier().verify(ahead).username == "alice"
    assert tokens.verifier().verify(just_expired).username == "alice"


def _unsigned(tokens):
    header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": tokens.kid}).encode())
    payload = b64(json.dumps(tokens.claims("alice", "librarian") | {
        "iat": 0, "nbf": 0, "exp": 4102444800}).encode())
    return f"{header}.{payload}."


def _hs256_with_public_key(tokens):
    public_pem = tokens.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    import hashlib
    import hmac

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": tokens.kid}).encode())
    payload = b64(json.dumps({"sub": "alice", "role": "librarian", "iat": 0, "exp": 4102444800,
                              "iss": "library-user-service", "aud": "library"}).encode())
    signature = b64(hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}"


def _role_edited(tokens):
    header, payload, signature = tokens.token("alice", "patron").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return f"{header}.{b64(json.dumps(claims | {'role': 'librarian'}).encode())}.{signature}"


BAD_TOKENS = {
    "alg none": _unsigned,
    "HS256 signed with the public key": _hs256_with_public_key,
    "role edited": _role_edited,
    "expired beyond the clock leeway": lambda t: t.token(exp=datetime.now(timezone.utc) - timedelta(seconds=31)),
    "not yet valid": lambda t: t.token(nbf=datetime.now(timezone.utc) + timedelta(hours=1)),
    "issued in the future": lambda t: t.token(iat=datetime.now(timezone.utc) + timedelta(minutes=5)),
    "wrong issuer": lambda t: t.token(iss="someone-else"),
    "wrong audience": lambda t: t.token(aud="another-app"),
    "unknown kid": lambda t: t.token(kid="who-knows"),
    "other key, same kid": lambda t: t.token(key=rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    "unknown role": lambda t: t.token(role="admin"),
    "no expiry": lambda t: jwt.encode({k: v for k, v in t.claims("alice", "patron").items() if k != "exp"},
                                      t.private_key, algorithm="RS256", headers={"kid": t.kid}),
    "no session id (jti)": lambda t: jwt.encode({k: v for k, v in t.claims("alice", "patron").items() if k != "jti"},
                                                t.private_key, algorithm="RS256", headers={"kid": t.kid}),
    "not a jwt": lambda t: "hello",
}


@pytest.mark.parametrize("make_token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_bad_tokens_are_unauthorized(tokens, make_token):
    with pytest.raises(Unauthorized):
        tokens.verifier().verify(make_token(tokens))


class _JwksServer:
    """user-service's JWKS endpoint, served over real HTTP on a free local port."""

    def __init__(self, jwks):
        self.jwks = jwks
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests += 1
                document = json.dumps(outer.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(document)))
                self.end_headers()
                self.wfile.write(document)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/.well-known/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def jwks_server(tokens):
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(tokens.private_key.public_key(), as_dict=True)
    server = _JwksServer({"keys": [jwk | {"kid": tokens.kid, "use": "sig", "alg": "RS256"}]})
    yield server
    server.server.shutdown()


def test_jwks_keys_are_fetched_once_and_cached(tokens, jwks_server):
    resolver = JwksKeyResolver(jwks_server.url, cache_seconds=300, timeout=2)

    for _ in range(3):
        resolver(tokens.token())

    assert jwks_server.requests == 1


def test_a_key_removed_from_the_jwks_stops_verifying_once_the_cache_expires(tokens, jwks_server):
    import time

    resolver = JwksKeyResolver(jwks_server.url, cache_seconds=1, timeout=2)
    token = tokens.token()
    resolver(token)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks_server.jwks = {"keys": [jwt.algorithms.RSAAlgorithm.to_jwk(other.public_key(), as_dict=True)
                                 | {"kid": "the-next-key", "use": "sig", "alg": "RS256"}]}

    resolver(token)  # still cached: removal takes effect within the cache's lifespan, not at once
    time.sleep(1.1)
    with pytest.raises(Unauthorized):
        resolver(token)


def test_a_kid_missing_from_the_jwks_is_unauthorized(tokens, jwks_server):
    with pytest.raises(Unauthorized):
        JwksKeyResolver(jwks_server.url, cache_seconds=300, timeout=2)(tokens.token(kid="rotated-away"))


def test_an_unreachable_jwks_is_a_dependency_failure(tokens, jwks_server):
    jwks_server.server.shutdown()
    jwks_server.server.server_close()

    with pytest.raises(DependencyUnavailable):
        JwksKeyResolver(jwks_server.url, cache_seconds=300, timeout=1)(tokens.token())


@pytest.fixture
def account_service():
    import responses

    with responses.RequestsMock() as mock:
        yield mock


def _account_check(cache_seconds=30, **options):
    from library_common.auth import RemoteAccountCheck
    from library_common.http import ServiceClient

    client = ServiceClient("user-service", "http://users.test", connect_timeout=1, read_timeout=1, retries=0)
    return RemoteAccountCheck(client, cache_seconds, **options)


def _checked_verifier(tokens, cache_seconds=30, account_check=None):
    from library_common.auth import TokenVerifier

    resolver = tokens.verifier()._key_resolver
    return TokenVerifier(resolver, "library-user-service", "library", account_check or _account_check(cache_seconds))


def issued_a_minute_ago():
    return {"iat": datetime.now(timezone.utc) - timedelta(minutes=1)}


def test_the_account_check_asks_once_per_token_and_period(tokens, account_service):
    account_service.get("http://users.test/me", json={"username": "alice", "role": "patron", "active": True})
    verifier, token = _checked_verifier(tokens), tokens.token("alice", **issued_a_minute_ago())

    for _ in range(3):
        verifier.verify(token)

    assert len(account_service.calls) == 1
    assert account_service.calls[0].request.headers["Authorization"] == f"Bearer {token}"


@pytest.mark.parametrize("answer", [
    {"status": 401, "json": {"message": "This account was deactivated"}},
    {"status": 200, "json": {"username": "alice", "role": "librarian", "active": True}},
    {"status": 200, "json": {"username": "alice", "role": "patron", "active": False}},
])
def test_deactivated_demoted_or_deleted_accounts_are_refused(tokens, account_service, answer):
    account_service.get("http://users.test/me", **answer)

    with pytest.raises(Unauthorized):
        _checked_verifier(tokens).verify(tokens.token("alice", "patron", **issued_a_minute_ago()))


@pytest.mark.parametrize("reason", SESSION_ENDED.values())
def test_a_session_ended_elsewhere_is_refused_with_the_reason_user_service_gave(tokens, account_service, reason):
    """What the person on this device is told (Log out everywhere elsewhere, a password change)."""
    account_service.get("http://users.test/me", status=401, json={"message": reason})

    with pytest.raises(Unauthorized) as refused:
        _checked_verifier(tokens).verify(tokens.token("alice", **issued_a_minute_ago()))
    assert refused.value.message == reason


def test_any_other_refusal_says_the_account_changed(tokens, account_service):
    account_service.get("http://users.test/me", status=401, json={"message": "Something user-service made up"})

    with pytest.raises(Unauthorized) as refused:
        _checked_verifier(tokens).verify(tokens.token("alice", **issued_a_minute_ago()))
    assert refused.value.message == ACCOUNT_CHANGED


def test_a_token_issued_within_the_period_is_itself_the_answer(tokens, account_service):
    account_service.get("http://users.test/me", status=401, json={"message": "This account was deactivated"})
    verifier = _checked_verifier(tokens, cache_seconds=30)

    assert verifier.verify(tokens.token("alice", iat=datetime.now(timezone.utc) - timedelta(seconds=20))).username
    assert len(account_service.calls) == 0
    with pytest.raises(Unauthorized):
        verifier.verify(tokens.token("alice", iat=datetime.now(timezone.utc) - timedelta(seconds=40)))


def test_where_young_tokens_do_not_vouch_even_a_fresh_token_is_asked_about(tokens, account_service):
    """The web frontend's sessions (issue 13, finding 18): a token issued a moment ago may be logged out since."""
    account_service.get("http://users.test/me", status=401, json={"message": "This account was changed"})
    verifier = _checked_verifier(tokens, account_check=_account_check(1, young_tokens_vouch=False))

    with pytest.raises(Unauthorized):
        verifier.verify(tokens.token("alice"))
    assert len(account_service.calls) == 1


def test_no_answer_about_the_account_is_a_dependency_failure(tokens, account_service):
    import requests

    account_service.get("http://users.test/me", body=requests.ConnectionError("down"))

    with pytest.raises(DependencyUnavailable):
        _checked_verifier(tokens).verify(tokens.token("alice", **issued_a_minute_ago()))


def test_a_token_ended_here_is_refused_here_at_once_even_when_young(tokens, account_service):
    check = _account_check()
    verifier = _checked_verifier(tokens, account_check=check)
    token = tokens.token("alice")
    verifier.verify(token)

    check.forget(token)

    with pytest.raises(Unauthorized):
        verifier.verify(token)
    assert len(account_service.calls) == 0
