"""genre tally: catalogue totals and the genre list without counting a million rows (found by make bench)

The tally is kept by statement-level triggers (one UPDATE per statement, not per row, so bulk
loads stay fast); a row lock per genre serialises concurrent writers of the same genre only.
The catalogue's title order within a genre gets its own index, so a genre's page is read in order.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TALLY_FUNCTION = """
CREATE FUNCTION tally_book_genres() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM book_genre_counts;
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM add_to_genre_tally(ARRAY(SELECT genre FROM new_rows), '{}');
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM add_to_genre_tally(ARRAY(SELECT genre FROM new_rows), ARRAY(SELECT genre FROM old_rows));
    ELSE
        PERFORM add_to_genre_tally('{}', ARRAY(SELECT genre FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;
-- One statement, genres in a fixed order: two writers moving books between the same genres
-- in opposite directions wait for each other instead of deadlocking.
CREATE FUNCTION add_to_genre_tally(added text[], removed text[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO book_genre_counts AS tally (genre, books)
    SELECT genre, sum(change) FROM (
        SELECT unnest(added) AS genre, 1 AS change UNION ALL SELECT unnest(removed), -1
    ) AS changes
    GROUP BY genre ORDER BY genre
    ON CONFLICT (genre) DO UPDATE SET books = tally.books + excluded.books
$$
"""


def upgrade():
    op.create_table(
        "book_genre_counts",
        sa.Column("genre", sa.String(100), primary_key=True),
        sa.Column("books", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO book_genre_counts (genre, books) SELECT genre, count(*) FROM books GROUP BY genre")
    op.execute(TALLY_FUNCTION)
    # PostgreSQL allows transition tables only on single-event triggers, hence one trigger per event.
    op.execute("CREATE TRIGGER books_tally_insert AFTER INSERT ON books REFERENCING NEW TABLE AS new_rows "
               "FOR EACH STATEMENT EXECUTE FUNCTION tally_book_genres()")
    op.execute("CREATE TRIGGER books_tally_update AFTER UPDATE ON books REFERENCING OLD TABLE AS old_rows "
               "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tally_book_genres()")
    op.execute("CREATE TRIGGER books_tally_delete AFTER DELETE ON books REFERENCING OLD TABLE AS old_rows "
               "FOR EACH STATEMENT EXECUTE FUNCTION tally_book_genres()")
    op.execute("CREATE TRIGGER books_tally_truncate AFTER TRUNCATE ON books "
               "FOR EACH STATEMENT EXECUTE FUNCTION tally_book_genres()")
    op.drop_index("books_genre_idx", table_name="books")
    op.create_index("books_genre_title_idx", "books",
                    [sa.literal_column("lower(genre)"), sa.literal_column("lower(title)"), "id"])


def downgrade():
    op.drop_index("books_genre_title_idx", table_name="books")
    op.create_index("books_genre_idx", "books", [sa.literal_column("lower(genre)")])
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER books_tally_{event} ON books")
    op.execute("DROP FUNCTION tally_book_genres()")
    op.execute("DROP FUNCTION add_to_genre_tally(text[], text[])")
    op.drop_table("book_genre_counts")
