"""Alembic's env.py for every service: online migrations only, one migrator at a time.

Each service's `migrations/env.py` just calls :func:`run`. A PostgreSQL advisory lock
serialises concurrent `flask db upgrade` runs (several replicas starting at once), and
the second runner then finds nothing left to do.
"""

import logging

from alembic import context
from flask import current_app
from sqlalchemy import text

log = logging.getLogger("alembic.env")
_MIGRATION_LOCK = 0x6D696772  # any constant; each service has its own database


def _skip_empty_autogenerate(context_, revision, directives):
    if getattr(context_.config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        log.info("No changes in schema detected.")


def run():
    if context.is_offline_mode():
        raise RuntimeError("Offline (--sql) migrations are not supported")
    db = current_app.extensions["migrate"].db
    with db.engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:lock)"), {"lock": _MIGRATION_LOCK})
        connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=db.metadata,
                process_revision_directives=_skip_empty_autogenerate,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:lock)"), {"lock": _MIGRATION_LOCK})
            connection.commit()
