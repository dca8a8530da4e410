"""items: each copy of a book has a barcode and an inventory status; a book's `copies` counts its items
that can circulate, kept by statement-level triggers; today's counted copies become items

Revision ID: 0020
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0010"
branch_labels = None
depends_on = None

# A generated barcode skips numbers a librarian already gave an item by hand.
BARCODE_FUNCTION = """
CREATE FUNCTION next_item_barcode() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    candidate text;
BEGIN
    LOOP
        candidate := nextval('item_barcodes')::text;
        EXIT WHEN NOT EXISTS (SELECT 1 FROM items WHERE barcode = candidate);
    END LOOP;
    RETURN candidate;
END
$$
"""

COPIES_FUNCTION = """
CREATE FUNCTION count_circulating_items() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE books SET copies = (SELECT count(*) FROM items
                               WHERE items.book_id = books.id AND items.status = 'available')
    WHERE books.id IN (SELECT book_id FROM changed_rows);
    RETURN NULL;
END
$$
"""


def upgrade():
    op.execute("CREATE SEQUENCE item_barcodes START 1000000001")
    op.create_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("book_id", sa.Integer, sa.ForeignKey("books.id", ondelete="CASCADE"), nullable=False),
        sa.Column("barcode", sa.String(32), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="available"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("status IN ('available', 'missing', 'lost', 'damaged', 'withdrawn')",
                           name="items_status_known"),
        sa.CheckConstraint("barcode ~ '^[!-~]{4,32}$'", name="items_barcode_printable"),
    )
    op.create_index("items_by_book", "items", ["book_id", "barcode"])
    op.execute(BARCODE_FUNCTION)
    op.alter_column("items", "barcode", server_default=sa.text("next_item_barcode()"))
    op.execute("INSERT INTO items (book_id) SELECT id FROM books, generate_series(1, books.copies) ORDER BY id")
    op.drop_constraint("books_copies_positive", "books")
    op.create_check_constraint("books_copies_not_negative", "books", "copies >= 0")
    op.alter_column("books", "copies", server_default="0")
    op.execute(COPIES_FUNCTION)
    # Transition tables need one trigger per event; each names its changed rows `changed_rows`.
    for event, tables in (("insert", "NEW TABLE AS changed_rows"), ("delete", "OLD TABLE AS changed_rows"),
                          ("update", "NEW TABLE AS changed_rows")):
        op.execute(f"CREATE TRIGGER items_count_{event} AFTER {event.upper()} ON items REFERENCING {tables} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION count_circulating_items()")


def downgrade():
    for event in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER items_count_{event} ON items")
    op.execute("DROP FUNCTION count_circulating_items()")
    op.drop_constraint("books_copies_not_negative", "books")
    op.execute("UPDATE books SET copies = 1 WHERE copies = 0")
    op.create_check_constraint("books_copies_positive", "books", "copies >= 1")
    op.alter_column("books", "copies", server_default="1")
    op.drop_table("items")
    op.execute("DROP FUNCTION next_item_barcode()")
    op.execute("DROP SEQUENCE item_barcodes")
