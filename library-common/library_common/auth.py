"""Bearer-token authentication: RS256 JWTs issued by user-service, verified here.

Services other than user-service resolve signing keys through user-service's JWKS
(fetched and cached by PyJWT's client); user-service resolves them from its own store.
"""

import functools
import hashlib
import threading
import time
from dataclasses import dataclass

import cachetools
import jwt
from flask import g, request

from .deps import AppDeps
from .errors import DependencyUnavailable, Forbidden, Unauthorized

LIBRARIAN = "librarian"
PATRON = "patron"
ROLES = (PATRON, LIBRARIAN)  # people's accounts
# Another service of the library acting for itself (e.g. notification-service reading the event feeds): its
# token comes from user-service's POST /service-tokens, lives minutes, names no account, and carries the
# scopes of what that service needs (its `scope` claim, space-separated as in OAuth 2.0), nothing more.
SERVICE = "service"
# The scopes, one per kind of question a service asks another; user_service.service_clients says who has which.
READ_EVENTS = "events:read"  # the event feeds (GET /events)
READ_CIRCULATION = "circulation:read"  # borrow-service: who has the copies of these books
MAIL_LINKS = "links:mail"  # user-service: an account's contact details and its mailed links, at sending time
REQUIRED_CLAIMS = ["sub", "role", "iat", "exp", "iss", "aud", "jti"]  # jti: the session Log out ends
# Clocks of the services and their hosts differ a little: `iat`, `nbf` and `exp` are read with this slack.
CLOCK_LEEWAY_SECONDS = 30


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the token says."""

    username: str
    role: str
    first_name: str = ""
    last_name: str = ""
    token: str = ""
    issued_at: float = 0.0  # the token's `iat`, seconds since the epoch (with a fraction: see TokenIssuer)
    session_id: str = ""  # the token's `jti`: one login on one device, which Log out ends alone
    scopes: frozenset = frozenset()  # a service token's scopes (people's tokens have none)

    @property
    def is_librarian(self):
        return self.role == LIBRARIAN

    @property
    def is_service(self):
        return self.role == SERVICE

    def may_act_for(self, username):
        return self.is_librarian or self.username.lower() == username.lower()

    def whose(self, requested_username, things):
        """Whose `things` (loans, holds) this caller may list: a librarian anyone's (or everyone's: None), anyone
        else only their own (403 when they ask for another's)."""
        if self.is_librarian:
            return requested_username
        if requested_username and requested_username.lower() != self.username.lower():
            raise Forbidden(f"You may only see your own {things}")
        return self.username


class JwksKeyResolver:
    """Finds the public key for a token's `kid` in user-service's JWKS document."""

    def __init__(self, jwks_url, cache_seconds, timeout):
        # The key set is cached for `cache_seconds`, and nothing longer: PyJWT's per-key cache (cache_keys)
        # never expires, so a key user-service removed would go on verifying tokens here for good.
        self._client = jwt.PyJWKClient(jwks_url, cache_keys=False, lifespan=cache_seconds, timeout=timeout)

    def __call__(self, token):
        try:
            return self._client.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError as exc:
            raise DependencyUnavailable("Cannot verify the token right now: the user service is unavailable") from exc
        except (jwt.PyJWKClientError, jwt.DecodeError) as exc:
            raise Unauthorized("Invalid token") from exc


class RemoteAccountCheck:
    """Asks user-service whether a token's account still exists, is active and has the token's role.

    A token stays cryptographically valid until it expires; this is what makes deactivating,
    deleting or demoting a user, logging out and changing the password (user-service refuses tokens
    issued before those) take effect within `cache_seconds` everywhere. Answers are cached
    per token so a busy client costs one call per period, not one per request, and a token issued
    less than `cache_seconds` ago needs no call at all: user-service issues tokens only to active
    accounts with that role, so the token is itself an answer that recent. (Without that, a burst
    of logins, slow by design, delayed every freshly logged-in patron's first borrow behind them.)

    `young_tokens_vouch=False` (the web frontend, which holds people's sessions: a logout must end a copy of
    the session cookie at once, and a young token says nothing of a logout since) asks about every token.
    """

    def __init__(self, client, cache_seconds, young_tokens_vouch=True):
        self._client = client
        self._answers = cachetools.TTLCache(maxsize=10_000, ttl=cache_seconds)
        self._lock = threading.Lock()
        self._young_tokens_vouch = young_tokens_vouch

    def __call__(self, principal):
        key = _cache_key(principal.token)
        with self._lock:
            refusal = self._answers.get(key)
        if (refusal is None and self._young_tokens_vouch
                and 0 <= time.time() - principal.issued_at < self._answers.ttl):
            return
        if refusal is None:
            response = self._client.get("/me", token=principal.token)
            if response.status_code not in (200, 401, 403, 404):
                raise DependencyUnavailable("Cannot check the account right now: the user service is unavailable")
            refusal = _refusal(response, principal)
            with self._lock:
                self._answers[key] = refusal
        if refusal:
            raise Unauthorized(refusal)

    def forget(self, token):
        """This token was just ended here (logout): refuse it from now on in this process, young or not."""
        with self._lock:
            self._answers[_cache_key(token)] = ACCOUNT_CHANGED


def _refusal(response, principal):
    """Why user-service's answer to /me refuses the token ("" when it does not): one of SESSION_ENDED's
    reasons, which people are told, or ACCOUNT_CHANGED."""
    body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
    if response.status_code == 200:
        return "" if body.get("active") is True and body.get("role") == principal.role else ACCOUNT_CHANGED
    return body.get("message") if body.get("message") in SESSION_ENDED.values() else ACCOUNT_CHANGED


def _cache_key(token):
    return hashlib.sha256(token.encode()).digest()


ACCOUNT_CHANGED = "This account was deactivated, deleted or changed; log in again"
# Why a session ended elsewhere, as the person on this device is told it (user-service's /me answers with one).
SESSION_ENDED = {
    "logged_out": "You logged out of this session; log in again",
    "logged_out_everywhere": "You were logged out here because Log out everywhere was chosen on another device; "
                             "log in again",
    "password_changed": "You were logged out here because this account's password was changed; "
                        "log in with the new one",
}


class TokenVerifier:
    def __init__(self, key_resolver, issuer, audience, account_check=None):
        self._key_resolver = key_resolver
        self._issuer = issuer
        self._audience = audience
        self._account_check = account_check

    def verify(self, token):
        """Return the Principal a valid token names; raise Unauthorized for any other token."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise Unauthorized("Invalid token") from exc
        if header.get("alg") != "RS256" or not header.get("kid"):
            raise Unauthorized("Invalid token")
        key = self._key_resolver(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=self._audience,
                issuer=self._issuer,
                leeway=CLOCK_LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("Token expired; log in again") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthorized("Invalid token") from exc
        if claims["role"] not in (*ROLES, SERVICE) or not isinstance(claims["sub"], str):
            raise Unauthorized("Invalid token")
        principal = Principal(
            username=claims["sub"],
            role=claims["role"],
            first_name=claims.get("first_name", ""),
            last_name=claims.get("last_name", ""),
            token=token,
            issued_at=claims["iat"],
            session_id=str(claims["jti"]),
            scopes=frozenset(claims.get("scope", "").split()) if claims["role"] == SERVICE else frozenset(),
        )
        if self._account_check and not principal.is_service:  # a service token has no account to check
            self._account_check(principal)
        return principal


def _bearer_token():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_principal(optional=False):
    """The verified caller of this request (cached on `g`), or None when optional and anonymous."""
    if "principal" not in g:
        token = _bearer_token()
        if token is None:
            if optional:
                return None
            raise Unauthorized("Authentication required: send 'Authorization: Bearer <token>'")
        g.principal = AppDeps.current().token_verifier.verify(token)
    return g.principal


def _only_for(allowed, refusal):
    """A view decorator: the verified caller must be `allowed(principal)`, else 403 `refusal`."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not allowed(current_principal()):
                raise Forbidden(refusal)
            return view(*args, **kwargs)

        return wrapper

    return decorate


# For people's accounts: a service token is refused (it names no patron to act for).
login_required = _only_for(lambda principal: not principal.is_service, "For people's accounts, not for services")
librarian_required = _only_for(lambda principal: principal.is_librarian, "Librarians only")
# For anyone with a valid token, a person's or a service's: what every account and every service may read.
token_required = _only_for(lambda principal: True, "")


def service_required(scope, librarians_too=False):
    """For the library's services whose token has `scope` (and librarians too, when they may look)."""
    return _only_for(lambda principal: (principal.is_service and scope in principal.scopes)
                     or (librarians_too and principal.is_librarian),
                     f"For the library's services with the {scope!r} scope")
