"""books-service: the catalogue (port 5000). Availability comes from borrow-service, which owns loans."""

from library_common import deps as app_deps
from library_common.app import create_service_app, token_verifier
from library_common.config import load_settings
from library_common.http import client_from_settings

from .deps import Deps
from .models import db
from .neighbours import Circulation
from .spelling import Vocabulary
from .views import books, genres

DEFAULTS = {
    "BORROW_SERVICE_URL": "http://127.0.0.1:5002",
    # Availability is a nicety: the catalogue answers without it rather than wait long for it.
    "AVAILABILITY_TIMEOUT": 1.0,
    # How long each process keeps the catalogue's words for "Did you mean" before reading them again.
    "SPELLING_REFRESH_SECONDS": 60,
}


def create_app(config=None):
    settings = load_settings(DEFAULTS, config)
    app = create_service_app(__name__, settings, db, [books.blp, genres.blp])
    borrow_service = client_from_settings(settings, "borrow-service", "BORROW_SERVICE_URL",
                                          read_timeout=settings["AVAILABILITY_TIMEOUT"])
    app_deps.attach(app, Deps(token_verifier=token_verifier(settings), circulation=Circulation(borrow_service),
                              vocabulary=Vocabulary(settings["SPELLING_REFRESH_SECONDS"])))
    return app
