"""The RS256 key pairs that sign tokens, and the JWKS document that publishes their public halves.

In production the key may come from JWT_PRIVATE_KEY (PEM). Otherwise the first worker that
needs one generates it under a PostgreSQL advisory lock and stores it sealed with SECRET_KEY
(AES-256-GCM under a key derived by scrypt), so a fresh install needs no key set-up and every
worker signs with the same key.

Rotation (`flask rotate-keys`): a new key is published at once (the JWKS document is read from the
database on every request) but signs only once it has been published for JWKS_CACHE_SECONDS, so
every service has fetched it before it meets a token it signed; each worker notices within another
such period. The keys it replaced keep verifying until they are removed (`--remove-retired`), which
is safe once no token they signed can still be valid; a removed key stops verifying everywhere
within JWKS_CACHE_SECONDS, since every process, this one too, reloads the keys that often.
"""

import base64
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, select, text

from library_common.auth import SERVICE, CLOCK_LEEWAY_SECONDS
from library_common.errors import Unauthorized
from library_common.transactions import transaction

from .models import SigningKey, db

_KEY_GENERATION_LOCK = 0x6B657973  # any constant, unique to this database

# scrypt's cost: 32 MiB and about a tenth of a second per derivation, once per key and process.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
_SEALED_FORMAT = "scrypt-aes256gcm"


def thumbprint(public_key):
    """RFC 7638 JWK thumbprint: a stable `kid` derived from the key itself."""
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(public_key, as_dict=True)
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def _b64(data):
    return base64.b64encode(data).decode()


def _derive(secret, salt, n, r, p):
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, maxmem=2 * 128 * r * n, dklen=32)


def seal(private_key, secret, kid):
    """The private key encrypted for storage: 'scrypt-aes256gcm$N$r$p$salt$nonce$ciphertext' (base64 parts).

    The parameters travel with the value, so a later, dearer cost still opens older keys; the kid is
    authenticated with it, so a sealed key cannot be passed off as another.
    """
    salt, nonce = os.urandom(16), os.urandom(12)
    der = private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    sealed = AESGCM(_derive(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)).encrypt(nonce, der, kid.encode())
    return "$".join([_SEALED_FORMAT, str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(nonce),
                     _b64(sealed)])


def unseal(sealed, secret, kid):
    """The private key `seal` stored; ValueError when SECRET_KEY is not the one it was sealed with."""
    kind, n, r, p, salt, nonce, ciphertext = sealed.split("$")
    if kind != _SEALED_FORMAT:
        raise ValueError(f"unknown sealed key format {kind!r}")
    try:
        der = AESGCM(_derive(secret, base64.b64decode(salt), int(n), int(r), int(p))).decrypt(
            base64.b64decode(nonce), base64.b64decode(ciphertext), kid.encode())
    except Exception as exc:  # cryptography's InvalidTag says nothing more than "wrong key or altered"
        raise ValueError("wrong SECRET_KEY, or the sealed key was altered") from exc
    return serialization.load_der_private_key(der, password=None)


def public_pem(public_key):
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


