"""The signed tokens in the links user-service asks notification-service to mail: verify an e-mail address,
choose a password. user-service never mails anything itself; it records the token in an event.

Each kind is signed with itsdangerous under its own salt (so one kind is never accepted as another), keyed
from SECRET_KEY, and carries the time it was signed, which `now` is compared with when it comes back.

- A verification token names the account and the address it was sent to: once the account's address is
  another, the token verifies nothing.
- A password token names the account, the address it was sent to, and a fingerprint of the password hash
  it was issued against. Setting a password changes the hash (a fresh salt each time), so the token works
  once, and no longer once the password has changed some other way; changing the address ends it too.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadData, URLSafeTimedSerializer

from library_common.errors import BadRequest

EXPIRED_OR_USED = "This link has expired or was already used"


@dataclass(frozen=True)
class VerificationClaim:
    username: str
    email: str  # lower case


@dataclass(frozen=True)
class PasswordClaim:
    username: str
    email: str  # lower case
    password_fingerprint: str
    welcome: bool  # the account's first password (registered at the desk): it also verifies the address


class LinkTokens:
    def __init__(self, secret, verification_lifetime: timedelta, reset_lifetime: timedelta):
        self.verification_lifetime = verification_lifetime
        self.reset_lifetime = reset_lifetime
        self._verification = URLSafeTimedSerializer(secret, salt="library.email-verification")
        self._password = URLSafeTimedSerializer(secret, salt="library.password-reset")
        self._fingerprint_key = hmac.new(secret.encode(), b"library.password-fingerprint", hashlib.sha256).digest()

    def password_lifetime(self, welcome):
        """A welcome link also verifies the address, so it lives as long as a verification link."""
        return self.verification_lifetime if welcome else self.reset_lifetime

    def email_verification(self, username, email):
        return self._verification.dumps({"u": username, "e": email.lower()})

    def read_email_verification(self, token, now) -> VerificationClaim:
        claims = self._read(self._verification, token, now, lambda _claims: self.verification_lifetime)
        return VerificationClaim(claims["u"], claims["e"])

    def password(self, username, email, password_hash, welcome):
        return self._password.dumps({"u": username, "e": email.lower(), "p": self.fingerprint(password_hash),
                                     "w": welcome})

    def read_password(self, token, now) -> PasswordClaim:
        claims = self._read(self._password, token, now, lambda claims: self.password_lifetime(claims["w"] is True))
        return PasswordClaim(claims["u"], claims["e"], claims["p"], claims["w"] is True)

    def fingerprint(self, password_hash):
        """Changes whenever the hash does; keyed, since the token is only signed and anyone holding it reads it."""
        return hmac.new(self._fingerprint_key, password_hash.encode(), hashlib.sha256).hexdigest()[:32]

    @staticmethod
    def _read(serializer, token, now, lifetime_of):
        try:
            claims, signed_at = serializer.loads(token, return_timestamp=True)
        except BadData as exc:  # tampered, truncated, another kind of token, or signed with another key
            raise BadRequest(EXPIRED_OR_USED) from exc
        # A link is only ever mailed to an address: one naming none (an account without an address would match
        # it) was never issued here.
        if now - signed_at > lifetime_of(claims) or not claims.get("e"):
            raise BadRequest(EXPIRED_OR_USED)
        return claims

