"""The import pages: upload, the progress bar while the worker reads or adds, the records by outcome, the
column mapping, commit, and revert after asking."""

import io

import pytest

from .conftest import BOOKS, listing

pytestmark = pytest.mark.usefixtures("services")


def batch(import_id=3, status="staged", **fields):
    return {"id": import_id, "filename": "goodbooks.csv", "format": "csv", "status": status, "created_by": "boss",
            "created_at": "2026-11-27T10:00:00+00:00", "updated_at": "2026-11-27T10:00:05+00:00",
            "options": {"on_match": "skip", "copies": 1, "genre": "General", "mapping": {"title": "title"}},
            "columns": ["title", "authors"], "total": 3, "done": 3,
            "counts": {"new": 2, "match": 0, "invalid": 1}, "problem": None, **fields}


def record(number, outcome="new", **fields):
    return {"number": number, "outcome": outcome, "fields": {"title": f"Book {number}", "author": "A. Uthor",
                                                             "isbn": None, **fields},
            "notes": ["Author: missing"] if outcome == "invalid" else [], "match_book_id": None, "result": None,
            "book_id": None}


@pytest.fixture
def librarian_in(log_in_as):
    log_in_as("boss", "librarian")


def test_the_import_page_offers_an_upload_and_lists_imports(client, librarian_in, services):
    services.get(f"{BOOKS}/imports", **listing([batch(status="committed", counts={"new": 2, "created": 2})]))

    html = client.get("/manage/imports").get_data(as_text=True)

    assert 'enctype="multipart/form-data"' in html and 'type="file"' in html
    assert "goodbooks.csv" in html and "Added" in html and "2 added" in html
    assert '<a href="/manage/imports">Import</a>' in html  # in the librarians' menu


def test_an_upload_goes_to_books_service_as_a_file_and_opens_its_page(client, librarian_in, services):
    sent = services.post(f"{BOOKS}/imports", json=batch(status="staging", total=None, done=0), status=202)

    response = client.post("/manage/imports", data={
        "file": (io.BytesIO(b"title,author\nDune,Frank Herbert\n"), "mine.csv"), "format": "", "copies": "2",
        "genre": "Fiction", "on_match": "add_copies"}, content_type="multipart/form-data")

    assert response.status_code == 302 and response.headers["Location"] == "/manage/imports/3"
    body = sent.calls[0].request.body
    assert b'filename="mine.csv"' in body and b"Dune,Frank Herbert" in body
    assert b'name="copies"\r\n\r\n2' in body and b'name="on_match"\r\n\r\nadd_copies' in body
    assert b'name="format"' not in body  # "tell from the file"


def test_a_refused_upload_says_why_next_to_the_file(client, librarian_in, services):
    services.get(f"{BOOKS}/imports", **listing([]))
    services.post(f"{BOOKS}/imports", status=400, json={"message": "The file is not MARC 21",
                                                        "errors": {"file": "The file is not MARC 21: ..."}})

    response = client.post("/manage/imports", data={"file": (io.BytesIO(b"x"), "a.mrc"), "format": "marc",
                                                    "copies": "1", "genre": "General", "on_match": "skip"},
                           content_type="multipart/form-data")

    assert response.status_code == 400 and "The file is not MARC 21" in response.get_data(as_text=True)


def test_without_a_file_the_form_asks_for_one(client, librarian_in, services):
    services.get(f"{BOOKS}/imports", **listing([]))

    response = client.post("/manage/imports", data={"copies": "1", "genre": "General", "on_match": "skip"},
                           content_type="multipart/form-data")

    assert response.status_code == 400 and "Choose a file to import" in response.get_data(as_text=True)


def test_while_staging_the_page_shows_a_progress_bar_that_refreshes_itself(client, librarian_in, services):
    services.get(f"{BOOKS}/imports/3", json=batch(status="staging", total=10000, done=2500, counts={}))

    html = client.get("/manage/imports/3").get_data(as_text=True)

    assert '<progress max="10000" value="2500"' in html and "2,500 of 10,000 records" in html
    assert 'hx-get="/manage/imports/3/progress" hx-trigger="every 1s"' in html
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in html  # without JavaScript


def test_the_progress_fragment_moves_then_reloads_the_page_when_done(client, librarian_in, services):
    services.get(f"{BOOKS}/imports/3", json=batch(status="committing", total=10000, done=6000))
    moving = client.get("/manage/imports/3/progress", headers={"HX-Request": "true"})
    services.replace("GET", f"{BOOKS}/imports/3", json=batch(status="committed"))
    finished = client.get("/manage/imports/3/progress", headers={"HX-Request": "true"})

    assert '<progress max="10000" value="6000"' in moving.get_data(as_text=True)
    assert finished.headers["HX-Refresh"] == "true"


def test_a_staged_import_shows_its_records_by_outcome_and_the_commit(client, librarian_in, services):
    services.get(f"{BOOKS}/imports/3", json=batch())
    asked = services.get(f"{BOOKS}/imports/3/records", **listing([record(1, "invalid")]))

    html = client.get("/manage/imports/3?outcome=invalid").get_data(as_text=True)

    assert "outcome=invalid" in asked.calls[0].request.url
    assert "Cannot be imported (1)" in html and "New books (2)" in html and "Author: missing" in html
    assert 'action="/manage/imports/3/commit"' in html and "2 new books will be added" in html


