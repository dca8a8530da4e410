"""borrow-service: loans (port 5002). It asks books-service about books and user-service about users."""

from library_common import deps as app_deps
from library_common.app import create_service_app, token_verifier
from library_common.config import load_settings
from library_common.http import client_from_settings

from .deps import Deps
from .loans import LoanPolicy
from .models import db
from .neighbours import Catalogue, Directory
from .views import borrows

DEFAULTS = {
    "BOOKS_SERVICE_URL": "http://127.0.0.1:5000",
    "LOAN_DAYS": 14,
    "MAX_ACTIVE_LOANS": 5,
    "MAX_RENEWALS": 2,
}


def create_app(config=None):
    settings = load_settings(DEFAULTS, config)
    app = create_service_app(__name__, settings, db, [borrows.blp])
    app_deps.attach(app, Deps(
        token_verifier=token_verifier(settings),
        policy=LoanPolicy(settings["LOAN_DAYS"], settings["MAX_ACTIVE_LOANS"], settings["MAX_RENEWALS"]),
        catalogue=Catalogue(client_from_settings(settings, "books-service", "BOOKS_SERVICE_URL")),
        directory=Directory(client_from_settings(settings, "user-service", "USER_SERVICE_URL")),
    ))
    return app
