"""Each copy's item type (from the library's list) and where and in what form it is shelved: its call number,
shelf location and format. They describe the copy, so they change even while it is out."""

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from books_service import create_app
from books_service.models import db
from library_common.databases import recreate_database

SHELVED = {"item_type": "reference", "call_number": "823.914 ISH", "shelf_location": "Adult fiction, 2nd floor",
           "format": "hardback"}


def only_copy(client, book):
    [item] = client.get(f"/books/{book['id']}/items").json
    return item


def add_copy(client, librarian, book, **fields):
    response = client.post(f"/books/{book['id']}/items", json=fields, headers=librarian)
    assert response.status_code == 201, response.json
    return response.json


# ---- the copies' details -----------------------------------------------------------------------------------


def test_a_new_copy_is_a_book_with_no_shelf_details_until_told(client, add_book):
    book = add_book()

    item = only_copy(client, book)

    assert item["item_type"] == "book"
    assert item["call_number"] is None and item["shelf_location"] is None and item["format"] is None


def test_a_copy_is_added_with_its_type_call_number_shelf_location_and_format(client, librarian, add_book):
    book = add_book()

    typed = add_copy(client, librarian, book, barcode="LIB-0042", **SHELVED)
    generated = add_copy(client, librarian, book, item_type="dvd", format="disc")

    assert {field: typed[field] for field in SHELVED} == SHELVED
    fetched = client.get("/items/LIB-0042").json
    assert {field: fetched[field] for field in SHELVED} == SHELVED
    assert generated["barcode"].isdigit() and generated["item_type"] == "dvd" and generated["format"] == "disc"
    listed = {item["barcode"]: item for item in client.get(f"/books/{book['id']}/items").json}
    assert listed["LIB-0042"]["shelf_location"] == "Adult fiction, 2nd floor"
    assert listed[generated["barcode"]]["call_number"] is None


def test_the_details_change_and_blank_or_null_clears_them(client, librarian, add_book):
    barcode = only_copy(client, add_book())["barcode"]

    changed = client.patch(f"/items/{barcode}", json=SHELVED, headers=librarian)
    cleared = client.patch(f"/items/{barcode}", json={"call_number": "  ", "shelf_location": None, "format": None},
                           headers=librarian)

    assert changed.status_code == 200 and {field: changed.json[field] for field in SHELVED} == SHELVED
    assert cleared.status_code == 200
    assert (cleared.json["call_number"], cleared.json["shelf_location"], cleared.json["format"]) == (None, None, None)
    assert cleared.json["item_type"] == "reference"


@pytest.mark.parametrize("fields, wrong", [
    ({"call_number": "8" * 65}, "call_number"),
    ({"call_number": "823.914\nISH"}, "call_number"),
    ({"shelf_location": "x" * 101}, "shelf_location"),
    ({"shelf_location": "Adult fiction\t2nd floor"}, "shelf_location"),
    ({"format": "vhs"}, "format"),
    ({"format": ""}, "format"),
    ({"item_type": "DVD"}, "item_type"),
    ({"item_type": None}, "item_type"),
    ({"item_type": "not-in-the-list"}, "item_type"),
])
def test_details_that_cannot_be_are_refused_on_add_and_change(client, librarian, add_book, fields, wrong):
    book = add_book()
    barcode = only_copy(client, book)["barcode"]

    added = client.post(f"/books/{book['id']}/items", json=fields, headers=librarian)
    changed = client.patch(f"/items/{barcode}", json=fields, headers=librarian)

    for response in (added, changed):
        assert response.status_code == 400 and wrong in response.json["errors"], response.json
    assert len(client.get(f"/books/{book['id']}/items").json) == 1
    assert only_copy(client, book)["item_type"] == "book"


