"""books-service's audit trail: what librarians change in the catalogue is recorded with the change, field by
field."""

import sqlalchemy as sa

from books_service import create_app
from books_service.models import db
from library_common.testing import audit_migration_goes_back_and_forth


def trail(client, librarian, **query):
    response = client.get("/audit", query_string=query, headers=librarian)
    assert response.status_code == 200, response.json
    return response.json["items"]


def test_a_librarian_renaming_a_book_is_one_entry_with_before_and_after(client, librarian, add_book):
    book = add_book()
    response = client.patch(f"/books/{book['id']}", json={"title": "The Restaurant at the End of the Universe"},
                            headers={**librarian, "X-Request-ID": "edit-1"}, environ_base={"REMOTE_ADDR": "192.0.2.8"})
    assert response.status_code == 200, response.json
    [entry] = trail(client, librarian, action="book.updated")
    assert {key: entry[key] for key in ("actor", "actor_role", "object_type", "object_id", "summary", "changes",
                                        "request_id", "client_address")} == {
        "actor": "boss", "actor_role": "librarian", "object_type": "book", "object_id": str(book["id"]),
        "summary": "The Restaurant at the End of the Universe",
        "changes": {"title": {"before": "The Hitchhiker's Guide to the Galaxy",
                              "after": "The Restaurant at the End of the Universe"}},
        "request_id": "edit-1", "client_address": "192.0.2.8"}


def test_a_book_its_items_and_its_removal_are_recorded_under_the_book(client, librarian, add_book):
    book = add_book(copies=1)
    added = client.post(f"/books/{book['id']}/items", json={"barcode": "X-0001"}, headers=librarian)
    assert added.status_code == 201, added.json
    assert client.patch("/items/X-0001", json={"status": "missing"}, headers=librarian).status_code == 200
    assert client.patch("/items/X-0001", json={"status": "available"}, headers=librarian).status_code == 200
    assert client.patch(f"/books/{book['id']}", json={"copies": 3}, headers=librarian).status_code == 200
    assert client.delete(f"/books/{book['id']}", headers=librarian).status_code == 204
    entries = trail(client, librarian, object=f"book:{book['id']}")
    assert [entry["action"] for entry in entries] == [
        "book.deleted", "book.updated", "item.found", "item.updated", "item.created", "book.created"]
    assert entries[1]["changes"] == {"copies": {"before": 2, "after": 3}}
    assert entries[3]["changes"] == {"status": {"before": "available", "after": "missing"}}
    assert (entries[4]["object_id"], entries[4]["related"]) == ("X-0001", f"book:{book['id']}")
    assert entries[0]["changes"]["title"] == {"before": book["title"]}


def test_genres_renamed_and_merged_are_recorded(client, librarian, add_book):
    add_book(genre="Sci-fi")
    genres = {genre["genre"]: genre["id"] for genre in client.get("/genres").json}
    other = client.post("/genres", json={"name": "Fantasy"}, headers=librarian).json
    assert client.patch(f"/genres/{genres['Sci-fi']}", json={"name": "Science Fiction"},
                        headers=librarian).status_code == 200
    assert client.post(f"/genres/{genres['Sci-fi']}/merge", json={"into": other["id"]},
                       headers=librarian).status_code == 200
    merged, renamed = trail(client, librarian, action="genre.")[:2]
    assert renamed["changes"] == {"name": {"before": "Sci-fi", "after": "Science Fiction"}}
    assert (merged["action"], merged["related"]) == ("genre.merged", f"genre:{other['id']}")
    assert merged["changes"]["books"] == {"after": 1}


def test_a_refused_change_leaves_no_entry_and_a_patron_cannot_read_the_trail(client, librarian, patron, add_book):
    book = add_book(isbn="9780345391803")
    other = add_book(title="Another", isbn=None)
    assert client.patch(f"/books/{other['id']}", json={"isbn": "9780345391803"}, headers=librarian).status_code == 409
    assert trail(client, librarian, action="book.updated") == []
    assert client.get("/audit", headers=patron).status_code == 403
    assert book


def test_the_database_refuses_to_truncate_the_trail(app, client, add_book):
    add_book()
    with app.app_context():
        try:
            with db.engine.begin() as connection:
                connection.execute(sa.text("TRUNCATE audit_log"))
        except sa.exc.DBAPIError as error:
            assert "The audit trail cannot be changed" in str(error)
        else:
            raise AssertionError("TRUNCATE audit_log was allowed")


def test_the_migration_goes_back_and_forth(postgres_server_url):
    audit_migration_goes_back_and_forth(create_app, postgres_server_url, "books", "0080")


def test_item_types_added_renamed_and_deleted_are_recorded(client, librarian):
    assert client.post("/item-types", json={"code": "zine", "name": "Zine"}, headers=librarian).status_code == 201
    assert client.patch("/item-types/zine", json={"name": "Fanzine"}, headers=librarian).status_code == 200
    assert client.delete("/item-types/zine", headers=librarian).status_code == 204
    deleted, renamed, created = trail(client, librarian, object_type="item_type")
    assert (created["action"], created["object_id"]) == ("item_type.created", "zine")
    assert renamed["changes"] == {"name": {"before": "Zine", "after": "Fanzine"}}
    assert (deleted["action"], deleted["changes"]) == ("item_type.deleted", {"name": {"before": "Fanzine"}})
