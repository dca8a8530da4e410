"""one-line text: titles, authors, genres and subjects stored before the API refused line breaks and control
characters (and the import folded them) are folded now, so no old book can bend a mail header or a log line

Revision ID: 0040
Revises: 0030
"""
import sqlalchemy as sa
from alembic import op

revision = "0040"
down_revision = "0030"
branch_labels = None
depends_on = None

# library_common.text's line breakers (C0 and C1 controls, DEL, the Unicode line and paragraph separators),
# written for PostgreSQL's regular expressions; NUL is left out, since no PostgreSQL text can hold it.
LINE_BREAKERS = r"[\x01-\x1f\x7f-\x9f\u2028\u2029]"


def _one_line(expression):
    """SQL for library_common.text.one_line(expression): each breaker a space, runs of spaces one, ends trimmed."""
    return rf"btrim(regexp_replace(regexp_replace({expression}, :breakers, ' ', 'g'), '\s{{2,}}', ' ', 'g'))"


def _fold(table, column):
    op.execute(sa.text(f"UPDATE {table} SET {column} = {_one_line(column)} WHERE {column} ~ :breakers")
               .bindparams(breakers=LINE_BREAKERS))


def upgrade():
    _fold("books", "title")
    _fold("books", "author")
    # Books file their genre by name (ON UPDATE CASCADE): folding the list's name folds every book's. Its key
    # is made of the name's words, which control characters never were, so no two genres can meet.
    _fold("genres", "name")
    op.execute(sa.text(
        f"UPDATE books SET subjects = ARRAY(SELECT {_one_line('subject')} "
        "FROM unnest(subjects) WITH ORDINALITY AS listed(subject, place) ORDER BY place) "
        "WHERE array_to_string(subjects, ' ') ~ :breakers").bindparams(breakers=LINE_BREAKERS))


def downgrade():
    pass  # folding forgets where the line breaks were; the folded text is valid before this revision too