def test_unrecognised_columns_are_mapped_on_the_page(client, librarian_in, services):
    services.get(f"{BOOKS}/imports/3", json=batch(columns=["Nom", "Auteur"], options={"mapping": {}},
                                                  counts={"new": 0, "match": 0, "invalid": 0},
                                                  problem="No column was recognised as the book's title and author"))
    services.get(f"{BOOKS}/imports/3/records", **listing([]))
    sent = services.post(f"{BOOKS}/imports/3/staging", json=batch(status="staging"), status=202)

    html = client.get("/manage/imports/3").get_data(as_text=True)
    response = client.post("/manage/imports/3/mapping", data={"column-0": "title", "column-1": "author"})

    assert "<details class=\"panel\" open>" in html and '<label for="column-0">Nom</label>' in html
    assert "Add to the catalogue" not in html
    assert response.status_code == 302
    assert sent.calls[0].request.body == b'{"mapping": {"Nom": "title", "Auteur": "author"}}'


def test_committing_sends_the_choice_for_matches(client, librarian_in, services):
    sent = services.post(f"{BOOKS}/imports/3/commit", json=batch(status="committing"), status=202)

    response = client.post("/manage/imports/3/commit", data={"on_match": "add_copies"})

    assert response.status_code == 302 and sent.calls[0].request.body == b'{"on_match": "add_copies"}'


def test_revert_asks_first(client, librarian_in, services):
    services.get(f"{BOOKS}/imports/3", json=batch(status="committed", counts={"new": 2, "created": 2}))
    sent = services.post(f"{BOOKS}/imports/3/revert", json=batch(status="reverting"), status=202)

    question = client.get("/manage/imports/3/revert").get_data(as_text=True)
    response = client.post("/manage/imports/3/revert")

    assert "This removes the 2 books it added" in question and "Keep it" in question
    assert response.status_code == 302 and len(sent.calls) == 1


def test_an_unknown_import_is_404(client, librarian_in, services):
    services.get(f"{BOOKS}/imports/9", status=404, json={"message": "No import with id 9"})

    assert client.get("/manage/imports/9").status_code == 404


def test_the_pages_are_for_librarians(client, log_in_as):
    assert client.get("/manage/imports").status_code == 302  # to log in
    log_in_as("alice")
    assert client.get("/manage/imports").status_code == 403


def large_upload(megabytes=19):
    """A multipart import of nearly IMPORT_MAX_BYTES, as a stream that tells how much of it was read."""
    boundary = "upload-boundary"
    body = io.BytesIO(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
                      f"Content-Type: text/csv\r\n\r\n".encode() + b"x" * (megabytes << 20) +
                      f"\r\n--{boundary}--\r\n".encode())
    return body, {"input_stream": body, "content_length": len(body.getvalue()),
                  "content_type": f"multipart/form-data; boundary={boundary}"}


@pytest.mark.parametrize("htmx, refused_with", [(False, 302), (True, 401)])
def test_a_visitors_large_upload_is_refused_unread(csrf_client, htmx, refused_with):
    """Issue 13, finding 17: who may send it is checked before the CSRF check (or anything) parses the body."""
    body, upload = large_upload()

    response = csrf_client.post("/manage/imports", headers={"HX-Request": "true"} if htmx else {}, **upload)

    assert response.status_code == refused_with and body.tell() == 0
    login = response.headers["HX-Redirect" if htmx else "Location"]
    assert login.startswith("/login?next=")


def test_a_patrons_large_upload_is_refused_unread(csrf_client, tokens):
    with csrf_client.session_transaction() as session:
        session["token"], session["_user_id"] = tokens.token("alice"), "alice"
    body, upload = large_upload()

    response = csrf_client.post("/manage/imports", **upload)

    assert response.status_code == 403 and body.tell() == 0


def test_an_empty_upload_says_there_is_nothing_to_add(client, librarian_in, services):
    services.get(f"{BOOKS}/imports", **listing([]))
    empty = "The file is empty: there is nothing to add"
    services.post(f"{BOOKS}/imports", status=400, json={"message": empty, "errors": {"file": empty}})

    response = client.post("/manage/imports", data={"file": (io.BytesIO(b""), "empty.csv"), "format": "",
                                                    "copies": "1", "genre": "General", "on_match": "skip"},
                           content_type="multipart/form-data")

    assert response.status_code == 400 and empty in response.get_data(as_text=True)


