"""borrow-service: loans (port 5002). It asks books-service about books and user-service about users."""

from dataclasses import dataclass
from pathlib import Path

from library_common.app import create_service_app
from library_common.config import load_settings
from library_common.http import client_from_settings

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


@dataclass(frozen=True)
class Dependencies:
    policy: LoanPolicy
    catalogue: Catalogue
    directory: Directory


def create_app(config=None):
    settings = load_settings(DEFAULTS, config)
    app = create_service_app(
        __name__,
        service_name="borrow-service",
        title="Library borrow-service",
        settings=settings,
        db=db,
        migrations_dir=Path(__file__).parent / "migrations",
        blueprints=[borrows.blp],
    )
    app.extensions["borrow_service"] = Dependencies(
        policy=LoanPolicy(settings["LOAN_DAYS"], settings["MAX_ACTIVE_LOANS"], settings["MAX_RENEWALS"]),
        catalogue=Catalogue(client_from_settings(settings, "books-service", "BOOKS_SERVICE_URL")),
        directory=Directory(client_from_settings(settings, "user-service", "USER_SERVICE_URL")),
    )
    return app
