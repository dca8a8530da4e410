"""user-service's app-lifetime objects, built once by create_app (see library_common.deps)."""

from dataclasses import dataclass

from library_common.deps import AppDeps

from .accounts import PasswordHasher
from .keys import KeyStore, TokenIssuer
from .throttle import ThrottlePolicy


@dataclass(frozen=True)
class Deps(AppDeps):
    hasher: PasswordHasher
    key_store: KeyStore
    token_issuer: TokenIssuer
    throttle_policy: ThrottlePolicy


deps = Deps.current
