"""item shelf details: a managed list of item types (book, reference, DVD...) every copy has one of, and each
copy's call number, shelf location and physical format; every copy there is now is a book

Revision ID: 0060
Revises: 0050
"""
import sqlalchemy as sa
from alembic import op

revision = "0060"
down_revision = "0050"
branch_labels = None
depends_on = None

# The list a library starts with; librarians change it afterwards (books_service/item_types.py). `book` is every
# copy's type until told otherwise, so it is never deleted.
STARTING_TYPES = [
    ("book", "Book"),
    ("reference", "Reference (not for loan)"),
    ("dvd", "DVD"),
    ("audiobook", "Audiobook"),
    ("magazine", "Magazine"),
]
FORMATS = ("hardback", "paperback", "large_print", "board_book", "disc", "ebook_reader", "other")


def upgrade():
    item_types = op.create_table(
        "item_types",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.CheckConstraint("code ~ '^[a-z0-9_-]{1,32}$'", name="item_types_code_format"),
    )
    op.bulk_insert(item_types, [{"code": code, "name": name} for code, name in STARTING_TYPES])
    # The default fills every existing row as the column is added (PostgreSQL 11+ does so without rewriting the
    # table), so NOT NULL and the foreign key hold at once.
    op.add_column("items", sa.Column("item_type", sa.String(32), nullable=False, server_default="book"))
    op.create_foreign_key("items_item_type_known", "items", "item_types", ["item_type"], ["code"])
    op.create_index("items_by_type", "items", ["item_type"])
    op.add_column("items", sa.Column("call_number", sa.String(64)))
    op.add_column("items", sa.Column("shelf_location", sa.String(100)))
    op.add_column("items", sa.Column("format", sa.String(16)))
    op.create_check_constraint("items_format_known", "items", f"format IN {FORMATS}")


def downgrade():
    op.drop_constraint("items_format_known", "items")
    op.drop_column("items", "format")
    op.drop_column("items", "shelf_location")
    op.drop_column("items", "call_number")
    op.drop_index("items_by_type", "items")
    op.drop_constraint("items_item_type_known", "items")
    op.drop_column("items", "item_type")
    op.drop_table("item_types")
