"""books-service's app-lifetime objects, built once by create_app (see library_common.deps)."""

from dataclasses import dataclass

from library_common.deps import AppDeps
from library_common.feeds import ServiceTokens
from library_common.rate_limits import RateLimiter

from .covers import CoverFetcher
from .neighbours import Circulation
from .spelling import Vocabulary


@dataclass(frozen=True)
class Deps(AppDeps):
    circulation: Circulation
    rate_limiter: RateLimiter
    vocabulary: Vocabulary
    service_tokens: ServiceTokens  # the worker's own tokens (books-service acting as itself: reverting imports)
    cover_fetcher: CoverFetcher


deps = Deps.current
