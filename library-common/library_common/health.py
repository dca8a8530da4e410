"""`/health` says the process is alive; `/ready` says it can do its job (database up, migrations applied)."""

from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .api import Blueprint

blp = Blueprint("health", __name__, description="Liveness and readiness probes")


def migration_heads(migrations_dir):
    """The revisions a fully migrated database is at, read once from the migration scripts."""
    return set(ScriptDirectory(str(migrations_dir)).get_heads())


@blp.route("/health")
@blp.response(200, description="The process is alive")
def health():
    return {"status": "ok", "service": current_app.config["SERVICE_NAME"]}


@blp.route("/ready")
@blp.response(200, description="Database reachable and migrations applied")
@blp.alt_response(503, description="Not ready; the body says why")
def ready():
    db = current_app.extensions["migrate"].db
    try:
        applied = set(db.session.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "not ready", "reason": "database unreachable or not migrated"}, 503
    if applied != current_app.extensions["migration_heads"]:
        return {"status": "not ready", "reason": "database migrations are not up to date"}, 503
    return {"status": "ready", "service": current_app.config["SERVICE_NAME"]}
