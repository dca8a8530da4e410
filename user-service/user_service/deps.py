"""user-service's app-lifetime objects, built once by create_app (see library_common.deps)."""

from dataclasses import dataclass

from library_common.deps import AppDeps
from library_common.rate_limits import RateLimiter

from .accounts import PasswordHasher
from .keys import KeyStore, TokenIssuer
from .links import LinkTokens
from .neighbours import Circulation
from .throttle import ThrottlePolicy


@dataclass(frozen=True)
class Deps(AppDeps):
    hasher: PasswordHasher
    key_store: KeyStore
    token_issuer: TokenIssuer
    throttle_policy: ThrottlePolicy
    service_clients: dict  # the library's other services: name -> service_clients.ServiceClient
    rate_limiter: RateLimiter
    circulation: Circulation
    links: LinkTokens  # the signed tokens of mailed links (verify an address, choose a password)
    self_registration: str  # SELF_REGISTRATION: approval.OPEN, VERIFIED or APPROVAL
    card_validity_days: int  # CARD_VALIDITY_DAYS: how long a new library card is valid


deps = Deps.current
