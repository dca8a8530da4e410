"""Copies are items with barcodes: listed, added, changed and removed, never while they are out."""

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from books_service import create_app
from books_service.models import db
from library_common.testing import migrated_app


def items(client, book):
    return client.get(f"/books/{book['id']}/items").json


def test_a_new_book_has_an_item_per_copy_with_generated_barcodes(client, add_book):
    book = add_book(copies=3)

    listed = items(client, book)

    assert [item["status"] for item in listed] == ["available"] * 3
    assert len({item["barcode"] for item in listed}) == 3
    assert all(item["barcode"].isdigit() and len(item["barcode"]) == 10 for item in listed)
    assert listed[0]["title"] == book["title"] and listed[0]["book_id"] == book["id"]


def test_librarians_add_items_with_or_without_a_barcode(client, librarian, add_book):
    book = add_book()

    typed = client.post(f"/books/{book['id']}/items", json={"barcode": "LIB-0042"}, headers=librarian)
    generated = client.post(f"/books/{book['id']}/items", json={}, headers=librarian)

    assert typed.status_code == 201 and typed.json["barcode"] == "LIB-0042"
    assert generated.status_code == 201 and generated.json["barcode"].isdigit()
    assert client.get(f"/books/{book['id']}").json["copies"] == 3
    assert client.get("/items/LIB-0042").json["book_id"] == book["id"]


def test_a_barcode_belongs_to_one_item(client, librarian, add_book):
    book = add_book()
    client.post(f"/books/{book['id']}/items", json={"barcode": "LIB-0042"}, headers=librarian)

    again = client.post(f"/books/{book['id']}/items", json={"barcode": "LIB-0042"}, headers=librarian)

    assert again.status_code == 409 and again.json["errors"] == {"barcode": "Already on another item"}


def test_generated_barcodes_skip_one_a_librarian_already_used(app, client, librarian, add_book):
    book = add_book()
    with app.app_context():
        upcoming = str(db.session.scalar(sa.text("SELECT last_value + 1 FROM item_barcodes")))
    client.post(f"/books/{book['id']}/items", json={"barcode": upcoming}, headers=librarian)

    generated = client.post(f"/books/{book['id']}/items", json={}, headers=librarian)

    assert generated.status_code == 201 and generated.json["barcode"] != upcoming


@pytest.mark.parametrize("barcode", ["abc", "x" * 33, "with space", "tab\there", "é-accent", "line\nbreak"])
def test_barcodes_are_4_to_32_printable_characters(client, librarian, add_book, barcode):
    book = add_book()

    response = client.post(f"/books/{book['id']}/items", json={"barcode": barcode}, headers=librarian)

    assert response.status_code == 400 and "barcode" in response.json["errors"]


def test_an_item_leaving_circulation_lowers_the_copies(client, librarian, add_book):
    book = add_book(copies=2)
    barcode = items(client, book)[0]["barcode"]

    response = client.patch(f"/items/{barcode}", json={"status": "damaged"}, headers=librarian)

    assert response.status_code == 200 and response.json["status"] == "damaged"
    assert client.get(f"/books/{book['id']}").json["copies"] == 1
    client.patch(f"/items/{barcode}", json={"status": "available"}, headers=librarian)
    assert client.get(f"/books/{book['id']}").json["copies"] == 2


@pytest.mark.parametrize("state", ["on_loan", "on_hold_shelf"])
@pytest.mark.parametrize("change", [{"status": "withdrawn"}, {"barcode": "RENAMED-1"}, None])
def test_an_item_that_is_out_is_neither_withdrawn_renamed_nor_deleted(client, librarian, add_book, borrow_service,
                                                                      state, change):
    book = add_book()
    barcode = items(client, book)[0]["barcode"]
    borrow_service.items_out = {book["id"]: {barcode: state}}

    if change is None:
        response = client.delete(f"/items/{barcode}", headers=librarian)
    else:
        response = client.patch(f"/items/{barcode}", json=change, headers=librarian)

    assert response.status_code == 409 and barcode in response.json["message"]
    assert items(client, book) == [{**items(client, book)[0], "barcode": barcode, "status": "available"}]
    assert client.get(f"/books/{book['id']}").json["copies"] == 1


def test_an_item_stays_when_circulation_cannot_be_asked(client, librarian, add_book, borrow_service):
    book = add_book()
    barcode = items(client, book)[0]["barcode"]
    borrow_service.down = True

    response = client.delete(f"/items/{barcode}", headers=librarian)

    assert response.status_code == 503
    assert client.get(f"/items/{barcode}").json["status"] == "available"


def test_a_free_item_is_deleted(client, librarian, add_book):
    book = add_book(copies=2)
    barcode = items(client, book)[0]["barcode"]

    assert client.delete(f"/items/{barcode}", headers=librarian).status_code == 204
    assert client.get(f"/items/{barcode}").status_code == 404
    assert client.get(f"/books/{book['id']}").json["copies"] == 1


def test_items_are_changed_by_librarians_only(client, patron, add_book):
    book = add_book()
    barcode = items(client, book)[0]["barcode"]

    assert client.post(f"/books/{book['id']}/items", json={}).status_code == 401
    assert client.post(f"/books/{book['id']}/items", json={}, headers=patron).status_code == 403
    assert client.patch(f"/items/{barcode}", json={"status": "lost"}, headers=patron).status_code == 403
    assert client.delete(f"/items/{barcode}", headers=patron).status_code == 403


def test_unknown_books_and_items_are_404(client, librarian):
    assert client.get("/books/999/items").status_code == 404
    assert client.post("/books/999/items", json={}, headers=librarian).status_code == 404
    assert client.get("/items/NOPE-1").status_code == 404
    assert client.patch("/items/NOPE-1", json={"status": "lost"}, headers=librarian).status_code == 404


def test_the_migration_turns_counted_copies_into_items(postgres_server_url):
    app = migrated_app(create_app, postgres_server_url, "books_items_migration")
    with app.app_context():
        downgrade(revision="0010")
        db.session.execute(sa.text("INSERT INTO genres (name, key) VALUES ('G', 'g')"))
        db.session.execute(sa.text(
            "INSERT INTO books (title, author, genre, copies, title_sort, author_sort, search_vector) "
            "VALUES ('Old', 'A', 'G', 3, 'old', 'a', ''), ('Older', 'B', 'G', 1, 'older', 'b', '')"))
        db.session.commit()
        upgrade()
        per_book = db.session.execute(sa.text(
            "SELECT b.title, b.copies, count(i.id) FROM books b JOIN items i ON i.book_id = b.id "
            "WHERE i.status = 'available' GROUP BY b.title, b.copies ORDER BY b.title")).all()
        db.session.remove()
        db.engine.dispose()

    assert per_book == [("Old", 3, 3), ("Older", 1, 1)]