@pytest.mark.parametrize("state", ["on_loan", "on_hold_shelf"])
def test_a_copy_that_is_out_is_described_without_asking_circulation(client, librarian, add_book, borrow_service,
                                                                    state):
    book = add_book()
    barcode = only_copy(client, book)["barcode"]
    borrow_service.items_out = {book["id"]: {barcode: state}}

    response = client.patch(f"/items/{barcode}", json=SHELVED, headers=librarian)

    assert response.status_code == 200 and {field: response.json[field] for field in SHELVED} == SHELVED
    assert response.json["status"] == "available"
    assert borrow_service.asked == []  # nothing circulation depends on changed


def test_a_refused_status_change_keeps_the_details_sent_with_it_too(client, librarian, add_book, borrow_service):
    book = add_book()
    barcode = only_copy(client, book)["barcode"]
    client.patch(f"/items/{barcode}", json={"call_number": "823 ISH"}, headers=librarian)
    borrow_service.items_out = {book["id"]: {barcode: "on_loan"}}

    response = client.patch(f"/items/{barcode}", json={"status": "withdrawn", **SHELVED}, headers=librarian)

    assert response.status_code == 409 and barcode in response.json["message"]
    item = only_copy(client, book)
    assert (item["status"], item["item_type"], item["call_number"], item["shelf_location"], item["format"]) == (
        "available", "book", "823 ISH", None, None)


def test_a_free_copy_changes_status_and_details_together(client, librarian, add_book, borrow_service):
    book = add_book(copies=2)
    barcode = client.get(f"/books/{book['id']}/items").json[0]["barcode"]

    response = client.patch(f"/items/{barcode}", json={"status": "withdrawn", "item_type": "magazine"},
                            headers=librarian)

    assert response.status_code == 200 and response.json["status"] == "withdrawn"
    assert response.json["item_type"] == "magazine" and len(borrow_service.asked) == 1
    assert client.get(f"/books/{book['id']}").json["copies"] == 1


# ---- the list of item types ---------------------------------------------------------------------------------


def test_the_library_starts_with_five_item_types_and_counts_their_copies(client, librarian, add_book):
    book = add_book(copies=2)
    add_copy(client, librarian, book, item_type="dvd")

    listed = client.get("/item-types")

    assert listed.status_code == 200
    assert listed.json == [
        {"code": "audiobook", "name": "Audiobook", "items": 0},
        {"code": "book", "name": "Book", "items": 2},
        {"code": "dvd", "name": "DVD", "items": 1},
        {"code": "magazine", "name": "Magazine", "items": 0},
        {"code": "reference", "name": "Reference (not for loan)", "items": 0},
    ]


def test_librarians_add_rename_and_delete_item_types(client, librarian):
    added = client.post("/item-types", json={"code": "board-game", "name": " Board game "}, headers=librarian)
    renamed = client.patch("/item-types/board-game", json={"name": "Board games"}, headers=librarian)
    deleted = client.delete("/item-types/board-game", headers=librarian)

    assert added.status_code == 201 and added.json == {"code": "board-game", "name": "Board game", "items": 0}
    assert renamed.status_code == 200 and renamed.json["name"] == "Board games"
    assert deleted.status_code == 204
    assert "board-game" not in [item_type["code"] for item_type in client.get("/item-types").json]


def test_a_code_belongs_to_one_item_type(client, librarian):
    again = client.post("/item-types", json={"code": "dvd", "name": "Films"}, headers=librarian)

    assert again.status_code == 409 and again.json["errors"] == {"code": "Already in the list"}
    assert "“DVD”" in again.json["message"]
    assert client.get("/item-types").json[2] == {"code": "dvd", "name": "DVD", "items": 0}


