"""The catalogue's hot queries can be served by indexes, not by reading the whole table.

The plans are taken with sequential scans discouraged (enable_seqscan = off): on test-sized
tables the planner may rightly prefer a scan, so what is checked is that an index exists that
the query, as the code writes it, can use. A query no index fits still shows a Seq Scan.
"""

import pytest
import sqlalchemy as sa

from books_service.models import db


@pytest.fixture
def big_catalogue(app):
    with app.app_context():
        db.session.execute(sa.text(
            "INSERT INTO books (title, author, genre, copies) "
            "SELECT 'Title ' || g, 'Author ' || (g % 500), 'Genre ' || (g % 40), 1 + g % 3 "
            "FROM generate_series(1, 20000) AS g"))
        db.session.execute(sa.text(
            "INSERT INTO books (title, author, genre) VALUES ('The Hitchhiker''s Guide', 'Douglas Adams', 'SF')"))
        db.session.commit()
        db.session.execute(sa.text("ANALYZE books"))


def plans_of_queries_run_by(app, make_request):
    """EXPLAIN every SELECT on books that `make_request()` sends, with its real parameters."""
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "books" in statement:
            statements.append((statement, parameters))

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", capture)
        try:
            make_request()
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", capture)
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("SET enable_seqscan = off")
            plans = []
            for statement, parameters in statements:
                cursor.execute("EXPLAIN " + statement, parameters)
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
            return plans
        finally:
            connection.close()


@pytest.mark.parametrize("url", ["/books?q=hitch", "/books?q=author%2042", "/books", "/books?sort=author&page=50",
                                 "/books?genre=genre%207", "/books?sort=newest", "/books/20001"])
def test_catalogue_queries_do_not_scan_the_books_table(app, client, big_catalogue, url):
    plans = plans_of_queries_run_by(app, lambda: client.get(url))

    assert plans, "no query was captured"
    for plan in plans:
        assert "Seq Scan on books" not in plan, plan


def test_search_uses_the_full_text_index(app, client, big_catalogue):
    plans = plans_of_queries_run_by(app, lambda: client.get("/books?q=hitch"))

    assert any("books_search_idx" in plan for plan in plans), plans
