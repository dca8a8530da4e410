"""The objects a view needs that live as long as the app (hasher, key store, throttle policy)."""

from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app

from ..accounts import PasswordHasher
from ..keys import KeyStore, TokenIssuer
from ..throttle import ThrottlePolicy


@dataclass(frozen=True)
class Services:
    hasher: PasswordHasher
    key_store: KeyStore
    token_issuer: TokenIssuer
    throttle_policy: ThrottlePolicy


def services() -> Services:
    return current_app.extensions["user_service"]


def now():
    return datetime.now(timezone.utc)
