"""Bulk import through the API and the worker's steps: staged (matched by ISBN, invalid rows with reasons),
a CSV's columns mapped, committed, reverted."""

import io

import pymarc
import pytest
import requests

from books_service import imports
from books_service.deps import deps

GOODBOOKS_LIKE = (
    "book_id,isbn,isbn13,authors,original_publication_year,title,language_code,ratings_count\n"
    '1,439023483,9.78043902348e+12,Suzanne Collins,2008.0,"The Hunger Games (The Hunger Games, #1)",eng,4780653\n'
    '2,439554934,9.78043955493e+12,"J.K. Rowling, Mary GrandPré",1997.0,"Harry Potter and the Philosopher\'s Stone",'
    "eng,4602479\n"
    "3,,,Homer,-720.0,The Iliad,,1000\n"
    "4,12345,,Nobody,2001.0,A Book With A Broken ISBN,xx,10\n"
    "5,,,,1999.0,A Book Without An Author,en-US,5\n"
    "6,0439023483,,Suzanne Collins,2008.0,The Hunger Games again,eng,1\n"
)


def upload(client, librarian, content, filename="books.csv", **form):
    data = {"file": (io.BytesIO(content.encode() if isinstance(content, str) else content), filename), **form}
    return client.post("/imports", data=data, headers=librarian, content_type="multipart/form-data")


def work(app):
    with app.app_context():
        return imports.work(deps().circulation, deps().service_tokens)


def staged(app, client, librarian, content, **form):
    response = upload(client, librarian, content, **form)
    assert response.status_code == 202, response.json
    work(app)
    return client.get(f"/imports/{response.json['id']}", headers=librarian).json


def records(client, librarian, import_id, outcome=None):
    query = {"per_page": 100} | ({"outcome": outcome} if outcome else {})
    return client.get(f"/imports/{import_id}/records", query_string=query, headers=librarian).json


def test_a_csv_is_staged_matched_and_explained_before_anything_changes(app, client, librarian, add_book):
    existing = add_book(isbn="9780439554930")  # the second row's book is in the catalogue already

    batch = staged(app, client, librarian, GOODBOOKS_LIKE)

    assert batch["status"] == "staged" and batch["counts"] == {"new": 3, "match": 1, "invalid": 2}
    assert batch["total"] == 6 and batch["done"] == 6
    assert batch["options"]["mapping"] == {"isbn": "isbn", "isbn13": "isbn13", "authors": "author",
                                           "original_publication_year": "year", "title": "title",
                                           "language_code": "language", "ratings_count": "popularity"}
    new = {record["number"]: record for record in records(client, librarian, batch["id"], "new")}
    assert new[1]["fields"]["isbn"] == "9780439023481"  # the lost leading zero, restored (checksum agrees)
    assert new[1]["fields"]["published_year"] == 2008 and new[1]["fields"]["language"] == "en"
    assert new[3]["notes"] == ["Year -720 left out (a publication year from 1450 to next year)"]
    assert new[4]["notes"] == ["ISBN '12345' is not a valid ISBN: left out",
                               "Language 'xx' is not an ISO 639 code: left out"]
    [match] = records(client, librarian, batch["id"], "match")
    assert (match["number"], match["match_book_id"]) == (2, existing["id"])
    assert match["fields"]["author"] == "J.K. Rowling"  # the illustrator after her is not the author
    invalid = {record["number"]: record["notes"] for record in records(client, librarian, batch["id"], "invalid")}
    assert invalid == {5: ["Author: missing",
                           "Language 'en-US' filed as 'en' (the catalogue keeps the language, not the region)"],
                       6: ["The same ISBN as record 1 of this file"]}
    assert client.get("/books", query_string={"q": "hunger"}).json == []  # nothing filed yet


