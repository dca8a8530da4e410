"""The one way rules change the database: `with transaction(): ...` commits, or rolls back on any error."""

from contextlib import contextmanager

from flask import current_app


def session():
    """The app's SQLAlchemy session (each service has one database, hence one Flask-SQLAlchemy)."""
    return current_app.extensions["sqlalchemy"].session


@contextmanager
def transaction():
    """Commit what the block did when it ends; roll everything back when it raises (and re-raise)."""
    current = session()
    try:
        yield current
        current.commit()
    except BaseException:
        current.rollback()
        raise