class KeyStore:
    """The keys, as this process knows them: reloaded from the database every `refresh_seconds`."""

    def __init__(self, secret, configured_private_pem="", *, refresh_seconds):
        self._secret = secret
        self._refresh_seconds = refresh_seconds
        self._configured = None
        if configured_private_pem:
            private_key = serialization.load_pem_private_key(configured_private_pem.encode(), password=None)
            self._configured = (thumbprint(private_key.public_key()), private_key)
        self._published = {}  # kid -> public key, replaced whole on each reload
        self._published_loaded = None  # time.monotonic() of the last reload
        self._signing = None  # (kid, private key)
        self._signing_checked = None

    def _stale(self, loaded_at):
        return loaded_at is None or time.monotonic() - loaded_at >= self._refresh_seconds

    def signing_key(self, now):
        """(kid, private key) to sign with now; a fresh install's first key is generated here."""
        if self._configured:
            return self._configured
        if self._signing is None or self._stale(self._signing_checked):
            kid = self._signing_kid(now)
            if self._signing is None or self._signing[0] != kid:
                self._signing = (kid, self._unsealed(kid))
            self._signing_checked = time.monotonic()
        return self._signing

    def public_key(self, kid):
        if kid not in self._published or self._stale(self._published_loaded):
            self._load_published()
        return self._published.get(kid)

    def jwks(self):
        self._load_published()
        keys = []
        for kid, public_key in self._published.items():
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(public_key, as_dict=True)
            keys.append(jwk | {"kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": keys}

    def _load_published(self):
        published = {kid: serialization.load_pem_public_key(pem.encode())
                     for kid, pem in db.session.execute(select(SigningKey.kid, SigningKey.public_key))}
        if self._configured:
            published[self._configured[0]] = self._configured[1].public_key()
        self._published, self._published_loaded = published, time.monotonic()

    def _signing_kid(self, now):
        """The newest key published for at least `refresh_seconds`, or, before any has been, the oldest."""
        keys = db.session.execute(select(SigningKey.kid, SigningKey.created_at)
                                  .order_by(SigningKey.created_at)).all()
        if not keys:
            return self._generate_first()
        ready = [kid for kid, created_at in keys if created_at + timedelta(seconds=self._refresh_seconds) <= now]
        return ready[-1] if ready else keys[0].kid

    def _generate_first(self):
        with transaction() as session:
            session.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _KEY_GENERATION_LOCK})
            first = session.scalars(select(SigningKey.kid).order_by(SigningKey.created_at).limit(1)).first()
            if first is None:  # no other worker made it while we waited for the lock
                first = self._store_new_key(session)
        return first

    def _store_new_key(self, session):
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        kid = thumbprint(private_key.public_key())
        session.add(SigningKey(kid=kid, public_key=public_pem(private_key.public_key()),
                               sealed_private_key=seal(private_key, self._secret, kid)))
        return kid

    def _unsealed(self, kid):
        stored = db.session.get(SigningKey, kid)
        try:
            return unseal(stored.sealed_private_key, self._secret, kid)
        except ValueError as exc:
            raise RuntimeError(f"Signing key {kid} cannot be decrypted: SECRET_KEY changed since it was created") \
                from exc

    def rotate(self):
        """Store a new key: published now, signing once it has been published for `refresh_seconds`."""
        self._refuse_when_configured()
        with transaction() as session:
            return self._store_new_key(session)

    def remove_retired(self, now, grace):
        """Remove the keys that another has replaced for longer than `grace` (by default, as long as a token
        lives plus the clock leeway: no token they signed is valid any more). Returns their kids."""
        self._refuse_when_configured()
        # A key signs once published for a refresh period; every worker has switched within another.
        everyone_switched = timedelta(seconds=2 * self._refresh_seconds)
        with transaction() as session:
            keys = session.execute(select(SigningKey.kid, SigningKey.created_at)
                                   .order_by(SigningKey.created_at)).all()
            replaced_long_ago = {older.kid for older, newer in zip(keys, keys[1:], strict=False)
                                 if newer.created_at + everyone_switched + grace <= now}
            signing_now = self._signing_kid(now) if keys else None
            removable = sorted(replaced_long_ago - {signing_now})
            if removable:
                session.execute(delete(SigningKey).where(SigningKey.kid.in_(removable)))
        return removable

    def _refuse_when_configured(self):
        if self._configured:
            raise RuntimeError("The signing key comes from JWT_PRIVATE_KEY: rotate it where that secret is kept")


def token_lifetime_with_leeway(ttl_seconds):
    return timedelta(seconds=ttl_seconds + CLOCK_LEEWAY_SECONDS)


@dataclass(frozen=True)
class TokenIssuer:
    key_store: KeyStore
    issuer: str
    audience: str
    ttl_seconds: int

    def issue(self, user, now):
        kid, private_key = self.key_store.signing_key(now)
        # A fraction of a second is a legal NumericDate: a token issued just after a logout is then told
        # apart from those the logout ended (accounts.check_account compares `iat` with it).
        issued_at = now.timestamp()
        claims = {
            "sub": user.username,
            "role": user.role,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "iat": issued_at,
            "nbf": issued_at,
            "exp": issued_at + self.ttl_seconds,
            "iss": self.issuer,
            "aud": self.audience,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": kid})


def issue_service_token(issuer, service, scopes, now):
    """A short token for another of the library's services acting for itself (role `service`), allowed what
    its `scopes` name."""
    kid, private_key = issuer.key_store.signing_key(now)
    issued_at = now.timestamp()
    claims = {"sub": service, "role": SERVICE, "iat": issued_at, "nbf": issued_at,
              "exp": issued_at + SERVICE_TOKEN_SECONDS, "iss": issuer.issuer, "aud": issuer.audience,
              "jti": uuid.uuid4().hex, "scope": " ".join(scopes)}
    return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": kid})


SERVICE_TOKEN_SECONDS = 900


class LocalKeyResolver:
    """user-service verifies tokens against its own key store, without a round trip to itself."""

    def __init__(self, key_store):
        self._key_store = key_store

    def __call__(self, token):
        kid = jwt.get_unverified_header(token).get("kid")
        key = self._key_store.public_key(kid)
        if key is None:
            raise Unauthorized("Invalid token")
        return key
