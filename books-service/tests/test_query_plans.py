"""The catalogue's hot queries can be served by indexes, not by reading the whole table."""

import pytest

from library_common.testing import analysed, query_plans

@pytest.fixture
def big_catalogue(app):
    # sort keys and search documents as SQL can make them (the app folds its own in Python): the plans
    # depend on the columns and indexes, not on how the words were folded
    analysed(app, "books",
             "INSERT INTO genres (name, key) SELECT 'Genre ' || g, 'genre ' || g FROM generate_series(0, 39) AS g",
             "INSERT INTO genres (name, key) VALUES ('SF', 'sf')",
             "INSERT INTO books (title, author, genre, copies, published_year, language, title_sort, author_sort, "
             "search_vector) "
             "SELECT 'Title ' || g, 'Author ' || (g % 500), 'Genre ' || (g % 40), 1 + g % 3, 1900 + g % 120, "
             "CASE WHEN g % 50 = 0 THEN 'fr' ELSE 'en' END, 'title ' || g, 'author ' || (g % 500), "
             "setweight(to_tsvector('simple', 'Title ' || g), 'A') || "
             "setweight(to_tsvector('simple', 'Author ' || (g % 500)), 'B') "
             "FROM generate_series(1, 20000) AS g",
             "INSERT INTO books (title, author, genre, title_sort, author_sort, search_vector) VALUES "
             "('The Hitchhiker''s Guide', 'Douglas Adams', 'SF', 'hitchhiker s guide', 'adams douglas', "
             "setweight(to_tsvector('simple', 'Hitchhiker Guide'), 'A') || "
             "setweight(to_tsvector('simple', 'Douglas Adams'), 'B'))")
    # Loaded with triggers off (as a bulk load would be): recounting 20,000 books' copies costs seconds a test.
    analysed(app, "items", "SET session_replication_role = replica",
             "INSERT INTO items (book_id, barcode) SELECT id, 'Q' || id || '-' || n "
             "FROM books, generate_series(1, 2) AS n",
             "SET session_replication_role = DEFAULT")


def plans_of_queries_run_by(app, make_request):
    return query_plans(app, make_request, "books")


@pytest.mark.parametrize("url", [
    "/books?q=hitch", "/books?q=author%2042", "/books?q=title", "/books?q=hitch&sort=relevance", "/books",
    "/books?sort=author&page=50", "/books?genre=genre%207&page=20", "/books?sort=newest", "/books?sort=oldest",
    "/books?sort=added", "/books/20001", "/genres",
    "/books?author=author%2042", "/books?language=fr", "/books?decade=1950", "/books?q=hitchhikr",
    "/books?q=title&genre=genre%207&language=en&decade=1990&sort=author",
    "/books/facets", "/books/facets?q=title", "/books/facets?genre=genre%207", "/books/facets?author=author%2042",
    "/books/facets?language=fr&decade=1950", "/books/suggestions?q=hitch", "/books/suggestions?q=autho",
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
