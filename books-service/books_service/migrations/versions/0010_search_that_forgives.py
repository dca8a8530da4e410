"""a search that forgives: folded, weighted search documents built in Python; sort keys (title without
its leading article, author by surname); language and subjects; the controlled list of genres (today's
case and spacing duplicates merged); facet and word tallies kept by triggers

Revision ID: 0010
Revises: 0005
"""
from collections import Counter, defaultdict

import sqlalchemy as sa
from alembic import context, op
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import postgresql

from books_service.genres import genre_key
from library_common.search_text import book_search_columns

revision = "0010"
down_revision = "0005"
branch_labels = None
depends_on = None

BATCH = 5000

TALLY_FUNCTIONS = """
CREATE FUNCTION tally_books() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM book_facet_counts;
        DELETE FROM search_words;
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM add_to_book_tallies(ARRAY(SELECT b::books FROM new_rows b), '{}');
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM add_to_book_tallies(ARRAY(SELECT b::books FROM new_rows b), ARRAY(SELECT b::books FROM old_rows b));
    ELSE
        PERFORM add_to_book_tallies('{}', ARRAY(SELECT b::books FROM old_rows b));
    END IF;
    RETURN NULL;
END
$$;
-- Each statement upserts its rows in a fixed order: two writers touching the same genres or words
-- wait for each other instead of deadlocking. Changes that cancel out (an update that keeps the
-- genre) touch nothing.
CREATE FUNCTION add_to_book_tallies(added books[], removed books[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO book_facet_counts AS tally (facet, value, books)
    SELECT facet, value, sum(change) FROM (
        SELECT changed.change, facets.facet, facets.value
        FROM (SELECT b, 1 AS change FROM unnest(added) AS b
              UNION ALL SELECT b, -1 FROM unnest(removed) AS b) AS changed,
        LATERAL (VALUES ('genre', (changed.b).genre), ('author', (changed.b).author),
                        ('language', (changed.b).language),
                        ('decade', ((changed.b).published_year / 10 * 10)::text)) AS facets (facet, value)
        WHERE facets.value IS NOT NULL
    ) AS changes
    GROUP BY facet, value HAVING sum(change) <> 0 ORDER BY facet, value
    ON CONFLICT (facet, value) DO UPDATE SET books = tally.books + excluded.books;

    -- words of titles, authors and subjects (weights A-C), not descriptions; none shorter than 3
    -- letters or all digits (ISBNs, years): nothing a typo is corrected to
    INSERT INTO search_words AS vocabulary (word, books)
    SELECT word, sum(change) FROM (
        SELECT changed.change, lexemes.lexeme AS word
        FROM (SELECT b, 1 AS change FROM unnest(added) AS b
              UNION ALL SELECT b, -1 FROM unnest(removed) AS b) AS changed,
        LATERAL unnest((changed.b).search_vector) AS lexemes
        WHERE lexemes.weights && '{A,B,C}' AND length(lexemes.lexeme) >= 3 AND lexemes.lexeme !~ '^[0-9]+$'
    ) AS changes
    GROUP BY word HAVING sum(change) <> 0 ORDER BY word
    ON CONFLICT (word) DO UPDATE SET books = vocabulary.books + excluded.books;
$$
"""
# What add_to_book_tallies would count for every book already there, counted in one pass each.
INITIAL_TALLIES = """
INSERT INTO book_facet_counts (facet, value, books)
SELECT facets.facet, facets.value, count(*)
FROM books, LATERAL (VALUES ('genre', genre), ('author', author), ('language', language),
                            ('decade', (published_year / 10 * 10)::text)) AS facets (facet, value)
WHERE facets.value IS NOT NULL GROUP BY facets.facet, facets.value;
INSERT INTO search_words (word, books)
SELECT lexemes.lexeme, count(*) FROM books, LATERAL unnest(search_vector) AS lexemes
WHERE lexemes.weights && '{A,B,C}' AND length(lexemes.lexeme) >= 3 AND lexemes.lexeme !~ '^[0-9]+$'
GROUP BY lexemes.lexeme
"""