@pytest.mark.parametrize("fields, badge", [
    ({"counts": {"new": 0, "match": 0, "invalid": 0}, "total": 0,
      "problem": "The file holds no records: there is nothing to add"}, "Nothing to add"),
    ({"counts": {"new": 0, "match": 0, "invalid": 4}, "total": 4}, "Nothing to add"),
    ({"counts": {"new": 0, "match": 0, "invalid": 0}, "total": 3,
      "problem": "No column was recognised as the title and author"}, "Columns to choose"),
    ({}, "Ready to add"),
])
def test_a_staged_import_is_ready_to_add_only_with_something_to_add(client, librarian_in, services, fields, badge):
    services.get(f"{BOOKS}/imports/3", json=batch(**fields))
    services.get(f"{BOOKS}/imports/3/records", **listing([]))
    services.get(f"{BOOKS}/imports", **listing([batch(**fields)]))

    page = client.get("/manage/imports/3").get_data(as_text=True)
    listed = client.get("/manage/imports").get_data(as_text=True)

    for html in (page, listed):
        assert f">{badge}</span>" in html
        assert (badge == "Ready to add") == (">Ready to add</span>" in html)
    assert ("Add to the catalogue" in page) == (badge == "Ready to add")
    if "problem" in fields:
        assert fields["problem"] in page


def test_a_first_row_that_looks_like_a_record_can_be_read_as_one(client, librarian_in, services):
    services.get(f"{BOOKS}/imports/3", json=batch(
        columns=["The Hobbit", "J.R.R. Tolkien", "978-0-261-10334-4", "1937"], options={"mapping": {}},
        counts={"new": 0, "match": 0, "invalid": 0}, first_row_looks_like_data=True,
        problem="The first row looks like a record, not column names: read it as a record"))
    services.get(f"{BOOKS}/imports/3/records", **listing([]))
    sent = services.post(f"{BOOKS}/imports/3/staging", json=batch(status="staging"), status=202)

    html = client.get("/manage/imports/3").get_data(as_text=True)
    response = client.post("/manage/imports/3/first-row", data={"header": "false"})

    assert "Is the first row a record?" in html and "“The Hobbit”, “J.R.R. Tolkien”" in html
    assert 'action="/manage/imports/3/first-row"' in html and 'name="header" value="false"' in html
    assert response.status_code == 302 and response.headers["Location"] == "/manage/imports/3"
    assert sent.calls[0].request.body == b'{"header": false}'


def test_a_file_read_without_a_header_shows_each_column_s_first_value_and_can_go_back(client, librarian_in,
                                                                                      services):
    services.get(f"{BOOKS}/imports/3", json=batch(
        columns=["Column 1", "Column 2"], sample=["The Hobbit", "J.R.R. Tolkien"],
        options={"header": False, "mapping": {}}, counts={"new": 0, "match": 0, "invalid": 0},
        first_row_looks_like_data=False, problem="No column was recognised as the book's title and author"))
    services.get(f"{BOOKS}/imports/3/records", **listing([]))
    sent = services.post(f"{BOOKS}/imports/3/staging", json=batch(status="staging"), status=202)

    html = client.get("/manage/imports/3").get_data(as_text=True)
    client.post("/manage/imports/3/first-row", data={"header": "true"})

    assert '<label for="column-0">Column 1</label>' in html
    assert '<td data-label="In the first record">The Hobbit' in html
    assert "Is the first row a record?" not in html and "Read the first row as column names" in html
    assert sent.calls[0].request.body == b'{"header": true}'


def test_a_staged_import_can_be_discarded_after_asking(client, librarian_in, services):
    services.get(f"{BOOKS}/imports/3", json=batch())
    services.get(f"{BOOKS}/imports/3/records", **listing([]))
    discarded = services.delete(f"{BOOKS}/imports/3", status=204)

    page = client.get("/manage/imports/3").get_data(as_text=True)
    question = client.get("/manage/imports/3/discard").get_data(as_text=True)
    response = client.post("/manage/imports/3/discard")

    assert 'href="/manage/imports/3/discard"' in page and "Discard this import…" in page
    assert "Discard the import of goodbooks.csv?" in question and "Keep it" in question
    assert 'action="/manage/imports/3/discard"' in question
    assert response.status_code == 302 and response.headers["Location"] == "/manage/imports"
    assert len(discarded.calls) == 1


def test_a_committed_import_offers_revert_not_discard_and_a_refusal_is_shown(client, librarian_in, services):
    services.get(f"{BOOKS}/imports/3", json=batch(status="committed", counts={"new": 2, "created": 2}))
    services.get(f"{BOOKS}/imports/3/records", **listing([]))
    refusal = "This import is committed: it cannot be discarded; revert it instead"
    services.delete(f"{BOOKS}/imports/3", status=409, json={"message": refusal})

    page = client.get("/manage/imports/3").get_data(as_text=True)
    response = client.post("/manage/imports/3/discard", follow_redirects=True)

    assert "Discard this import" not in page and "Revert this import…" in page
    assert refusal in response.get_data(as_text=True)


def test_the_mapping_offers_every_field_an_import_reads(client, librarian_in, services):
    mapping = {"image_url": "cover_url", "original_title": "original_title", "ratings_count": "popularity"}
    services.get(f"{BOOKS}/imports/3", json=batch(columns=list(mapping), options={"mapping": mapping}))
    services.get(f"{BOOKS}/imports/3/records", **listing([]))

    html = client.get("/manage/imports/3").get_data(as_text=True)

    for field in mapping.values():  # each column shows what it is read as: a new mapping keeps it
        assert f'<option value="{field}" selected>' in html
