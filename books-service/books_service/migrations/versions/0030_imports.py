"""imports: files of records staged, committed and reverted by books-service's worker, and the worker's
job tables

Revision ID: 0030
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from library_common.worker import drop_schema_sql, schema_sql

revision = "0030"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default="staging"),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("content", sa.LargeBinary),
        sa.Column("options", JSONB, nullable=False, server_default="{}"),
        sa.Column("columns", JSONB),
        sa.Column("total", sa.Integer),
        sa.Column("done", sa.Integer, nullable=False, server_default="0"),
        sa.Column("counts", JSONB, nullable=False, server_default="{}"),
        sa.Column("problem", sa.Text),
        sa.CheckConstraint("status IN ('staging', 'staged', 'committing', 'committed', 'reverting', 'reverted', "
                           "'failed')", name="imports_status_known"),
    )
    op.create_table(
        "import_records",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("fields", JSONB, nullable=False),
        sa.Column("notes", JSONB, nullable=False, server_default="[]"),
        sa.Column("match_book_id", sa.Integer),
        sa.Column("result", sa.String(16)),
        sa.Column("book_id", sa.Integer),
        sa.Column("added_barcodes", JSONB),
        sa.CheckConstraint("outcome IN ('new', 'match', 'invalid')", name="import_records_outcome_known"),
    )
    op.create_index("import_records_by_outcome", "import_records", ["import_id", "outcome", "number"])
    op.create_index("import_records_book", "import_records", ["book_id"])
    op.execute(schema_sql())


def downgrade():
    op.drop_table("import_records")
    op.drop_table("imports")
    op.execute(drop_schema_sql())
