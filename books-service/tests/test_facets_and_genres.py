"""Facets beside the results (GET /books/facets) and the controlled list of genres."""

import threading

import pytest
import sqlalchemy as sa

from books_service import catalogue


@pytest.fixture
def shelf(add_book):
    return [
        add_book(title="The Hobbit", author="J. R. R. Tolkien", genre="Fantasy", published_year=1937, language="en"),
        add_book(title="The Silmarillion", author="J. R. R. Tolkien", genre="Fantasy", published_year=1977,
                 language="en"),
        add_book(title="Der Hobbit", author="J. R. R. Tolkien", genre="Fantasy", published_year=1974, language="de"),
        add_book(title="Emma", author="Jane Austen", genre="Classics", published_year=1815, language="en", copies=2),
        add_book(title="Dune", author="Frank Herbert", genre="Science Fiction"),
    ]


def values(facet):
    return {entry["value"]: entry["count"] for entry in facet}


def test_whole_catalogue_facets_come_from_the_tally(client, shelf):
    facets = client.get("/books/facets").json

    assert values(facets["genre"]) == {"Fantasy": 3, "Classics": 1, "Science Fiction": 1}
    assert facets["genre"][0] == {"value": "Fantasy", "label": "Fantasy", "count": 3}
    assert values(facets["author"]) == {"J. R. R. Tolkien": 3, "Jane Austen": 1, "Frank Herbert": 1}
    assert facets["language"] == [{"value": "en", "label": "English", "count": 3},
                                  {"value": "de", "label": "German", "count": 1}]
    assert [entry["label"] for entry in facets["decade"]] == ["1810s", "1930s", "1970s"]  # in time order
    assert facets["complete"] is True and facets["available"] is None


def test_facets_of_a_search_combine_with_filters(client, shelf, borrow_service):
    borrow_service.on_loan = {shelf[0]["id"]: 1}

    hobbits = client.get("/books/facets?q=hobbit").json
    german = client.get("/books/facets?q=hobbit&language=de").json
    seventies = client.get("/books/facets?author=J.%20R.%20R.%20Tolkien&decade=1970").json

    assert values(hobbits["language"]) == {"en": 1, "de": 1} and hobbits["available"] == 1
    assert values(german["genre"]) == {"Fantasy": 1} and values(german["language"]) == {"de": 1}
    assert values(seventies["decade"]) == {"1970": 2} and seventies["available"] == 2


def test_available_filter_facets(client, shelf, borrow_service):
    borrow_service.on_loan = {shelf[0]["id"]: 1, shelf[3]["id"]: 2}

    facets = client.get("/books/facets?available=true").json

    assert facets["available"] == 3
    assert values(facets["genre"]) == {"Fantasy": 2, "Science Fiction": 1}


def test_facets_stop_counting_at_the_limit(client, shelf, monkeypatch):
    monkeypatch.setattr(catalogue, "FACET_COUNT_LIMIT", 2)

    facets = client.get("/books/facets?q=tolkien").json

    assert facets["complete"] is False and sum(values(facets["genre"]).values()) == 3  # counted over 3 at most


def test_facets_follow_changes(client, librarian, shelf):
    client.patch(f"/books/{shelf[4]['id']}", json={"genre": "Fantasy", "published_year": 1965}, headers=librarian)
    client.delete(f"/books/{shelf[3]['id']}", headers=librarian)

    facets = client.get("/books/facets").json

    assert values(facets["genre"]) == {"Fantasy": 4}
    assert values(facets["author"]) == {"J. R. R. Tolkien": 3, "Frank Herbert": 1}
    assert values(facets["decade"]) == {"1930": 1, "1960": 1, "1970": 2}


@pytest.mark.parametrize("query", ["decade=1815", "language=xx", "id=0"])
def test_bad_facet_filters_are_400(client, query):
    assert client.get(f"/books/facets?{query}").status_code == 400


def test_a_near_duplicate_genre_is_filed_under_the_existing_one(client, add_book):
    add_book(genre="Science Fiction")

    second = add_book(title="Dune", genre="science  fiction")
    third = add_book(title="Solaris", genre="Science-Fiction")

    assert second["genre"] == third["genre"] == "Science Fiction"
    assert [(row["genre"], row["count"]) for row in client.get("/genres").json] == [("Science Fiction", 3)]
    assert client.get("/books?genre=SCIENCE%20FICTION").headers["X-Total-Count"] == "3"


def test_a_book_moved_to_a_new_genre_adds_it_to_the_list(client, librarian, add_book):
    book = add_book(genre="Fantasy")

    moved = client.patch(f"/books/{book['id']}", json={"genre": "Cosy Mysteries"}, headers=librarian)
    replaced = client.put(f"/books/{book['id']}", json={"title": "T", "author": "A", "genre": "Noir"},
                          headers=librarian)

    assert moved.status_code == 200 and replaced.status_code == 200
    assert [(row["genre"], row["count"]) for row in client.get("/genres").json] == [
        ("Cosy Mysteries", 0), ("Fantasy", 0), ("Noir", 1)]


