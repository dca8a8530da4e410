"""Container entrypoint: `python -m library_common.serve books_service`.

Creates the service's database if it is missing, applies its migrations (concurrent replicas
wait on the advisory lock in migration_env, and the later ones find nothing to do), then
replaces itself with gunicorn. The web frontend has no database and goes straight to gunicorn.
"""

import importlib
import os
import sys

from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from .config import shared_secret_problems
from .databases import ensure_database


def prepare_database(package):
    app = importlib.import_module(package).create_app({"BOOTSTRAP_LIBRARIAN": ""})
    if "migrate" not in app.extensions:
        return
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    ensure_database(url.set(database="postgres").render_as_string(hide_password=False), url.database)
    with app.app_context():
        upgrade()


def refuse_secrets_shared_between_services(environ):
    """Under compose, user-service's container is also given the frontend's SECRET_KEY as FRONTEND_SECRET_KEY,
    only so that production refuses two equal keys. It is removed here, before the app starts."""
    frontend_key = environ.pop("FRONTEND_SECRET_KEY", "")
    if environ.get("APP_ENV") == "production" and frontend_key:
        problems = shared_secret_problems({"SECRET_KEY": environ.get("SECRET_KEY", ""),
                                           "FRONTEND_SECRET_KEY": frontend_key})
        if problems:
            sys.exit("Refusing to start in production: " + "; ".join(problems))


def main(package):
    refuse_secrets_shared_between_services(os.environ)
    if os.environ.get("MIGRATE_ON_START", "true").lower() in ("1", "true", "yes"):
        prepare_database(package)
    os.execvp("gunicorn", ["gunicorn", "-c", "python:library_common.gunicorn_conf", f"{package}:create_app()"])


if __name__ == "__main__":
    main(sys.argv[1])
