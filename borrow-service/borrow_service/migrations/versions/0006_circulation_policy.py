"""the library's policy: a circulation rules matrix (patron category x item type), a calendar of closed days,
loans that keep the rule they were made under, holds that know their patron's category, web returns that
await check-in

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("loans", sa.Column("item_type", sa.String(32), nullable=False, server_default="book"))
    op.add_column("loans", sa.Column("rule", sa.String(80), nullable=False, server_default="* × *"))
    op.add_column("loans", sa.Column("loan_days", sa.Float(), nullable=False, server_default="14"))
    # a loan made before the rules ran for as long as it was lent for (renewals added whole periods)
    op.execute("UPDATE loans SET loan_days = GREATEST(EXTRACT(EPOCH FROM due_date - borrow_date) / 86400.0 "
               "/ (renewals + 1), 0.001)")
    op.add_column("loans", sa.Column("max_renewals", sa.Integer(), nullable=False, server_default="2"))
    op.add_column("loans", sa.Column("no_renewal_before_days", sa.Integer(), nullable=True))
    op.add_column("loans", sa.Column("awaiting_check_in", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("loans_awaiting_check_in", "loans", ["barcode"], unique=True,
                    postgresql_where=sa.text("awaiting_check_in"))
    op.add_column("holds", sa.Column("patron_category", sa.String(32), nullable=False, server_default="adult"))
    op.add_column("holds", sa.Column("item_type", sa.String(32), nullable=True))
    op.create_table(
        "circulation_rules",
        sa.Column("patron_category", sa.String(32), primary_key=True),
        sa.Column("item_type", sa.String(32), primary_key=True),
        sa.Column("loan_days", sa.Float(), nullable=False),
        sa.Column("max_renewals", sa.Integer(), nullable=False),
        sa.Column("no_renewal_before_days", sa.Integer(), nullable=True),
        sa.Column("max_loans", sa.Integer(), nullable=False),
        sa.Column("holdable", sa.Boolean(), nullable=False),
        sa.Column("hold_pickup_days", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_by", sa.String(32), nullable=True),
        sa.CheckConstraint("loan_days > 0 AND hold_pickup_days > 0 AND max_renewals >= 0 AND max_loans >= 0 "
                           "AND (no_renewal_before_days IS NULL OR no_renewal_before_days >= 0)",
                           name="circulation_rules_numbers_make_sense"),
    )
    op.create_table(
        "closed_days",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("weekday", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(100), nullable=False, server_default=""),
        sa.CheckConstraint("(day IS NULL) <> (weekday IS NULL)", name="closed_days_a_date_or_a_weekday"),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="closed_days_weekday_known"),
    )
    op.create_index("closed_days_one_per_date", "closed_days", ["day"], unique=True,
                    postgresql_where=sa.text("day IS NOT NULL"))
    op.create_index("closed_days_one_per_weekday", "closed_days", ["weekday"], unique=True,
                    postgresql_where=sa.text("weekday IS NOT NULL"))


def downgrade():
    op.drop_table("closed_days")
    op.drop_table("circulation_rules")
    op.drop_column("holds", "item_type")
    op.drop_column("holds", "patron_category")
    op.drop_index("loans_awaiting_check_in", table_name="loans")
    for column in ("awaiting_check_in", "no_renewal_before_days", "max_renewals", "loan_days", "rule", "item_type"):
        op.drop_column("loans", column)