def upgrade():
    connection = op.get_bind()
    _drop_genre_tally()
    _controlled_genres(connection)

    op.add_column("books", sa.Column("language", sa.String(3), nullable=True))
    op.add_column("books", sa.Column("subjects", postgresql.ARRAY(sa.String(100)), server_default="{}",
                                     nullable=False))
    op.add_column("books", sa.Column("title_sort", sa.Text(collation="C"), nullable=True))
    op.add_column("books", sa.Column("author_sort", sa.Text(collation="C"), nullable=True))
    op.drop_index("books_title_order_idx", table_name="books")
    op.execute("ALTER TABLE books ALTER COLUMN search_vector DROP EXPRESSION")
    _index_existing_books(connection)
    for column in ("title_sort", "author_sort", "search_vector"):
        op.alter_column("books", column, nullable=False)
    op.create_foreign_key("books_genre_fkey", "books", "genres", ["genre"], ["name"], onupdate="CASCADE")

    op.drop_index("books_author_order_idx", table_name="books")
    op.drop_index("books_genre_title_idx", table_name="books")
    # the search document rides along, as in 0004 (search_text keeps it within a B-tree entry's size)
    op.create_index("books_title_sort_idx", "books", ["title_sort", "id"], postgresql_include=["search_vector"])
    op.create_index("books_author_sort_idx", "books", ["author_sort", "title_sort", "id"])
    op.create_index("books_year_newest_idx", "books",
                    [sa.literal_column("published_year DESC NULLS LAST"), "title_sort", "id"])
    op.create_index("books_year_oldest_idx", "books",
                    [sa.literal_column("published_year ASC NULLS LAST"), "title_sort", "id"])
    op.create_index("books_genre_title_idx", "books", ["genre", "title_sort", "id"])
    op.create_index("books_language_title_idx", "books", ["language", "title_sort", "id"])

    _tallies()


def _drop_genre_tally():
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER books_tally_{event} ON books")
    op.execute("DROP FUNCTION tally_book_genres()")
    op.execute("DROP FUNCTION add_to_genre_tally(text[], text[])")
    op.drop_table("book_genre_counts")


def _controlled_genres(connection):
    """One genre per key: the spelling most books use wins ("Science Fiction" over "science fiction")."""
    op.create_table(
        "genres",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("key", sa.String(100), nullable=False, unique=True),
    )
    spellings = defaultdict(Counter)
    for genre, count in connection.execute(sa.text("SELECT genre, count(*) FROM books GROUP BY genre")):
        spellings[genre_key(genre)][genre] = count
    for key, counts in sorted(spellings.items()):
        name = min(counts, key=lambda spelling: (-counts[spelling], spelling))
        connection.execute(sa.text("INSERT INTO genres (name, key) VALUES (:name, :key)"), {"name": name, "key": key})
        others = [spelling for spelling in counts if spelling != name]
        if others:
            connection.execute(sa.text("UPDATE books SET genre = :name WHERE genre = ANY(:others)"),
                               {"name": name, "others": others})


def _index_existing_books(connection):
    last_id = 0
    while True:
        rows = connection.execute(sa.text(
            "SELECT id, title, author, isbn, description FROM books WHERE id > :last ORDER BY id LIMIT :batch"),
            {"last": last_id, "batch": BATCH}).all()
        if not rows:
            return
        connection.execute(sa.text(
            "UPDATE books SET title_sort = :title_sort, author_sort = :author_sort, "
            "search_vector = CAST(:search_vector AS tsvector) WHERE id = :id"),
            [{"id": row.id, **book_search_columns(row.title, row.author, row.isbn, (), row.description)}
             for row in rows])
        last_id = rows[-1].id


