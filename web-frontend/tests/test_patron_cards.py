"""Librarians' side of patron categories, library cards and contact details: the patron's page (category, card,
renewal, a lost card replaced after asking, the card to print, contact details, a first password given at the
desk), the Patron categories page, the desk finding a patron by card; and the patron's own Account page."""

import base64
import re

import pytest

from .conftest import BORROWS, NOTIFICATIONS, USERS, account, categories, json_body, listing, loan, patron

pytestmark = pytest.mark.usefixtures("services")


def flashes(client):
    with client.session_transaction() as session:
        return session.get("_flashes", [])


@pytest.fixture
def patron_page(client, log_in_as, services):
    """A librarian on alice's page, as the services describe her."""
    def arrange(**fields):
        log_in_as("boss", "librarian")
        services.get(f"{USERS}/users/alice", json=account(**fields))
        services.get(f"{USERS}/patron-categories", json=categories())
        services.get(f"{BORROWS}/patrons/alice", json=patron(active_loans=0))
        services.get(f"{BORROWS}/borrows", **listing([]))
        services.get(f"{BORROWS}/holds", **listing([]))

    return arrange


# ---- the patron's page -----------------------------------------------------------------------------------------


def test_the_patron_page_shows_category_card_and_contact_details(client, patron_page):
    patron_page(category="child", card_expires_on="2026-12-01", card_expired=True, phone="0123",
                postal_address="1 Rabbit Hole\nWonderland", staff_note="Prefers large print")

    html = client.get("/manage/users/alice").get_data(as_text=True)

    assert '<option selected value="child">Child</option>' in html
    assert html.count('id="csrf_token"') <= 1  # each other form's token has its prefix
    assert "P000000018" in html and "valid until 1 Dec 2026" in html and "expired</span>" in html
    assert 'href="/manage/users/alice/card"' in html and ">Renew the card</button>" in html
    assert 'href="/manage/users/alice/card/replacement">Replace lost card</a>' in html
    assert 'value="0123"' in html and "1 Rabbit Hole\nWonderland</textarea>" in html
    assert "Prefers large print</textarea>" in html
    assert 'type="date" value="2026-12-01"' in html


def test_the_patron_page_says_when_the_categories_cannot_be_had(client, patron_page, services):
    patron_page()
    services.replace("GET", f"{USERS}/patron-categories", status=503, json={"message": "Down"})

    response = client.get("/manage/users/alice")

    assert response.status_code == 200
    assert "The account service is unavailable right now" in response.get_data(as_text=True)


def test_a_librarian_moves_a_patron_to_another_category(client, log_in_as, services):
    log_in_as("boss", "librarian")
    changed = services.patch(f"{USERS}/users/alice", json=account(category="child"))

    response = client.post("/manage/users/alice/category", data={"category-category": "child"})

    assert json_body(changed.calls[0]) == {"category": "child"}
    assert response.headers["Location"] == "/manage/users/alice#card"
    assert flashes(client) == [("success", "alice is now in the category “child”.")]