def test_committing_files_the_books_with_their_copies_genres_and_search(app, client, librarian):
    batch = staged(app, client, librarian, GOODBOOKS_LIKE, copies="2", genre="Fiction")

    started = client.post(f"/imports/{batch['id']}/commit", json={}, headers=librarian)
    work(app)
    done = client.get(f"/imports/{batch['id']}", headers=librarian).json

    assert started.status_code == 202 and started.json["status"] == "committing"
    assert done["status"] == "committed"
    assert done["counts"] | {} == {"new": 4, "match": 0, "invalid": 2, "created": 4}
    [book] = client.get("/books", query_string={"q": "hunger games"}).json
    assert (book["author"], book["genre"], book["copies"], book["isbn"]) == (
        "Suzanne Collins", "Fiction", 2, "9780439023481")
    assert len(client.get(f"/books/{book['id']}/items").json) == 2
    assert client.get("/books", query_string={"q": "iliad"}).json[0]["published_year"] is None
    assert client.post(f"/imports/{batch['id']}/commit", json={}, headers=librarian).status_code == 409


def test_a_match_can_get_the_record_s_copies(app, client, librarian, add_book):
    existing = add_book(isbn="9780439554930", copies=1)
    batch = staged(app, client, librarian, GOODBOOKS_LIKE)

    client.post(f"/imports/{batch['id']}/commit", json={"on_match": "add_copies"}, headers=librarian)
    work(app)

    assert client.get(f"/books/{existing['id']}").json["copies"] == 2
    assert client.get(f"/imports/{batch['id']}", headers=librarian).json["counts"]["copies_added"] == 1


def test_reverting_removes_what_it_added_but_keeps_a_book_with_a_copy_out(app, client, librarian, add_book,
                                                                           borrow_service):
    existing = add_book(isbn="9780439554930", copies=1)
    batch = staged(app, client, librarian, GOODBOOKS_LIKE)
    client.post(f"/imports/{batch['id']}/commit", json={"on_match": "add_copies"}, headers=librarian)
    work(app)
    [lent] = client.get("/books", query_string={"q": "iliad"}).json
    borrow_service.items_out[lent["id"]] = {client.get(f"/books/{lent['id']}/items").json[0]["barcode"]: "on_loan"}

    started = client.post(f"/imports/{batch['id']}/revert", headers=librarian)
    work(app)
    done = client.get(f"/imports/{batch['id']}", headers=librarian).json

    assert started.status_code == 202 and done["status"] == "reverted"
    assert (done["counts"]["removed"], done["counts"]["kept"], done["counts"]["copies_removed"]) == (2, 1, 1)
    assert [book["title"] for book in client.get("/books", query_string={"q": "hunger"}).json] == []
    assert client.get(f"/books/{lent['id']}").json["copies"] == 1  # kept, with its copy back in circulation
    assert client.get(f"/books/{existing['id']}").json["copies"] == 1  # the copy it added is gone
    asked = {authorization for _book, authorization in borrow_service.asked}
    assert asked == {"Bearer books-service-token"}  # as itself, under borrow-service's locks


def test_a_revert_waits_while_borrow_service_cannot_say(app, client, librarian, borrow_service):
    batch = staged(app, client, librarian, GOODBOOKS_LIKE)
    client.post(f"/imports/{batch['id']}/commit", json={}, headers=librarian)
    work(app)
    client.post(f"/imports/{batch['id']}/revert", headers=librarian)
    borrow_service.before_answering = lambda _book_id: (_ for _ in ()).throw(requests.ConnectionError("down"))

    work(app)
    waiting = client.get(f"/imports/{batch['id']}", headers=librarian).json

    assert waiting["status"] == "reverting" and waiting["problem"].startswith("Waiting")
    assert len(client.get("/books", query_string={"q": "hunger"}).json) == 1  # nothing removed
    assert client.get("/books", query_string={"q": "hunger"}).json[0]["copies"] == 1  # items back in circulation
    borrow_service.before_answering = None
    work(app)
    assert client.get(f"/imports/{batch['id']}", headers=librarian).json["status"] == "reverted"


