"""books-service: the catalogue (port 5000). Availability comes from borrow-service, which owns loans."""

from pathlib import Path

from library_common.app import create_service_app
from library_common.config import load_settings
from library_common.http import client_from_settings

from .loans import LoanCounts
from .models import db
from .views import books, genres

DEFAULTS = {
    "BORROW_SERVICE_URL": "http://127.0.0.1:5002",
    # Availability is a nicety: the catalogue answers without it rather than wait long for it.
    "AVAILABILITY_TIMEOUT": 1.0,
}


def create_app(config=None):
    settings = load_settings(DEFAULTS, config)
    app = create_service_app(
        __name__,
        service_name="books-service",
        title="Library books-service",
        settings=settings,
        db=db,
        migrations_dir=Path(__file__).parent / "migrations",
        blueprints=[books.blp, genres.blp],
    )
    app.extensions["loan_counts"] = LoanCounts(
        client_from_settings(
            settings, "borrow-service", "BORROW_SERVICE_URL", read_timeout=settings["AVAILABILITY_TIMEOUT"]
        )
    )
    return app
