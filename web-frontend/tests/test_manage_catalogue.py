"""The librarians' catalogue pages: the book form's genres, language and subjects, and the genre list."""

import pytest

from .conftest import BOOKS, book, json_body


def test_the_book_form_suggests_existing_genres(client, services, log_in_as):
    log_in_as("boss", "librarian")

    html = client.get("/manage/books/new").get_data(as_text=True)

    assert 'list="genre-list"' in html and '<option value="Science Fiction"></option>' in html


def test_adding_a_book_sends_language_and_subjects_and_says_which_genre_it_went_under(client, services, log_in_as):
    log_in_as("boss", "librarian")
    added = services.post(f"{BOOKS}/books", status=201, json=book(7, genre="Science Fiction"))

    response = client.post("/manage/books/new", data={
        "title": "Dune", "author": "Frank Herbert", "genre": "science  fiction", "copies": "1", "language": "en",
        "subjects": "Deserts; Politics ;"})

    assert response.status_code == 302
    sent = json_body(added.calls[0])
    assert sent["language"] == "en" and sent["subjects"] == ["Deserts", "Politics"]
    with client.session_transaction() as session:
        assert any("Filed under the existing genre “Science Fiction”" in message for _, message in session["_flashes"])


def test_editing_shows_subjects_as_one_line(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.get(f"{BOOKS}/books/1", json=book(subjects=["Towels", "Galaxies"], language="en"))

    html = client.get("/manage/books/1/edit").get_data(as_text=True)

    assert 'value="Towels; Galaxies"' in html and 'name="language"' in html and 'value="en"' in html


def test_librarians_rename_and_merge_genres(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.replace("GET", f"{BOOKS}/genres", json=[{"id": 1, "genre": "Sci-Fi", "count": 2},
                                                     {"id": 2, "genre": "Science Fiction", "count": 5}])
    renamed = services.patch(f"{BOOKS}/genres/1", json={"id": 1, "genre": "SF", "count": 2})
    merged = services.post(f"{BOOKS}/genres/1/merge", json={"id": 2, "genre": "Science Fiction", "count": 7})

    page = client.get("/manage/genres").get_data(as_text=True)
    client.post("/manage/genres/1/rename", data={"name": "SF"})
    client.post("/manage/genres/1/merge", data={"into": "2"})

    assert "Sci-Fi" in page and "<td>5</td>" in page and 'action="/manage/genres/1/merge"' in page
    assert json_body(renamed.calls[0]) == {"name": "SF"} and json_body(merged.calls[0]) == {"into": 2}
    with client.session_transaction() as session:
        messages = [message for _, message in session["_flashes"]]
    assert "Renamed to “SF” (2 books)." in messages and "Merged: “Science Fiction” now has 7 books." in messages


def test_the_genre_page_asks_every_time_so_a_rename_in_another_process_shows_at_once(client, services, log_in_as):
    log_in_as("boss", "librarian")
    listed = services.replace("GET", f"{BOOKS}/genres", json=[{"id": 1, "genre": "Sci-Fi", "count": 2}])

    client.get("/manage/genres")
    services.replace("GET", f"{BOOKS}/genres", json=[{"id": 1, "genre": "SF", "count": 2}])
    page = client.get("/manage/genres").get_data(as_text=True)

    assert listed.call_count >= 1 and "SF" in page and "Sci-Fi" not in page


def test_a_refused_rename_says_why(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.patch(f"{BOOKS}/genres/1", status=409, json={"message": "The genre “Science Fiction” already exists"})

    client.post("/manage/genres/1/rename", data={"name": "science fiction"})

    with client.session_transaction() as session:
        assert ("error", "The genre “Science Fiction” already exists") in session["_flashes"]


def test_the_genre_page_is_for_librarians(client, log_in_as):
    log_in_as("alice")
    assert client.get("/manage/genres").status_code == 403


def test_an_edit_from_an_old_read_says_so_and_keeps_what_was_typed(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.get(f"{BOOKS}/books/1", json=book(1, version='"1.200"'))
    refused = services.patch(f"{BOOKS}/books/1", status=412, json={
        "message": "“Dune” was changed by someone else since you opened it: reload it to see their changes, then "
                   "make yours again"})

    form = client.get("/manage/books/1/edit").get_data(as_text=True)
    response = client.post("/manage/books/1/edit", data={"title": "Mine", "author": "Frank Herbert", "genre": "SF",
                                                         "copies": "1", "version": '"1.100"'})

    assert 'name="version" type="hidden" value="&#34;1.200&#34;"' in form
    assert refused.calls[0].request.headers["If-Match"] == '"1.100"'
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "was changed by someone else since you opened it" in html
    assert 'value="Mine"' in html and 'value="&#34;1.200&#34;"' in html  # saving again now overwrites, knowingly


GENRES = [{"id": 1, "genre": "Sci-Fi", "count": 2}, {"id": 2, "genre": "Science Fiction", "count": 5},
          {"id": 3, "genre": "Empty Shelf", "count": 0}]


def test_merging_a_genre_asks_first_without_javascript(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.replace("GET", f"{BOOKS}/genres", json=GENRES)
    merged = services.post(f"{BOOKS}/genres/1/merge", json={"id": 2, "genre": "Science Fiction", "count": 7})

    page = client.get("/manage/genres").get_data(as_text=True)
    question = client.get("/manage/genres/1/merge?into=2").get_data(as_text=True)

    assert '<form method="get" action="/manage/genres/1/merge"' in page and "Merge…" in page
    assert "Merge “Sci-Fi” into “Science Fiction”?" in question
    assert "2 books filed under “Sci-Fi” will be filed under" in question and "(which then has 7)" in question
    assert 'action="/manage/genres/1/merge"' in question and '<input type="hidden" name="into" value="2">' in question
    assert "Keep them apart" in question and not merged.calls  # nothing merged by asking
    response = client.post("/manage/genres/1/merge", data={"into": "2"})
    assert response.status_code == 302 and json_body(merged.calls[0]) == {"into": 2}


@pytest.mark.parametrize("query", ["", "?into=1", "?into=99", "?into=x"])
def test_a_merge_into_no_other_genre_is_not_asked(client, services, log_in_as, query):
    log_in_as("boss", "librarian")
    services.replace("GET", f"{BOOKS}/genres", json=GENRES)

    response = client.get(f"/manage/genres/1/merge{query}")

    assert response.status_code == 302 and response.headers["Location"] == "/manage/genres"
    assert client.get("/manage/genres/42/merge?into=2").status_code == 404


def test_an_empty_genre_has_a_delete_button_and_a_refusal_is_shown(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.replace("GET", f"{BOOKS}/genres", json=GENRES)
    deleted = services.delete(f"{BOOKS}/genres/3", status=204)
    refusal = "2 books are filed under “Sci-Fi”: merge it into another genre to remove it from the list"
    services.delete(f"{BOOKS}/genres/1", status=409, json={"message": refusal})

    page = client.get("/manage/genres").get_data(as_text=True)
    client.post("/manage/genres/3/delete")
    client.post("/manage/genres/1/delete")

    assert page.count('aria-label="Delete ') == 1 and 'aria-label="Delete Empty Shelf"' in page
    assert 'action="/manage/genres/3/delete"' in page
    assert len(deleted.calls) == 1
    with client.session_transaction() as session:
        assert session["_flashes"] == [("success", "Deleted the genre."), ("error", refusal)]