def _tallies():
    op.create_table(
        "book_facet_counts",
        sa.Column("facet", sa.String(16), primary_key=True),
        sa.Column("value", sa.Text, primary_key=True),
        sa.Column("books", sa.BigInteger, nullable=False),
    )
    op.create_index("book_facet_counts_top_idx", "book_facet_counts",
                    ["facet", sa.literal_column("books DESC"), "value"])
    op.create_table(
        "search_words",
        sa.Column("word", sa.Text, primary_key=True),
        sa.Column("books", sa.BigInteger, nullable=False),
    )
    op.execute(TALLY_FUNCTIONS)
    op.execute(INITIAL_TALLIES)
    # PostgreSQL allows transition tables only on single-event triggers, hence one trigger per event.
    op.execute("CREATE TRIGGER books_tally_insert AFTER INSERT ON books REFERENCING NEW TABLE AS new_rows "
               "FOR EACH STATEMENT EXECUTE FUNCTION tally_books()")
    op.execute("CREATE TRIGGER books_tally_update AFTER UPDATE ON books REFERENCING OLD TABLE AS old_rows "
               "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tally_books()")
    op.execute("CREATE TRIGGER books_tally_delete AFTER DELETE ON books REFERENCING OLD TABLE AS old_rows "
               "FOR EACH STATEMENT EXECUTE FUNCTION tally_books()")
    op.execute("CREATE TRIGGER books_tally_truncate AFTER TRUNCATE ON books "
               "FOR EACH STATEMENT EXECUTE FUNCTION tally_books()")


def downgrade():
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER books_tally_{event} ON books")
    op.execute("DROP FUNCTION tally_books()")
    op.execute("DROP FUNCTION add_to_book_tallies(books[], books[])")
    op.drop_table("search_words")
    op.drop_table("book_facet_counts")
    for index in ("books_language_title_idx", "books_genre_title_idx", "books_year_oldest_idx",
                  "books_year_newest_idx", "books_author_sort_idx", "books_title_sort_idx"):
        op.drop_index(index, table_name="books")
    op.drop_constraint("books_genre_fkey", "books", type_="foreignkey")
    op.drop_table("genres")
    op.drop_index("books_search_idx", table_name="books")
    op.drop_column("books", "search_vector")
    op.add_column("books", sa.Column("search_vector", postgresql.TSVECTOR(), sa.Computed(
        "to_tsvector('simple', title || ' ' || author || ' ' || coalesce(isbn, ''))", persisted=True)))
    op.create_index("books_search_idx", "books", ["search_vector"], postgresql_using="gin")
    for column in ("author_sort", "title_sort", "subjects", "language"):
        op.drop_column("books", column)
    op.create_index("books_title_order_idx", "books", [sa.literal_column("lower(title)"), "id"],
                    postgresql_include=["title", "search_vector"])
    op.create_index("books_author_order_idx", "books",
                    [sa.literal_column("lower(author)"), sa.literal_column("lower(title)"), "id"],
                    postgresql_include=["author", "title"])
    op.create_index("books_genre_title_idx", "books",
                    [sa.literal_column("lower(genre)"), sa.literal_column("lower(title)"), "id"])
    op.create_table(
        "book_genre_counts",
        sa.Column("genre", sa.String(100), primary_key=True),
        sa.Column("books", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO book_genre_counts (genre, books) SELECT genre, count(*) FROM books GROUP BY genre")
    # the genre tally's functions and triggers, as revision 0003 made them
    genre_tally = ScriptDirectory.from_config(context.config).get_revision("0003").module
    op.execute(genre_tally.TALLY_FUNCTION)
    for event, referencing in (("insert", "NEW TABLE AS new_rows"),
                               ("update", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                               ("delete", "OLD TABLE AS old_rows")):
        op.execute(f"CREATE TRIGGER books_tally_{event} AFTER {event.upper()} ON books REFERENCING {referencing} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION tally_book_genres()")
    op.execute("CREATE TRIGGER books_tally_truncate AFTER TRUNCATE ON books "
               "FOR EACH STATEMENT EXECUTE FUNCTION tally_book_genres()")
