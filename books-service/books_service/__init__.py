"""books-service: the catalogue (port 5000). Availability comes from borrow-service, which owns loans."""

from library_common import deps as app_deps
from library_common.app import create_service_app, token_verifier
from library_common.audit import audit_blueprint
from library_common.config import DEV_SECRET, load_settings
from library_common.feeds import ServiceTokens
from library_common.http import client_from_settings
from library_common.rate_limits import Limit, RateLimiter

from .covers import CoverFetcher
from .deps import Deps
from .models import db
from .neighbours import Circulation
from . import views
from .spelling import Vocabulary

DEFAULTS = {
    "BORROW_SERVICE_URL": "http://127.0.0.1:5002",
    # Availability is a nicety: the catalogue answers without it rather than wait long for it.
    "AVAILABILITY_TIMEOUT": 1.0,
    # Per client: searches that rank every match (sort=relevance) or ask borrow-service about every loan
    # (available=true) cost far more than a page in title order.
    "RATE_LIMIT_EXPENSIVE_SEARCH": "120/minute",
    # How long each process keeps the catalogue's words for "Did you mean" before reading them again.
    "SPELLING_REFRESH_SECONDS": 60,
    # Imports: the largest file, how many a client may upload, how often the worker looks for work.
    "IMPORT_MAX_BYTES": 20 * 1024 * 1024,
    "RATE_LIMIT_IMPORTS": "30/hour",
    "IMPORT_POLL_SECONDS": 5,
    # Cover images (covers.py): fetched by the worker at all (off in `make demo`, whose 10,000 covers are on a
    # host an offline machine cannot reach); the largest image; the timeout to connect and between reads (twice
    # it for a whole image); which addresses may be asked (false: public only; loopback: also this machine, for
    # development and tests; true: any, for an intranet image server); tries of an address that cannot be
    # reached, the first wait after a failure (each next one doubles); how often due covers are looked for.
    "COVERS_FETCH": True,
    "COVER_MAX_BYTES": 2 * 1024 * 1024,
    "COVER_FETCH_TIMEOUT": 5.0,
    "COVER_FETCH_PRIVATE_NETWORKS": "false",
    "COVER_FETCH_ATTEMPTS": 4,
    "COVER_RETRY_SECONDS": 60.0,
    "COVER_POLL_SECONDS": 60,
    # Its secret at user-service (user-service's BOOKS_SERVICE_SECRET): the worker asks borrow-service about
    # many books at once as itself when it reverts an import.
    "SERVICE_SECRET": DEV_SECRET,
}


def create_app(config=None):
    settings = load_settings(DEFAULTS, config)
    app = create_service_app(__name__, settings, db,
                             [views.books.blp, views.genres.blp, views.items.blp, views.item_types.blp,
                              views.imports.blp, audit_blueprint(settings)],
                             secret_names=["SERVICE_SECRET"])
    app_deps.attach(app, Deps(
        token_verifier=token_verifier(settings),
        circulation=Circulation(
            client_from_settings(settings, "borrow-service", "BORROW_SERVICE_URL",
                                 read_timeout=settings["AVAILABILITY_TIMEOUT"]),
            client_from_settings(settings, "borrow-service", "BORROW_SERVICE_URL"),
        ),
        vocabulary=Vocabulary(settings["SPELLING_REFRESH_SECONDS"]),
        rate_limiter=RateLimiter({
            "expensive_search": Limit.parse("RATE_LIMIT_EXPENSIVE_SEARCH", settings["RATE_LIMIT_EXPENSIVE_SEARCH"],
                                            "searches by relevance or for available books"),
            "imports": Limit.parse("RATE_LIMIT_IMPORTS", settings["RATE_LIMIT_IMPORTS"], "imports uploaded")}),
        cover_fetcher=CoverFetcher(settings["COVER_MAX_BYTES"], settings["COVER_FETCH_TIMEOUT"],
                                   settings["COVER_FETCH_PRIVATE_NETWORKS"], settings["COVER_FETCH_ATTEMPTS"],
                                   settings["COVER_RETRY_SECONDS"]),
        service_tokens=ServiceTokens(client_from_settings(settings, "user-service", "USER_SERVICE_URL"),
                                     "books-service", settings["SERVICE_SECRET"]),
    ))
    return app