def test_unrecognised_columns_are_mapped_by_the_librarian(app, client, librarian):
    content = "Nom,Auteur,Code\nLe Petit Prince,Antoine de Saint-Exupéry,978-2-07-061275-8\n"

    first = staged(app, client, librarian, content)
    mapped = client.post(f"/imports/{first['id']}/staging", headers=librarian,
                         json={"mapping": {"Nom": "title", "Auteur": "author", "Code": "isbn"}})
    work(app)
    second = client.get(f"/imports/{first['id']}", headers=librarian).json

    assert first["status"] == "staged" and first["counts"] == {"new": 0, "match": 0, "invalid": 0}
    assert "say which columns hold them" in first["problem"] and first["columns"] == ["Nom", "Auteur", "Code"]
    assert mapped.status_code == 202
    assert second["counts"] == {"new": 1, "match": 0, "invalid": 0} and second["problem"] is None
    assert records(client, librarian, first["id"])[0]["fields"]["isbn"] == "9782070612758"


def test_a_bad_copies_or_year_cell_fails_its_row_not_the_import(app, client, librarian):
    content = ("title,author,quantity,year\n"
               "Infinite,Ann,inf,2001\n"
               "Beyond floats,Ann,1e400,2001\n"
               "Not a number,Ann,nan,2001\n"
               "Half,Ann,2.5,2001\n"
               "Negative,Ann,-1,2001\n"
               "A billion,Ann,1e9,2001\n"
               "Undated,Ann,2,nan\n"
               "Fine,Ann,2.0,2001\n")

    batch = staged(app, client, librarian, content)

    assert batch["status"] == "staged" and batch["counts"] == {"new": 2, "match": 0, "invalid": 6}, batch["problem"]
    outcomes = {record["fields"]["title"]: (record["outcome"], record["notes"])
                for record in records(client, librarian, batch["id"])}
    range_error = "Copies: Must be greater than or equal to 1 and less than or equal to 1000."
    assert outcomes == {
        "Infinite": ("invalid", ["Copies: 'inf' is not a whole number"]),
        "Beyond floats": ("invalid", ["Copies: '1e400' is not a whole number"]),
        "Not a number": ("invalid", ["Copies: 'nan' is not a whole number"]),
        "Half": ("invalid", ["Copies: '2.5' is not a whole number"]),
        "Negative": ("invalid", [range_error]),
        "A billion": ("invalid", [range_error]),
        "Undated": ("new", ["Year 'nan' is not a year: left out"]),
        "Fine": ("new", []),
    }


def test_line_breaks_and_control_characters_are_folded_with_a_note(app, client, librarian):
    content = ('title,author,genre,subjects,description\n'
               '"Dune\r\nBcc: everyone@example.org","Frank\tHerbert",Science\x1bFiction,"Space\u2028opera;Deserts",'
               '"Part one.\nPart two."\n')

    batch = staged(app, client, librarian, content)

    [record] = records(client, librarian, batch["id"])
    assert record["outcome"] == "new"
    assert record["fields"] == {"title": "Dune Bcc: everyone@example.org", "author": "Frank Herbert",
                                "genre": "Science Fiction", "subjects": ["Space opera", "Deserts"],
                                "description": "Part one.\nPart two.", "copies": 1}
    assert record["notes"] == ["Title 'Dune\\r\\nBcc: everyone@example.org' put on one line",
                               "Author 'Frank\\tHerbert' put on one line",
                               "Genre 'Science\\x1bFiction' put on one line",
                               "Subject 'Space\\u2028opera' put on one line"]


def test_a_marc_record_s_control_characters_are_folded_with_a_note(app, client, librarian):
    record = marc_record("The\x1bhobbit", "or, There and back again", "Tolkien, J. R. R.", "0-261-10221-4", 1995,
                         "eng", ["Fantasy\x07fiction."])

    batch = staged(app, client, librarian, record.as_marc(), filename="books.mrc")

    [staged_record] = records(client, librarian, batch["id"])
    assert staged_record["outcome"] == "new"
    assert (staged_record["fields"]["title"], staged_record["fields"]["subjects"]) == (
        "The hobbit: or, There and back again", ["Fantasy fiction"])
    assert staged_record["notes"] == ["Title 'The\\x1bhobbit: or, There and back again' put on one line",
                                      "Genre 'Fantasy\\x07fiction' put on one line",
                                      "Subject 'Fantasy\\x07fiction' put on one line"]


