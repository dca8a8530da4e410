"""covers: a book's cover_url, and the cover images books-service's worker fetches from it and serves itself

Revision ID: 0050
Revises: 0040
"""
import sqlalchemy as sa
from alembic import op

revision = "0050"
down_revision = "0040"
branch_labels = None
depends_on = None

COVER_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


def upgrade():
    op.add_column("books", sa.Column("cover_url", sa.String(2000)))
    op.create_table(
        "covers",
        sa.Column("book_id", sa.Integer, sa.ForeignKey("books.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("source_url", sa.String(2000), nullable=False),
        sa.Column("content", sa.LargeBinary),
        sa.Column("content_type", sa.String(16)),
        sa.Column("etag", sa.String(64)),
        sa.Column("fetched_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("problem", sa.Text),
        sa.Column("retry_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.CheckConstraint(f"content_type IN {COVER_TYPES}", name="covers_type_allowed"),
    )
    op.create_index("covers_due", "covers", ["retry_at"], postgresql_where=sa.text("retry_at IS NOT NULL"))
    # Every way a book gets or changes its cover_url (a librarian's form, an import's commit of 500 books in one
    # statement) leaves a row for the worker to fetch; saving the same address again retries one not fetched.
    op.execute("""
        CREATE FUNCTION books_expect_cover() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.cover_url IS NULL THEN
            DELETE FROM covers WHERE book_id = NEW.id;
          ELSE
            INSERT INTO covers (book_id, source_url) VALUES (NEW.id, NEW.cover_url)
            ON CONFLICT (book_id) DO UPDATE
              SET source_url = EXCLUDED.source_url, content = NULL, content_type = NULL, etag = NULL,
                  fetched_at = NULL, attempts = 0, problem = NULL, retry_at = now()
              WHERE covers.source_url IS DISTINCT FROM EXCLUDED.source_url OR covers.etag IS NULL;
          END IF;
          RETURN NULL;
        END $$
    """)
    op.execute("CREATE TRIGGER books_expect_cover AFTER INSERT OR UPDATE OF cover_url ON books "
               "FOR EACH ROW EXECUTE FUNCTION books_expect_cover()")


def downgrade():
    op.execute("DROP TRIGGER books_expect_cover ON books")
    op.execute("DROP FUNCTION books_expect_cover()")
    op.drop_table("covers")
    op.drop_column("books", "cover_url")
