"""The RS256 key pair that signs tokens, and the JWKS document that publishes its public half.

In production the key may come from JWT_PRIVATE_KEY (PEM). Otherwise the first worker that
needs one generates it under a PostgreSQL advisory lock and stores it encrypted with
SECRET_KEY, so a fresh install needs no key set-up and every worker signs with the same key.
"""

import base64
import hashlib
import json
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select, text

from library_common.errors import Unauthorized
from library_common.transactions import transaction

from .models import SigningKey, db

_KEY_GENERATION_LOCK = 0x6B657973  # any constant, unique to this database


def thumbprint(public_key):
    """RFC 7638 JWK thumbprint: a stable `kid` derived from the key itself."""
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(public_key, as_dict=True)
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


class KeyStore:
    def __init__(self, secret, configured_private_pem=""):
        self._secret = secret.encode()
        self._public_keys = {}
        self._signing = None
        if configured_private_pem:
            private_key = serialization.load_pem_private_key(configured_private_pem.encode(), password=None)
            self._remember(private_key)

    def _remember(self, private_key):
        kid = thumbprint(private_key.public_key())
        self._public_keys[kid] = private_key.public_key()
        self._signing = (kid, private_key)

    def signing_key(self):
        """(kid, private key) to sign with; generated and stored on first use."""
        if self._signing is None:
            self._load_or_generate()
        return self._signing

    def public_key(self, kid):
        if kid not in self._public_keys:
            self._load_public_keys()
        return self._public_keys.get(kid)

    def jwks(self):
        self.signing_key()
        self._load_public_keys()
        keys = []
        for kid, public_key in self._public_keys.items():
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(public_key, as_dict=True)
            keys.append(jwk | {"kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": keys}

    def _load_public_keys(self):
        for stored in db.session.scalars(select(SigningKey)):
            if stored.kid not in self._public_keys:
                self._public_keys[stored.kid] = self._decrypt(stored).public_key()

    def _load_or_generate(self):
        with transaction():
            db.session.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _KEY_GENERATION_LOCK})
            newest = db.session.scalars(select(SigningKey).order_by(SigningKey.created_at.desc()).limit(1)).first()
            if newest is None:
                private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                pem = private_key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.BestAvailableEncryption(self._secret),
                )
                db.session.add(SigningKey(kid=thumbprint(private_key.public_key()), private_key_pem=pem.decode()))
            else:
                private_key = self._decrypt(newest)
        self._remember(private_key)

    def _decrypt(self, stored):
        try:
            return serialization.load_pem_private_key(stored.private_key_pem.encode(), password=self._secret)
        except ValueError as exc:
            raise RuntimeError(
                f"Signing key {stored.kid} cannot be decrypted: SECRET_KEY changed since it was created"
            ) from exc


@dataclass(frozen=True)
class TokenIssuer:
    key_store: KeyStore
    issuer: str
    audience: str
    ttl_seconds: int

    def issue(self, user, now):
        kid, private_key = self.key_store.signing_key()
        issued_at = int(now.timestamp())
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
        }
        return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": kid})


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