def marc_record(title, subtitle, author, isbn, year, language, subjects, utf8=True):
    record = pymarc.Record(force_utf8=utf8, to_unicode=utf8)
    record.add_field(pymarc.Field(tag="008", data=f"{'':35}{language}  "))
    record.add_field(pymarc.Field(tag="020", indicators=[" ", " "],
                                  subfields=[pymarc.Subfield("a", f"{isbn} (pbk.)")]))
    record.add_field(pymarc.Field(tag="100", indicators=["1", " "],
                                  subfields=[pymarc.Subfield("a", author)]))
    record.add_field(pymarc.Field(tag="245", indicators=["1", "0"], subfields=[
        pymarc.Subfield("a", f"{title} :"), pymarc.Subfield("b", f"{subtitle} /"), pymarc.Subfield("c", "by X.")]))
    record.add_field(pymarc.Field(tag="264", indicators=[" ", "1"], subfields=[pymarc.Subfield("c", f"c{year}.")]))
    for subject in subjects:
        record.add_field(pymarc.Field(tag="650", indicators=[" ", "0"], subfields=[pymarc.Subfield("a", subject)]))
    return record


MARC_BOOKS = [
    marc_record("The hobbit", "or, There and back again", "Tolkien, J. R. R. (John Ronald Reuel), 1892-1973.",
                "0-261-10221-4", 1995, "eng", ["Fantasy fiction.", "Middle Earth (Imaginary place)"]),
    marc_record("Cien años de soledad", "novela", "García Márquez, Gabriel, 1927-2014.", "9780307474728",
                1967, "spa", ["Magic realism (Literature)"]),
]


@pytest.mark.parametrize("encode, filename", [
    (lambda recs: b"".join(record.as_marc() for record in recs), "books.mrc"),
    (lambda recs: pymarc.record_to_xml(recs[0], namespace=True) if len(recs) == 1 else (
        b'<collection xmlns="http://www.loc.gov/MARC21/slim">'
        + b"".join(pymarc.record_to_xml(record) for record in recs) + b"</collection>"), "books.xml"),
])
def test_marc_records_binary_and_xml(app, client, librarian, encode, filename):
    batch = staged(app, client, librarian, encode(MARC_BOOKS), filename=filename)

    assert batch["format"] == "marc" and batch["counts"]["new"] == 2, batch
    hobbit, cien = (record["fields"] for record in records(client, librarian, batch["id"]))
    assert hobbit == {"title": "The hobbit: or, There and back again", "author": "J. R. R. Tolkien",
                      "isbn": "9780261102217", "published_year": 1995, "language": "en", "genre": "Fantasy fiction",
                      "subjects": ["Fantasy fiction", "Middle Earth (Imaginary place)"], "copies": 1}
    assert (cien["author"], cien["language"], cien["title"]) == ("Gabriel García Márquez", "es",
                                                                 "Cien años de soledad: novela")


def test_marc_8_records_are_read_as_unicode(app, client, librarian):
    # MARC-8 writes the combining acute (0xE2) before its letter; as Latin-1 text it is written as that byte
    record = marc_record("Les mis\xe2erables", "roman", "Hugo, Victor, 1802-1885.", "9782070409228", 1862, "fre",
                         ["Paris (France)"], utf8=False)
    record.leader.coding_scheme = " "
    binary = record.as_marc()
    assert binary[9:10] == b" " and b"mis\xe2erables" in binary  # leader: MARC-8

    batch = staged(app, client, librarian, binary, filename="legacy.mrc")

    assert records(client, librarian, batch["id"])[0]["fields"]["title"] == "Les misérables: roman"


