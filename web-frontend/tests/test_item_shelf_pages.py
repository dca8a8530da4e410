"""Copies' types and places on the shelves: where readers find a book, the librarians' copies section, a copy's
page, the item types page and the spine labels."""

import re

import pytest
import requests

from .conftest import BOOKS, BORROWS, book, json_body, patron

pytestmark = pytest.mark.usefixtures("services")

ITEM_TYPES = [{"code": "audiobook", "name": "Audiobook", "items": 0}, {"code": "book", "name": "Book", "items": 3},
              {"code": "dvd", "name": "DVD", "items": 0},
              {"code": "reference", "name": "Reference (not for loan)", "items": 1}]


def copy(barcode, status="available", **fields):
    return {"barcode": barcode, "book_id": 1, "title": "T", "status": status, "item_type": "book",
            "call_number": None, "shelf_location": None, "format": None, **fields}


def flashes(client):
    with client.session_transaction() as session:
        return session.get("_flashes", [])


def text_of(html):
    """The page's words without its tags and spacing, as a reader sees them."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def book_page(client, services, items, standing=None):
    services.get(f"{BOOKS}/books/1", json=book())
    services.get(f"{BOOKS}/books/1/items", json=items)
    services.get(f"{BOOKS}/item-types", json=ITEM_TYPES)
    services.get(f"{BORROWS}/patrons/alice", json=standing or patron())
    return client.get("/books/1").get_data(as_text=True)


# ---- where readers find it ------------------------------------------------------------------------------------


def test_a_book_says_where_to_find_it_on_the_shelves(client, services):
    html = book_page(client, services, [
        copy("1000000001", call_number="823.914 ISH", shelf_location="Adult fiction, 2nd floor"),
        copy("1000000002", call_number="823.914 ISH", shelf_location="Adult fiction, 2nd floor")])

    assert "Where to find it Adult fiction, 2nd floor · 823.914 ISH" in text_of(html)
    assert "2 copies" not in html  # one place: no need to count


def test_each_place_says_its_type_format_and_copies_and_copies_off_the_shelves_are_left_out(client, services,
                                                                                           log_in_as):
    log_in_as("alice")
    html = text_of(book_page(client, services, [
        copy("1000000001", call_number="823.914 ISH", shelf_location="Adult fiction, 2nd floor"),
        copy("1000000002", item_type="reference", call_number="R 823.914 ISH", shelf_location="Reference room"),
        copy("1000000003", call_number="823.914 ISH", shelf_location="Large print", format="large_print"),
        copy("1000000004", status="missing", shelf_location="Basement")]))

    assert "Adult fiction, 2nd floor · 823.914 ISH — 1 copy" in html
    assert "Reference (not for loan): Reference room · R 823.914 ISH — 1 copy" in html
    assert "Large print · 823.914 ISH (large print) — 1 copy" in html
    assert "Basement" not in html


def test_a_book_whose_copies_say_nothing_about_their_place_shows_no_place(client, services):
    html = book_page(client, services, [copy("1000000001"), copy("1000000002", format="paperback")])

    assert "Where to find it" not in html
    assert not [call for call in services.calls if "/item-types" in call.request.url]  # no type to name


def test_the_book_page_stands_without_its_copies(client, services):
    services.get(f"{BOOKS}/books/1", json=book())
    services.get(f"{BOOKS}/books/1/items", body=requests.ConnectionError("down"))

    response = client.get("/books/1")

    assert response.status_code == 200 and "Where to find it" not in response.get_data(as_text=True)


# ---- the librarians' copies section and a copy's page ---------------------------------------------------------


def librarian_book_page(client, services, log_in_as, items):
    log_in_as("boss", "librarian")
    services.get(f"{BORROWS}/patrons/boss", json=patron("boss"))
    services.get(f"{BORROWS}/circulation/books/1", json={"items": {}, "holds_waiting": 0, "unnumbered_loans": 0})
    services.get(f"{BOOKS}/books/1", json=book())
    services.get(f"{BOOKS}/books/1/items", json=items)
    services.get(f"{BOOKS}/item-types", json=ITEM_TYPES)
    return client.get("/books/1").get_data(as_text=True)


def test_librarians_see_each_copy_s_type_and_shelf_and_add_one_shelved_like_the_first(client, services, log_in_as):
    html = librarian_book_page(client, services, log_in_as, [
        copy("1000000001", item_type="reference", call_number="823.914 ISH", shelf_location="Reference room",
             format="hardback"), copy("1000000002")])

    assert "Reference (not for loan), hardback" in html and "Reference room · 823.914 ISH" in html
    assert 'href="/manage/items/1000000001/edit"' in html
    add_form = html[html.index('class="add-copy"'):]
    assert '<option selected value="reference">Reference (not for loan)</option>' in add_form
    assert '<option value="dvd">DVD</option>' in add_form
    assert 'name="new-call_number" type="text" value="823.914 ISH"' in add_form
    assert 'value="Reference room"' in add_form and '<option selected value="hardback">Hardback</option>' in add_form
    assert 'href="/manage/item-types"' in html


def test_adding_a_copy_sends_its_type_and_shelf_and_blank_fields_clear(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.get(f"{BOOKS}/item-types", json=ITEM_TYPES)
    added = services.post(f"{BOOKS}/books/1/items", status=201, json=copy("LIB-0042", item_type="dvd"))

    response = client.post("/manage/books/1/items", data={
        "new-barcode": "LIB-0042", "new-item_type": "dvd", "new-call_number": " 791.43 KUB ",
        "new-shelf_location": "", "new-format": "disc"})

    assert response.status_code == 302 and response.headers["Location"].endswith("/books/1?added=LIB-0042#copies")
    assert json_body(added.calls[0]) == {"barcode": "LIB-0042", "item_type": "dvd", "call_number": "791.43 KUB",
                                         "shelf_location": None, "format": "disc"}


def test_a_copy_refused_by_the_catalogue_says_why(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.get(f"{BOOKS}/item-types", json=ITEM_TYPES)
    services.post(f"{BOOKS}/books/1/items", status=400, json={
        "message": "No item type 'gone': choose one from GET /item-types",
        "errors": {"item_type": "No such item type"}})

    client.post("/manage/books/1/items", data={"new-item_type": "gone"})

    assert ("error", "No copy added: No item type 'gone': choose one from GET /item-types") in flashes(client)


def test_a_copy_s_page_changes_its_type_and_shelf_even_while_it_is_out(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.get(f"{BOOKS}/items/1000000001", json=copy("1000000001", call_number="823 ISH"))
    services.get(f"{BOOKS}/item-types", json=ITEM_TYPES)
    changed = services.patch(f"{BOOKS}/items/1000000001", json=copy("1000000001", item_type="reference"))

    page = client.get("/manage/items/1000000001/edit").get_data(as_text=True)
    response = client.post("/manage/items/1000000001/edit", data={
        "item_type": "reference", "call_number": "823.914 ISH", "shelf_location": "Reference room", "format": ""})

    assert 'value="823 ISH"' in page and '<option selected value="book">Book</option>' in page
    assert response.status_code == 302 and response.headers["Location"].endswith("/books/1#copies")
    assert json_body(changed.calls[0]) == {"item_type": "reference", "call_number": "823.914 ISH",
                                           "shelf_location": "Reference room", "format": None}
    assert ("success", "Saved copy 1000000001.") in flashes(client)


def test_a_copy_s_page_shows_the_catalogue_s_objections_beside_the_fields(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.get(f"{BOOKS}/items/1000000001", json=copy("1000000001"))
    services.get(f"{BOOKS}/item-types", json=ITEM_TYPES)
    services.patch(f"{BOOKS}/items/1000000001", status=400, json={
        "message": "Invalid input", "errors": {"shelf_location": "Must be one line: no line breaks"}})

    response = client.post("/manage/items/1000000001/edit", data={"item_type": "book", "shelf_location": "A\u2028B"})

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="shelf_location-error"' in html and "Must be one line" in html


def test_a_copy_s_page_keeps_its_type_when_the_list_cannot_be_read(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.get(f"{BOOKS}/items/1000000001", json=copy("1000000001", item_type="dvd"))
    services.get(f"{BOOKS}/item-types", body=requests.ConnectionError("down"))

    html = client.get("/manage/items/1000000001/edit").get_data(as_text=True)

    assert '<option selected value="dvd">dvd</option>' in html


def test_an_unknown_copy_s_page_is_404(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.get(f"{BOOKS}/items/NOPE-1", status=404, json={"message": "No item with barcode 'NOPE-1'"})

    assert client.get("/manage/items/NOPE-1/edit").status_code == 404


# ---- the item types page ---------------------------------------------------------------------------------------


def test_librarians_list_add_rename_and_delete_item_types(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.get(f"{BOOKS}/item-types", json=ITEM_TYPES)
    added = services.post(f"{BOOKS}/item-types", status=201, json={"code": "board-game", "name": "Board game",
                                                                   "items": 0})
    renamed = services.patch(f"{BOOKS}/item-types/dvd", json={"code": "dvd", "name": "Films", "items": 0})
    deleted = services.delete(f"{BOOKS}/item-types/audiobook", status=204)

    page = client.get("/manage/item-types").get_data(as_text=True)
    client.post("/manage/item-types", data={"code": "board-game", "name": "Board game"})
    client.post("/manage/item-types/dvd/rename", data={"name": "Films"})
    client.post("/manage/item-types/audiobook/delete")

    assert "Item types (4)" in page and "Reference (not for loan)" in page
    assert 'action="/manage/item-types/audiobook/delete"' in page and 'action="/manage/item-types/dvd/delete"' in page
    assert 'action="/manage/item-types/reference/delete"' not in page  # a copy has it
    assert 'action="/manage/item-types/book/delete"' not in page  # new copies get it
    assert json_body(added.calls[0]) == {"code": "board-game", "name": "Board game"}
    assert json_body(renamed.calls[0]) == {"name": "Films"} and len(deleted.calls) == 1
    assert [message for _, message in flashes(client)] == [
        "Added the item type “Board game” (board-game).", "Renamed to “Films”.", "Deleted the item type audiobook."]


def test_a_taken_code_is_shown_beside_the_field_with_what_was_typed(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.get(f"{BOOKS}/item-types", json=ITEM_TYPES)
    services.post(f"{BOOKS}/item-types", status=409, json={
        "message": "The item type 'dvd' already exists (“DVD”)", "errors": {"code": "Already in the list"}})

    response = client.post("/manage/item-types", data={"code": "dvd", "name": "Films"})

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="code-error"' in html and "Already in the list" in html and 'value="Films"' in html


def test_an_item_type_in_use_is_not_deleted_and_the_page_says_why(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.delete(f"{BOOKS}/item-types/reference", status=409, json={
        "message": "1 copy has the item type “Reference (not for loan)”: give them another type before deleting it"})

    response = client.post("/manage/item-types/reference/delete")

    assert response.status_code == 302 and response.headers["Location"] == "/manage/item-types"
    assert ("error", "1 copy has the item type “Reference (not for loan)”: give them another type before deleting "
                     "it") in flashes(client)


def test_the_item_types_page_is_for_librarians(client, log_in_as):
    log_in_as("alice")

    assert client.get("/manage/item-types").status_code == 403
    assert client.post("/manage/item-types", data={"code": "x", "name": "X"}).status_code == 403


# ---- labels --------------------------------------------------------------------------------------------------


def test_each_label_has_a_spine_label_with_its_call_number_when_it_has_one(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.get(f"{BOOKS}/books/1", json=book())
    services.get(f"{BOOKS}/books/1/items", json=[copy(f"10000000{n:02}", call_number="823.914 ISH") for n in
                                                 range(1, 31)] + [copy("1000000099")])

    html = client.get("/manage/books/1/labels").get_data(as_text=True)

    assert html.count('alt="Barcode 10000000') == 31 and "31 labels" in html
    assert html.count('aria-label="Spine label: 823.914 ISH"') == 30
    assert "<span>823.914</span><span>ISH</span>" in html


def test_labels_for_the_new_copies_only(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.get(f"{BOOKS}/books/1", json=book())
    services.get(f"{BOOKS}/books/1/items", json=[copy("1000000001", call_number="823 ISH"), copy("1000000002")])

    html = client.get("/manage/books/1/labels?barcode=1000000002").get_data(as_text=True)

    assert 'alt="Barcode 1000000002"' in html and "1000000001" not in html and "Spine label" not in html
