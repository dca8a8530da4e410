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

from .databases import ensure_database


def prepare_database(package):
    app = importlib.import_module(package).create_app({"BOOTSTRAP_LIBRARIAN": ""})
    if "migrate" not in app.extensions:
        return
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    ensure_database(url.set(database="postgres").render_as_string(hide_password=False), url.database)
    with app.app_context():
        upgrade()


def main(package):
    if os.environ.get("MIGRATE_ON_START", "true").lower() in ("1", "true", "yes"):
        prepare_database(package)
    os.execvp("gunicorn", ["gunicorn", "-c", "python:library_common.gunicorn_conf", f"{package}:create_app()"])


if __name__ == "__main__":
    main(sys.argv[1])
