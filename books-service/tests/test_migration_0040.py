"""Migration 0040 on a catalogue stored before line breaks and control characters were refused: its titles,
authors, genres and subjects are folded onto one line, and descriptions keep their lines."""

import sqlalchemy as sa
from flask_migrate import upgrade

from books_service import create_app
from library_common.databases import recreate_database
from library_common.search_text import book_search_columns, name_key


def test_old_titles_authors_genres_and_subjects_are_folded_onto_one_line(postgres_server_url):
    url = recreate_database(postgres_server_url, "test_books_migration_0040")
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    book = {"title": "Dune\r\nBcc: everyone@example.org", "author": "Frank\tHerbert", "genre": "Science\x1bFiction",
            "subjects": ["Space\u2028opera", "Deserts"], "description": "Part one.\nPart two."}
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        upgrade(revision="0030")
        db.session.execute(sa.text("INSERT INTO genres (name, key) VALUES (:name, :key)"),
                           {"name": book["genre"], "key": name_key(book["genre"])})
        db.session.execute(sa.text(
            "INSERT INTO books (title, author, genre, subjects, description, title_sort, author_sort, search_vector) "
            "VALUES (:title, :author, :genre, :subjects, :description, :title_sort, :author_sort, :search_vector)"),
            book | book_search_columns(book["title"], book["author"], subjects=book["subjects"]))
        db.session.commit()

        upgrade()

        folded = db.session.execute(sa.text("SELECT title, author, genre, subjects, description FROM books")).one()
        genres = db.session.scalars(sa.text("SELECT name FROM genres")).all()
        db.session.remove()
    assert tuple(folded) == ("Dune Bcc: everyone@example.org", "Frank Herbert", "Science Fiction",
                             ["Space opera", "Deserts"], "Part one.\nPart two.")
    assert genres == ["Science Fiction"]