def test_a_refused_category_says_why(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.patch(f"{USERS}/users/alice", status=400, json={
        "message": "Invalid input", "errors": {"category": "No patron category 'gone': choose one of adult, child"}})

    client.post("/manage/users/alice/category", data={"category-category": "gone"})

    assert flashes(client) == [("error", "Not changed: Invalid input")]


def test_contact_details_are_saved_and_an_empty_field_removes_one(client, log_in_as, services):
    log_in_as("boss", "librarian")
    changed = services.patch(f"{USERS}/users/alice", json=account())

    response = client.post("/manage/users/alice/contact", data={
        "contact-phone": " 0123 ", "contact-postal_address": "1 Rabbit Hole\r\nWonderland", "contact-staff_note": ""})

    assert json_body(changed.calls[0]) == {"phone": "0123", "postal_address": "1 Rabbit Hole\r\nWonderland",
                                           "staff_note": None}
    assert response.headers["Location"] == "/manage/users/alice#contact"


def test_refused_contact_details_are_shown_next_to_the_field_and_kept(client, patron_page, services):
    patron_page()
    services.patch(f"{USERS}/users/alice", status=400, json={
        "message": "Invalid input", "errors": {"postal_address": "Only letters, spaces and line breaks"}})

    response = client.post("/manage/users/alice/contact", data={"contact-postal_address": "Tab\there"})

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="contact-postal_address-error" class="error">Only letters, spaces and line breaks' in html
    assert "Tab\there</textarea>" in html


def test_renewing_a_card_says_until_when(client, log_in_as, services):
    log_in_as("boss", "librarian")
    renewed = services.post(f"{USERS}/users/alice/card/renewal", json=account(card_expires_on="2029-12-02"))

    response = client.post("/manage/users/alice/card/renewal")

    assert renewed.calls and response.headers["Location"] == "/manage/users/alice#card"
    assert flashes(client) == [("success", "Renewed: alice's card is valid until 2 Dec 2029.")]


@pytest.mark.parametrize("typed, sent, says", [
    ("2030-06-30", "2030-06-30", "The card is valid until 30 Jun 2030."),
    ("", None, "The card never expires now."),
])
def test_a_librarian_sets_the_card_s_last_day(client, log_in_as, services, typed, sent, says):
    log_in_as("boss", "librarian")
    changed = services.patch(f"{USERS}/users/alice", json=account(card_expires_on=sent))

    client.post("/manage/users/alice/card/expiry", data={"card-card_expires_on": typed})

    assert json_body(changed.calls[0]) == {"card_expires_on": sent}
    assert flashes(client) == [("success", says)]


def test_an_impossible_last_day_is_caught_before_asking(client, patron_page, services):
    patron_page()
    changed = services.patch(f"{USERS}/users/alice", json=account())

    response = client.post("/manage/users/alice/card/expiry", data={"card-card_expires_on": "30 Feb"})

    assert response.status_code == 400 and not changed.calls
    assert 'id="card-card_expires_on-error"' in response.get_data(as_text=True)


def test_replacing_a_lost_card_asks_first_then_offers_the_new_card_to_print(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{USERS}/users/alice", json=account())
    replaced = services.post(f"{USERS}/users/alice/card", json=account(card_number="P000000026"))

    asked = client.get("/manage/users/alice/card/replacement").get_data(as_text=True)
    assert not replaced.calls
    response = client.post("/manage/users/alice/card/replacement")

    assert "Replace alice&#39;s card?" in asked and "Card P000000018 stops\n      working at once" in asked
    assert replaced.calls and response.headers["Location"] == "/manage/users/alice/card"
    assert flashes(client) == [("success", "New card P000000026: the old one no longer works. Print the new card "
                                           "below.")]


def test_the_card_to_print_carries_a_code_128_barcode_of_its_number(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{USERS}/users/alice", json=account())

    html = client.get("/manage/users/alice/card").get_data(as_text=True)

    assert "Alice Liddell" in html and "Valid until 1 Jan 2029" in html
    image = re.search(r'src="data:image/svg\+xml;base64,([^"]+)" alt="Barcode P000000018"', html)
    assert image and b"<svg" in base64.b64decode(image.group(1))


def test_an_account_without_a_card_has_none_to_print_and_is_offered_one(client, patron_page, services):
    patron_page(card_number=None, card_expires_on=None)

    page = client.get("/manage/users/alice").get_data(as_text=True)
    response = client.get("/manage/users/alice/card")

    assert "No library card yet." in page and ">Give a card</a>" in page
    assert response.status_code == 302 and response.headers["Location"] == "/manage/users/alice#card"


@pytest.mark.parametrize("fields, offered", [
    ({"has_password": False, "email": None}, True),
    ({"has_password": False, "email": "walkin@example.org"}, False),  # the welcome link goes there
    ({"has_password": True, "email": None}, False),
    ({"has_password": False, "email": None, "active": False}, False),
])
def test_give_a_password_is_offered_only_to_a_patron_no_link_can_reach(client, patron_page, fields, offered):
    patron_page(**fields)

    html = client.get("/manage/users/alice").get_data(as_text=True)

    assert ('action="/manage/users/alice/desk-password"' in html) is offered


def test_a_password_given_at_the_desk_is_shown_once_and_kept_nowhere(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.post(f"{USERS}/users/alice/desk-password", status=201, json={
        "username": "alice", "password": "k7m2-p9qx-4hvt", "message": "Give alice this password"})

    response = client.post("/manage/users/alice/desk-password")

    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "<code>k7m2-p9qx-4hvt</code>" in response.get_data(as_text=True)
    with client.session_transaction() as session:
        assert "k7m2-p9qx-4hvt" not in repr(dict(session))


def test_a_refused_desk_password_says_why(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.post(f"{USERS}/users/alice/desk-password", status=409,
                  json={"message": "alice has a password already: only they can change it, or send them a reset link"})

    response = client.post("/manage/users/alice/desk-password")

    assert response.status_code == 302
    assert flashes(client)[0][1].startswith("No password given: alice has a password already")


def test_the_desk_registers_a_patron_in_a_category_with_contact_details(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{USERS}/patron-categories", json=categories())
    registered = services.post(f"{USERS}/users", status=201, json=account("kid", category="child"))

    page = client.get("/manage/patrons/new").get_data(as_text=True)
    client.post("/manage/patrons/new", data={"username": "kid", "first_name": "Kit", "last_name": "Id",
                                             "email": "", "category": "child", "phone": " 0123 ",
                                             "postal_address": "2 Main Street\r\nTown"})

    assert '<option selected value="adult">Adult</option>' in page  # the default, chosen for them
    assert json_body(registered.calls[0]) == {"username": "kid", "first_name": "Kit", "last_name": "Id",
                                              "category": "child", "phone": "0123",
                                              "postal_address": "2 Main Street\r\nTown"}


def test_without_the_categories_the_desk_still_registers_in_the_default_one(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{USERS}/patron-categories", status=503, json={"message": "Down"})

    page = client.get("/manage/patrons/new")

    assert page.status_code == 200 and 'name="category"' not in page.get_data(as_text=True)


# ---- the Patron categories page --------------------------------------------------------------------------------


def test_the_categories_page_lists_them_and_offers_to_delete_only_an_empty_one(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{USERS}/patron-categories", json=categories())

    html = client.get("/manage/patron-categories").get_data(as_text=True)

    assert "Patron categories (3)" in html and "default</span>" in html
    assert 'action="/manage/patron-categories/child/delete"' in html
    assert 'action="/manage/patron-categories/adult/delete"' not in html  # the default, with a patron in it
    assert 'action="/manage/patron-categories/adult/rename"' in html


def test_librarians_add_rename_and_delete_categories(client, log_in_as, services):
    log_in_as("boss", "librarian")
    added = services.post(f"{USERS}/patron-categories", status=201,
                          json={"code": "senior", "name": "Senior", "patrons": 0, "default": False})
    renamed = services.patch(f"{USERS}/patron-categories/senior",
                             json={"code": "senior", "name": "Over 65", "patrons": 0, "default": False})
    deleted = services.delete(f"{USERS}/patron-categories/senior", status=204)

    client.post("/manage/patron-categories", data={"code": "senior", "name": "Senior"})
    client.post("/manage/patron-categories/senior/rename", data={"name": "Over 65"})
    client.post("/manage/patron-categories/senior/delete")

    assert json_body(added.calls[0]) == {"code": "senior", "name": "Senior"}
    assert json_body(renamed.calls[0]) == {"name": "Over 65"}
    assert deleted.calls
    assert [message for _category, message in flashes(client)] == [
        "Added the category “Senior”.", "Renamed to “Over 65”.", "Deleted the category “senior”."]


def test_a_category_that_is_taken_or_not_empty_says_why(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{USERS}/patron-categories", json=categories())
    services.post(f"{USERS}/patron-categories", status=409,
                  json={"message": "There is a category 'child' already", "errors": {"code": "This code is taken"}})
    services.delete(f"{USERS}/patron-categories/adult", status=409,
                    json={"message": "1 patron is in “Adult”: move them to another category first"})

    added = client.post("/manage/patron-categories", data={"code": "child", "name": "Kids"})
    client.post("/manage/patron-categories/adult/delete")

    assert added.status_code == 400
    assert 'id="code-error" class="error">This code is taken' in added.get_data(as_text=True)
    assert flashes(client) == [("error", "Not deleted: 1 patron is in “Adult”: move them to another category first")]


def test_a_code_the_service_would_refuse_is_caught_before_asking(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{USERS}/patron-categories", json=categories())

    response = client.post("/manage/patron-categories", data={"code": "Big Kids", "name": "Big kids"})

    assert response.status_code == 400
    assert not [call for call in services.calls if call.request.method == "POST"]


# ---- the desk --------------------------------------------------------------------------------------------------


def desk(client, data):
    return client.post("/manage/desk/checkout", data=data, headers={"HX-Request": "true"})


def test_the_desk_lends_to_the_holder_of_a_scanned_card(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{USERS}/cards/P000000018", json=account())
    lent = services.post(f"{BORROWS}/checkout", status=201, json=loan(title="Emma"))

    html = desk(client, {"patron": "P000000018", "barcode": "1000000001"}).get_data(as_text=True)

    assert json_body(lent.calls[0]) == {"barcode": "1000000001", "username": "alice"}
    assert "“Emma”" in html


def test_a_card_reported_lost_is_refused_at_the_desk_with_the_reason(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{USERS}/cards/P000000018", status=409, json={
        "message": "Card P000000018 was reported lost and replaced on 03 Dec 2026 (alice's old card): it is no "
                   "longer valid; ask for the new card"})
    lent = services.post(f"{BORROWS}/checkout", status=201, json=loan())

    html = desk(client, {"patron": "P000000018", "barcode": "1000000001"}).get_data(as_text=True)

    assert "reported lost and replaced" in html and not lent.calls


def test_a_username_with_digits_that_is_no_card_is_still_found(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{USERS}/cards/alice2026", status=404, json={"message": "No card ALICE2026"})
    services.get(f"{USERS}/users", **listing([account("alice2026")]))
    lent = services.post(f"{BORROWS}/checkout", status=201, json=loan(username="alice2026"))

    desk(client, {"patron": "alice2026", "barcode": "1000000001"})

    assert json_body(lent.calls[0])["username"] == "alice2026"


# ---- the patron's own pages ------------------------------------------------------------------------------------


def test_the_login_page_takes_a_username_card_number_or_e_mail(client):
    html = client.get("/login").get_data(as_text=True)

    assert '<label for="username">Username, card number or e-mail</label>' in html


def test_the_account_page_shows_the_card_and_contact_details(client, log_in_as, services):
    log_in_as("alice")
    services.get(f"{USERS}/users/alice", json=account(phone="0123", postal_address="1 Rabbit Hole\nWonderland"))
    services.get(f"{BORROWS}/patrons/alice", json=patron())
    services.get(f"{NOTIFICATIONS}/preferences", json=[])

    html = client.get("/account").get_data(as_text=True)

    assert "P000000018" in html and "valid until 1 Jan 2029" in html
    assert 'alt="Barcode P000000018"' in html
    assert "0123" in html and '<dd class="lines">1 Rabbit Hole\nWonderland</dd>' in html
    assert "ask at the desk" in html


def test_the_patron_page_shows_an_address_waiting_beside_the_confirmed_one(client, patron_page):
    patron_page(email="a@x.org", email_verified=True, pending_email="b@y.org")

    html = client.get("/manage/users/alice").get_data(as_text=True)

    assert "a@x.org" in html and "confirmed</span>" in html and "waiting for confirmation: b@y.org" in html