@pytest.mark.parametrize("content, filename, form, message", [
    ("", "empty.csv", {}, "The file is empty"),
    ("\n\n", "blank.csv", {}, "The file is empty"),
    ("\ufeff\n", "bom.csv", {}, "The file is empty: there is nothing to add"),
    ("not a marc record at all", "books.mrc", {}, "The file is not MARC 21"),
    ("<notmarc>", "books.xml", {}, "The file is not MARCXML"),
])
def test_files_that_are_not_what_they_say_are_refused_at_once(client, librarian, content, filename, form, message):
    response = upload(client, librarian, content, filename=filename, **form)

    assert response.status_code == 400 and response.json["errors"]["file"].startswith(message)


def test_bad_options_and_bodies_are_explained(client, librarian):
    assert upload(client, librarian, GOODBOOKS_LIKE, copies="0").json["errors"] == {
        "copies": "Must be greater than or equal to 1 and less than or equal to 100."}
    assert upload(client, librarian, GOODBOOKS_LIKE, on_match="merge").status_code == 400
    no_file = client.post("/imports", data={"format": "csv"}, headers=librarian, content_type="multipart/form-data")
    assert no_file.status_code == 400 and "file" in no_file.json["errors"]
    as_json = client.post("/imports", json={"file": "x"}, headers=librarian)
    assert as_json.status_code == 415 and "multipart/form-data" in as_json.json["message"]


def test_a_method_no_route_has_is_405_whatever_the_body(client, librarian):
    response = client.put("/imports", data={"file": (io.BytesIO(b"x"), "a.csv")}, headers=librarian,
                          content_type="multipart/form-data")

    assert response.status_code == 405


def test_staging_again_without_a_body_keeps_the_options(app, client, librarian):
    batch = staged(app, client, librarian, GOODBOOKS_LIKE, copies="3")

    again = client.post(f"/imports/{batch['id']}/staging", headers=librarian)

    assert again.status_code == 202 and again.json["options"]["copies"] == 3


