"""The catalogue's hot queries can be served by indexes, not by reading the whole table."""

import pytest

from library_common.testing import analysed, query_plans


@pytest.fixture
def big_catalogue(app):
    analysed(app, "books",
             "INSERT INTO books (title, author, genre, copies) "
             "SELECT 'Title ' || g, 'Author ' || (g % 500), 'Genre ' || (g % 40), 1 + g % 3 "
             "FROM generate_series(1, 20000) AS g",
             "INSERT INTO books (title, author, genre) VALUES ('The Hitchhiker''s Guide', 'Douglas Adams', 'SF')")
    # Loaded with triggers off (as a bulk load would be): recounting 20,000 books' copies costs seconds a test.
    analysed(app, "items", "SET session_replication_role = replica",
             "INSERT INTO items (book_id, barcode) SELECT id, 'Q' || id || '-' || n "
             "FROM books, generate_series(1, 2) AS n",
             "SET session_replication_role = DEFAULT")


def plans_of_queries_run_by(app, make_request):
    return query_plans(app, make_request, "books")


@pytest.mark.parametrize("url", ["/books?q=hitch", "/books?q=author%2042", "/books?q=title",
                                 "/books?q=hitch&sort=relevance", "/books", "/books?sort=author&page=50",
                                 "/books?genre=genre%207&page=20", "/books?sort=newest", "/books/20001", "/genres",
                                 "/books/20001/items", "/items/Q20001-1"])
def test_catalogue_queries_do_not_scan_the_books_table(app, client, big_catalogue, url):
    plans = plans_of_queries_run_by(app, lambda: client.get(url))
    plans += query_plans(app, lambda: client.get(url), "items")

    assert plans, "no query was captured"
    for plan in plans:
        assert "Seq Scan on books" not in plan and "Seq Scan on items" not in plan, plan


def test_search_uses_the_full_text_index(app, client, big_catalogue):
    plans = plans_of_queries_run_by(app, lambda: client.get("/books?q=hitch"))

    assert any("books_search_idx" in plan for plan in plans), plans
