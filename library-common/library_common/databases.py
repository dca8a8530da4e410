"""Creating each service's database on a PostgreSQL server (used by `make run` and the tests)."""

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from .config import sqlalchemy_url


def database_url(server_url, name):
    """The URL of database `name` on the server that `server_url` points at."""
    return make_url(sqlalchemy_url(server_url)).set(database=name).render_as_string(hide_password=False)


def _admin_engine(server_url):
    return sa.create_engine(database_url(server_url, "postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)


def ensure_database(server_url, name):
    engine = _admin_engine(server_url)
    with engine.connect() as connection:
        exists = connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
        if not exists:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return database_url(server_url, name)


def recreate_database(server_url, name):
    engine = _admin_engine(server_url)
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return database_url(server_url, name)