def test_a_file_beyond_the_limit_is_413_and_json_bodies_keep_their_own_limit(app, client, librarian):
    too_big = upload(client, librarian, "title,author\n" + "x,y\n" * (app.config["IMPORT_MAX_BYTES"] // 4))
    big_json = client.post("/books", data="[" + "0," * 600_000 + "0]", headers=librarian,
                           content_type="application/json")

    assert too_big.status_code == 413 and too_big.json["message"]
    assert big_json.status_code == 413  # 1 MB still, outside imports


def test_imports_are_for_librarians(client, patron, librarian):
    assert upload(client, {}, GOODBOOKS_LIKE).status_code == 401
    assert upload(client, patron, GOODBOOKS_LIKE).status_code == 403
    assert client.get("/imports", headers=patron).status_code == 403
    assert client.get("/imports/1", headers={}).status_code == 401
    assert client.get("/imports/999", headers=librarian).status_code == 404


def test_the_list_is_newest_first(app, client, librarian):
    first = upload(client, librarian, GOODBOOKS_LIKE, filename="first.csv").json
    second = upload(client, librarian, GOODBOOKS_LIKE, filename="second.csv").json

    listed = client.get("/imports", headers=librarian)

    assert [item["id"] for item in listed.json] == [second["id"], first["id"]]
    assert listed.headers["X-Total-Count"] == "2"


def test_an_inverted_name_with_a_compound_surname_stays_whole(app, client, librarian):
    # goodbooks-style lists of names, among them names written "Surname, Given" that read so on their own
    content = ("title,authors\n"
               'The Dispossessed,"Le Guin, Ursula K."\n'
               'The Listeners,"de la Mare, Walter"\n'
               'Letters,"van Gogh, Vincent, Ronald de Leeuw"\n'
               'The Odyssey,"Homer, Robert Fagles, Bernard Knox"\n'
               'Harry Potter,"J.K. Rowling, Mary GrandPré"\n'
               'Good Omens,"Terry Pratchett, Neil Gaiman"\n'
               'Mr. Punch,"Neil Gaiman, Dave McKean"\n'
               'Talisman,"Stephen King, Peter Straub"\n')

    batch = staged(app, client, librarian, content)

    authors = [(record["fields"]["author"], record["notes"]) for record in records(client, librarian, batch["id"])]
    assert authors[:5] == [
        ("Le Guin, Ursula K.", []),
        ("de la Mare, Walter", []),
        ("van Gogh, Vincent", ["Author 'van Gogh, Vincent': the first of 'van Gogh, Vincent, Ronald de Leeuw'"]),
        ("Homer", ["Author 'Homer': the first of 'Homer, Robert Fagles, Bernard Knox'"]),
        ("J.K. Rowling", ["Author 'J.K. Rowling': the first of 'J.K. Rowling, Mary GrandPré'"]),
    ]
    assert [author for author, _notes in authors[5:]] == ["Terry Pratchett", "Neil Gaiman", "Stephen King"]


def test_a_file_that_writes_every_name_surname_first_keeps_each_whole(app, client, librarian):
    # "García Márquez, Gabriel" alone could be two authors; in a file of names written surname first it is one
    content = ("title,author\n"
               'Cien años de soledad,"García Márquez, Gabriel"\n'
               'Emma,"Austen, Jane"\n'
               'The Hobbit,"Tolkien, J. R. R."\n')

    batch = staged(app, client, librarian, content)

    assert [record["fields"]["author"] for record in records(client, librarian, batch["id"])] == [
        "García Márquez, Gabriel", "Austen, Jane", "Tolkien, J. R. R."]


HEADERLESS = ("The Hobbit,J.R.R. Tolkien,978-0-261-10334-4,1937\n"
              "Dune,Frank Herbert,9780441172719,1965\n")


def test_a_csv_without_a_header_is_offered_to_read_its_first_row_as_a_record(app, client, librarian):
    first = staged(app, client, librarian, HEADERLESS)

    assert first["status"] == "staged" and first["first_row_looks_like_data"] is True
    assert first["problem"].startswith("The first row looks like a record, not column names")
    assert first["counts"] == {"new": 0, "match": 0, "invalid": 0}

    as_record = client.post(f"/imports/{first['id']}/staging", json={"header": False}, headers=librarian)
    work(app)
    second = client.get(f"/imports/{first['id']}", headers=librarian).json

    assert as_record.status_code == 202
    assert second["columns"] == ["Column 1", "Column 2", "Column 3", "Column 4"]
    assert second["sample"] == ["The Hobbit", "J.R.R. Tolkien", "978-0-261-10334-4", "1937"]
    assert second["options"]["mapping"] == {"Column 3": "isbn", "Column 4": "year"}  # told by what they hold
    assert second["first_row_looks_like_data"] is False and "say which columns hold them" in second["problem"]

    client.post(f"/imports/{first['id']}/staging", headers=librarian,
                json={"mapping": {"Column 1": "title", "Column 2": "author", "Column 3": "isbn", "Column 4": "year"}})
    work(app)
    third = client.get(f"/imports/{first['id']}", headers=librarian).json

    assert third["counts"] == {"new": 2, "match": 0, "invalid": 0} and third["problem"] is None
    hobbit, dune = records(client, librarian, first["id"])
    assert (hobbit["number"], hobbit["fields"]["title"], hobbit["fields"]["isbn"]) == (1, "The Hobbit",
                                                                                       "9780261103344")
    assert (dune["number"], dune["fields"]["author"], dune["fields"]["published_year"]) == (2, "Frank Herbert", 1965)


def test_the_first_row_can_be_read_as_column_names_again_and_chosen_at_upload(app, client, librarian):
    batch = staged(app, client, librarian, HEADERLESS, header="false")
    assert batch["columns"][0] == "Column 1" and batch["options"]["header"] is False

    client.post(f"/imports/{batch['id']}/staging", json={"header": True}, headers=librarian)
    work(app)
    again = client.get(f"/imports/{batch['id']}", headers=librarian).json

    assert again["columns"] == ["The Hobbit", "J.R.R. Tolkien", "978-0-261-10334-4", "1937"]
    assert again["first_row_looks_like_data"] is True
    # a mapping names the columns the header choice makes
    wrong = client.post(f"/imports/{batch['id']}/staging", json={"header": False, "mapping": {"The Hobbit": "title"}},
                        headers=librarian)
    assert wrong.status_code == 400 and wrong.json["errors"] == {"mapping": "No column 'The Hobbit'"}
    marc = staged(app, client, librarian, MARC_BOOKS[0].as_marc(), filename="one.mrc")
    refused = client.post(f"/imports/{marc['id']}/staging", json={"header": False}, headers=librarian)
    assert refused.status_code == 400 and refused.json["errors"] == {"header": "Only for CSV files"}


def test_a_header_named_like_columns_is_not_taken_for_a_record(app, client, librarian):
    batch = staged(app, client, librarian, "Nom,Auteur,Code\nLe Petit Prince,Antoine de Saint-Exupéry,1943\n")

    assert batch["first_row_looks_like_data"] is False and "say which columns hold them" in batch["problem"]


@pytest.mark.parametrize("content, filename", [
    ("title,author\n", "header-only.csv"),
    ("title,author\r\n,\r\n\r\n", "blank-rows.csv"),
    (b'<collection xmlns="http://www.loc.gov/MARC21/slim"></collection>', "empty.xml"),
])
def test_a_file_without_records_says_there_is_nothing_to_add(app, client, librarian, content, filename):
    batch = staged(app, client, librarian, content, filename=filename)

    assert batch["status"] == "staged" and batch["counts"] == {"new": 0, "match": 0, "invalid": 0}
    assert batch["problem"] == "The file holds no records: there is nothing to add"
    assert client.post(f"/imports/{batch['id']}/commit", json={}, headers=librarian).status_code == 409


def test_a_staged_import_can_be_discarded_but_not_once_committed(app, client, librarian):
    kept = staged(app, client, librarian, GOODBOOKS_LIKE)
    discarded = staged(app, client, librarian, GOODBOOKS_LIKE)

    response = client.delete(f"/imports/{discarded['id']}", headers=librarian)

    assert response.status_code == 204
    assert client.get(f"/imports/{discarded['id']}", headers=librarian).status_code == 404
    assert client.get(f"/imports/{discarded['id']}/records", headers=librarian).status_code == 404
    assert client.delete(f"/imports/{discarded['id']}", headers=librarian).status_code == 404
    client.post(f"/imports/{kept['id']}/commit", json={}, headers=librarian)
    work(app)
    refused = client.delete(f"/imports/{kept['id']}", headers=librarian)
    assert refused.status_code == 409 and refused.json["message"] == (
        "This import is committed: it cannot be discarded; revert it instead")
    assert len(records(client, librarian, kept["id"])) == 6


def test_an_import_being_read_cannot_be_discarded_and_only_librarians_discard(app, client, librarian, patron):
    reading = upload(client, librarian, GOODBOOKS_LIKE).json  # the worker has not read it yet

    assert client.delete(f"/imports/{reading['id']}", headers={}).status_code == 401
    assert client.delete(f"/imports/{reading['id']}", headers=patron).status_code == 403
    refused = client.delete(f"/imports/{reading['id']}", headers=librarian)
    assert refused.status_code == 409 and refused.json["message"].endswith("wait until it is staged")
    work(app)
    assert client.delete(f"/imports/{reading['id']}", headers=librarian).status_code == 204


def test_every_value_staging_mends_has_its_note(app, client, librarian):
    client.post("/genres", json={"name": "Science Fiction"}, headers=librarian)
    long_subject, long_description = "S" * 120, "D" * 5100
    subjects = "; ".join([long_subject] + [f"Subject {number}" for number in range(21)])
    content = ("title,authors,isbn,isbn13,year,language,genre,subjects,description\n"
               f'Dune,"Frank Herbert, Someone Else",441172717,9.78044117272e+12,c1965.,en-US,science fiction,'
               f'"{subjects}",{long_description}\n'
               f'Emma,Jane Austen,043902348X,9780141439587,1815,eng,{"G" * 105},,\n'
               f'Persuasion,Jane Austen,,9.78014143968e+12,1817,en,Classics,,\n')

    batch = staged(app, client, librarian, content)

    dune, emma, persuasion = records(client, librarian, batch["id"])
    assert dune["notes"] == [
        "Author 'Frank Herbert': the first of 'Frank Herbert, Someone Else'",
        "ISBN '441172717' read as 0441172717: a spreadsheet had dropped its leading zero (the check digit agrees)",
        "Year 'c1965.' read as 1965",
        "Language 'en-US' filed as 'en' (the catalogue keeps the language, not the region)",
        "Description 'DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD'… cut to 5,000 characters (it had 5,100)",
        "Subjects after the first 20 left out (2 of them)",
        "Subject 'SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS'… cut to 100 characters (it had 120)",
        "Genre 'science fiction' filed under the existing 'Science Fiction'",
    ]
    assert (dune["fields"]["genre"], len(dune["fields"]["subjects"][0]), len(dune["fields"]["description"])) == (
        "Science Fiction", 100, 5000)
    assert emma["notes"] == [
        "Genre 'GGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGG'… cut to 100 characters (it had 105)",
        "ISBN '043902348X' is not a valid ISBN: left out (the other, 9780141439587, is kept)",
    ]
    assert persuasion["notes"] == [
        "ISBN '9.78014143968e+12' is a spreadsheet's exponent form (its digits lost): left out"]
    assert persuasion["fields"].get("isbn") is None and persuasion["outcome"] == "new"


def test_popularity_and_original_titles_are_imported_and_popularity_ranks_the_work_first(app, client, librarian):
    content = ("title,original_title,authors,ratings_count\n"
               '"The Lord of the Rings (The Lord of the Rings, #1-3)",,J.R.R. Tolkien,5000\n'
               '"The Lord of the Rings Sketchbook",,Alan Lee,900\n'
               '"The Fellowship of the Ring (The Lord of the Rings, #1)",,J.R.R. Tolkien,1766803\n'
               "The Stranger,L’Étranger,Albert Camus,420600\n"
               "George,,Somebody Less Read,20000\n"
               "Nineteen Eighty-Four,,George Orwell,2000000\n"
               "Broken Count,,Nobody,lots\n")
    batch = staged(app, client, librarian, content)
    client.post(f"/imports/{batch['id']}/commit", json={}, headers=librarian)
    work(app)

    def best(query):
        return titles(client.get("/books", query_string={"q": query, "sort": "relevance", "availability": "false"}))

    assert best("lord of the rings")[0] == "The Fellowship of the Ring (The Lord of the Rings, #1)"
    assert best("l'etranger") == ["The Stranger"]
    assert best("george")[0] == "George"  # the whole title typed: that book, before a far more read one
    stranger = client.get("/books", query_string={"q": "stranger"}).json[0]
    assert (stranger["original_title"], stranger["popularity"]) == ("L’Étranger", 420600)
    broken = [record for record in records(client, librarian, batch["id"]) if record["number"] == 7][0]
    assert broken["notes"] == ["Popularity 'lots' is not a count of readers: left out"]
    assert client.get(f"/books/{broken['book_id']}").json["popularity"] == 0


def titles(response):
    return [book["title"] for book in response.json]


def test_the_worker_s_gauge_counts_imports_being_worked_on_not_those_waiting_or_done(app, client, librarian):
    from books_service.jobs import gauges

    staged(app, client, librarian, GOODBOOKS_LIKE)  # staged: waiting for a librarian
    upload(client, librarian, GOODBOOKS_LIKE)  # staging: the worker's to read

    with app.app_context():
        assert gauges() == {"library_imports_running": 1}