def test_librarians_add_rename_and_merge_genres(client, librarian, patron, add_book):
    add_book(title="Dune", genre="Sci-Fi")
    add_book(title="Solaris", genre="Science Fiction")
    genres = {row["genre"]: row["id"] for row in client.get("/genres").json}

    assert client.post("/genres", json={"name": "Poetry"}, headers=patron).status_code == 403
    added = client.post("/genres", json={"name": "Poetry"}, headers=librarian)
    duplicate = client.post("/genres", json={"name": "poetry "}, headers=librarian)
    renamed = client.patch(f"/genres/{genres['Sci-Fi']}", json={"name": "SF"}, headers=librarian)
    clash = client.patch(f"/genres/{genres['Sci-Fi']}", json={"name": "science fiction"}, headers=librarian)
    merged = client.post(f"/genres/{genres['Sci-Fi']}/merge", json={"into": genres["Science Fiction"]},
                         headers=librarian)

    assert added.status_code == 201 and added.json["count"] == 0
    assert duplicate.status_code == 409 and "“Poetry”" in duplicate.json["message"]
    assert renamed.status_code == 200 and renamed.json == {"id": genres["Sci-Fi"], "genre": "SF", "count": 1}
    assert clash.status_code == 409 and clash.json["message"] == (
        "The genre “Science Fiction” already exists (it differs only in case, spacing or punctuation): to file "
        "these books under it, merge into it instead")
    assert merged.status_code == 200 and merged.json["count"] == 2
    assert [(row["genre"], row["count"]) for row in client.get("/genres").json] == [
        ("Poetry", 0), ("Science Fiction", 2)]
    assert {book["genre"] for book in client.get("/books").json} == {"Science Fiction"}


def test_genre_changes_refuse_what_makes_no_sense(client, librarian, add_book):
    genre_id = client.get("/genres").json[0]["id"] if client.get("/genres").json else None
    assert genre_id is None
    add_book()
    genre_id = client.get("/genres").json[0]["id"]

    assert client.post(f"/genres/{genre_id}/merge", json={"into": genre_id}, headers=librarian).status_code == 409
    assert client.post(f"/genres/{genre_id}/merge", json={"into": 999}, headers=librarian).status_code == 400
    assert client.post("/genres/999/merge", json={"into": genre_id}, headers=librarian).status_code == 404
    assert client.patch("/genres/999", json={"name": "X"}, headers=librarian).status_code == 404
    assert client.patch(f"/genres/{genre_id}", json={"name": ""}, headers=librarian).status_code == 400
    assert client.post("/genres", json={"name": "X", "extra": 1}, headers=librarian).status_code == 400


def test_an_empty_genre_can_be_deleted_but_not_one_with_books(client, librarian, patron, add_book):
    empty = client.post("/genres", json={"name": "Empty Shelf"}, headers=librarian).json
    used = add_book(title="Dune", genre="Science Fiction")
    science_fiction = next(genre for genre in client.get("/genres").json if genre["genre"] == "Science Fiction")

    assert client.delete(f"/genres/{empty['id']}", headers={}).status_code == 401
    assert client.delete(f"/genres/{empty['id']}", headers=patron).status_code == 403
    refused = client.delete(f"/genres/{science_fiction['id']}", headers=librarian)
    deleted = client.delete(f"/genres/{empty['id']}", headers=librarian)

    assert refused.status_code == 409 and refused.json["message"] == (
        "1 book is filed under “Science Fiction”: merge it into another genre to remove it from the list")
    assert deleted.status_code == 204 and deleted.data == b""
    assert [genre["genre"] for genre in client.get("/genres").json] == ["Science Fiction"]
    assert client.delete(f"/genres/{empty['id']}", headers=librarian).status_code == 404
    assert client.get(f"/books/{used['id']}").json["genre"] == "Science Fiction"
    # a deleted genre comes back with the next book filed under it
    assert add_book(title="Empty No More", genre="empty shelf")["genre"] == "empty shelf"


def test_a_genre_deleted_while_a_book_is_filed_under_it_waits_and_counts_that_book(app, client, librarian):
    genre = client.post("/genres", json={"name": "Poetry"}, headers=librarian).json
    answers = []
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
        with engine.connect() as filing:  # a book being filed under Poetry, as genre_for_filing locks it
            filing.execute(sa.text("SELECT name FROM genres WHERE key = 'poetry' FOR KEY SHARE"))
            filing.execute(sa.text(
                "INSERT INTO books (title, author, genre, title_sort, author_sort, search_vector) "
                "VALUES ('Ariel', 'Sylvia Plath', 'Poetry', 'ariel', 'plath sylvia', '')"))
            deleting = threading.Thread(target=lambda: answers.append(
                client.delete(f"/genres/{genre['id']}", headers=librarian)))
            deleting.start()
            deleting.join(timeout=0.5)
            assert deleting.is_alive()  # waiting for the book's transaction
            filing.commit()
        deleting.join(timeout=10)

    assert answers[0].status_code == 409 and answers[0].json["message"].startswith("1 book is filed under “Poetry”")


def test_a_book_filed_under_a_genre_being_deleted_adds_the_genre_again(app, client, librarian, add_book):
    genre = client.post("/genres", json={"name": "Poetry"}, headers=librarian).json
    added = []
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
        with engine.connect() as deleting:  # delete_genre, between its lock and its commit
            deleting.execute(sa.text("SELECT id FROM genres WHERE id = :id FOR UPDATE"), {"id": genre["id"]})
            deleting.execute(sa.text("DELETE FROM genres WHERE id = :id"), {"id": genre["id"]})
            filing = threading.Thread(target=lambda: added.append(
                client.post("/books", json={"title": "Ariel", "author": "Sylvia Plath", "genre": "Poetry"},
                            headers=librarian)))
            filing.start()
            filing.join(timeout=0.5)
            assert filing.is_alive()  # waiting for the deletion
            deleting.commit()
        filing.join(timeout=10)

    assert added[0].status_code == 201 and added[0].json["genre"] == "Poetry"
    assert [listed["genre"] for listed in client.get("/genres").json] == ["Poetry"]