@pytest.mark.parametrize("fields, wrong", [
    ({"code": "DVD", "name": "Films"}, "code"),
    ({"code": "with space", "name": "Films"}, "code"),
    ({"code": "x" * 33, "name": "Films"}, "code"),
    ({"code": "films\n", "name": "Films"}, "code"),
    ({"code": "", "name": "Films"}, "code"),
    ({"code": "films", "name": ""}, "name"),
    ({"code": "films", "name": "x" * 101}, "name"),
    ({"code": "films", "name": "Films\r\nBcc: everyone"}, "name"),
    ({"code": "films"}, "name"),
    ({"code": "films", "name": "Films", "loanable": False}, "loanable"),
])
def test_item_types_that_cannot_be_are_refused(client, librarian, fields, wrong):
    response = client.post("/item-types", json=fields, headers=librarian)

    assert response.status_code == 400 and wrong in response.json["errors"], response.json


def test_an_item_type_in_use_is_not_deleted(client, librarian, add_book):
    book = add_book()
    add_copy(client, librarian, book, item_type="dvd")
    add_copy(client, librarian, book, item_type="dvd")

    response = client.delete("/item-types/dvd", headers=librarian)

    assert response.status_code == 409
    assert response.json["message"] == "2 copies have the item type “DVD”: give them another type before deleting it"
    assert [item["item_type"] for item in client.get(f"/books/{book['id']}/items").json].count("dvd") == 2


def test_the_type_new_copies_get_is_renamed_but_never_deleted(client, librarian):
    renamed = client.patch("/item-types/book", json={"name": "Printed book"}, headers=librarian)
    deleted = client.delete("/item-types/book", headers=librarian)

    assert renamed.status_code == 200 and renamed.json == {"code": "book", "name": "Printed book", "items": 0}
    assert deleted.status_code == 409 and "cannot be deleted" in deleted.json["message"]


@pytest.mark.parametrize("code", ["nope", "DVD", "nul%00byte", "x" * 40, "%F0%9F%93%9A"])
def test_an_unknown_item_type_is_404(client, librarian, code):
    assert client.patch(f"/item-types/{code}", json={"name": "N"}, headers=librarian).status_code == 404
    response = client.delete(f"/item-types/{code}", headers=librarian)
    assert response.status_code == 404 and response.json["message"].startswith("No item type")


def test_item_types_are_changed_by_librarians_only(client, patron):
    assert client.get("/item-types").status_code == 200
    assert client.post("/item-types", json={"code": "films", "name": "Films"}).status_code == 401
    assert client.post("/item-types", json={"code": "films", "name": "Films"}, headers=patron).status_code == 403
    assert client.patch("/item-types/dvd", json={"name": "Films"}, headers=patron).status_code == 403
    assert client.delete("/item-types/dvd", headers=patron).status_code == 403
    assert client.get("/item-types").json[2]["name"] == "DVD"


# ---- the migration ------------------------------------------------------------------------------------------


def test_the_migration_makes_every_existing_copy_a_book_and_seeds_the_list(postgres_server_url):
    url = recreate_database(postgres_server_url, "test_books_migration_0060")
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    with app.app_context():
        upgrade(revision="0050")
        db.session.execute(sa.text("INSERT INTO genres (name, key) VALUES ('G', 'g')"))
        db.session.execute(sa.text(
            "INSERT INTO books (title, author, genre, title_sort, author_sort, search_vector) "
            "VALUES ('Old', 'A', 'G', 'old', 'a', '')"))
        db.session.execute(sa.text("INSERT INTO items (book_id) SELECT id FROM books, generate_series(1, 2)"))
        db.session.commit()

        upgrade()
        copies = db.session.execute(sa.text(
            "SELECT item_type, call_number, shelf_location, format FROM items")).all()
        seeded = db.session.execute(sa.text("SELECT code, name FROM item_types ORDER BY code")).all()
        db.session.commit()
        downgrade(revision="0050")
        columns = db.session.scalars(sa.text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'items'")).all()
        db.session.remove()
        db.engine.dispose()

    assert copies == [("book", None, None, None)] * 2
    assert seeded == [("audiobook", "Audiobook"), ("book", "Book"), ("dvd", "DVD"), ("magazine", "Magazine"),
                      ("reference", "Reference (not for loan)")]
    assert "item_type" not in columns and "call_number" not in columns
