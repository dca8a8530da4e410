"""Migration 0010 on a catalogue that was there before it: genres merged, books folded and keyed, tallies
counted; and back."""

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from books_service import create_app
from library_common.databases import recreate_database

BEFORE = [("Jane Eyre", "Charlotte Brontë", "Classics"), ("Dune", "Frank Herbert", "Science Fiction"),
          ("Solaris", "Stanisław Lem", "science fiction"), ("Foundation", "Isaac Asimov", "Science Fiction"),
          ("The Hobbit", "J. R. R. Tolkien", "Fantasy ")]


@pytest.fixture
def old_catalogue(postgres_server_url):
    url = recreate_database(postgres_server_url, "test_books_migration")
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    with app.app_context():
        upgrade(revision="0004")
        db = app.extensions["sqlalchemy"]
        db.session.execute(sa.text("INSERT INTO books (title, author, genre) VALUES (:title, :author, :genre)"),
                           [{"title": t, "author": a, "genre": g} for t, a, g in BEFORE])
        db.session.commit()
        db.session.remove()
    return app


def rows(app, sql):
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        try:
            return db.session.execute(sa.text(sql)).all()
        finally:
            db.session.remove()


def test_the_migration_merges_genres_and_indexes_existing_books(old_catalogue):
    with old_catalogue.app_context():
        upgrade()
    client = old_catalogue.test_client()

    assert rows(old_catalogue, "SELECT name FROM genres ORDER BY key") == [("Classics",), ("Fantasy ",),
                                                                          ("Science Fiction",)]
    assert [(row["genre"], row["count"]) for row in client.get("/genres").json] == [
        ("Classics", 1), ("Fantasy ", 1), ("Science Fiction", 3)]
    assert [book["title"] for book in client.get("/books?q=bronte").json] == ["Jane Eyre"]
    assert [book["title"] for book in client.get("/books?q=stanislaw").json] == ["Solaris"]
    assert [book["title"] for book in client.get("/books?sort=title").json] == [
        "Dune", "Foundation", "The Hobbit", "Jane Eyre", "Solaris"]
    assert rows(old_catalogue, "SELECT books FROM search_words WHERE word = 'bronte'") == [(1,)]
    assert client.get("/books?q=tolkein").headers["X-Did-You-Mean"] == "tolkien"


def test_the_migration_goes_back(old_catalogue):
    with old_catalogue.app_context():
        upgrade()
        downgrade(revision="0004")

    assert sorted(rows(old_catalogue, "SELECT genre, books FROM book_genre_counts")) == [
        ("Classics", 1), ("Fantasy ", 1), ("Science Fiction", 3)]
    assert rows(old_catalogue, "SELECT title FROM books WHERE search_vector @@ to_tsquery('simple', 'dune')") == [
        ("Dune",)]
    with old_catalogue.app_context():
        upgrade()
    assert rows(old_catalogue, "SELECT count(*) FROM genres") == [(3,)]
