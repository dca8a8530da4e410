"""Library cards: every new account gets one (a number from a sequence with a check digit, valid
CARD_VALIDITY_DAYS); the desk finds a patron by it; a lost card is replaced and its number refused from then on;
librarians renew it; patrons log in with it as with their username or confirmed e-mail address."""

import re
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import werkzeug.security

from user_service import cards

from .conftest import registration

INVALID_LOGIN = {"message": "Invalid username or password"}
NOON = datetime(2026, 12, 3, 12, tzinfo=timezone.utc)


@pytest.fixture
def boss(make_user, login):
    make_user("boss", role="librarian")
    return login("boss")


@pytest.fixture
def today(monkeypatch):
    """The library's clock, for the desk's registrations and the answers that say whether a card has expired (not
    for logging in: tokens issued at another time would not be accepted now)."""
    moment = {"now": NOON}
    for where in ("user_service.views.users.now", "user_service.schemas.now"):
        monkeypatch.setattr(where, lambda: moment["now"])
    return moment


def card_of(client, headers, username="alice"):
    return client.get(f"/users/{username}", headers=headers).json["card_number"]


def log_in(client, identifier, password="correct horse"):
    return client.post("/login", json={"username": identifier, "password": password})


# ---- numbers ---------------------------------------------------------------------------------------------------


def test_the_check_digit_is_luhn_s():
    assert cards.luhn_check_digit("7992739871") == "3"  # the textbook example
    assert cards.card_number_for(1) == "P000000018"
    assert cards.card_number_for(123456789) == "P1234567897"  # beyond eight digits, still unique and checked


@pytest.mark.parametrize("slip", ["P000000019", "P000000081"])  # a wrong last digit; two digits swapped
def test_the_check_digit_catches_a_typing_slip(slip):
    assert not cards.has_valid_check_digit(slip)
    assert cards.has_valid_check_digit("P000000018")


def test_every_new_account_gets_its_own_card_valid_for_the_setting(client, boss, today):
    signed_up = client.post("/register", json=registration()).json["data"]
    desk = client.post("/users", json={"username": "walkin", "first_name": "W", "last_name": "In"}, headers=boss).json

    for account in (signed_up, desk):
        assert re.fullmatch(r"P[0-9]{9}", account["card_number"]) and cards.has_valid_check_digit(
            account["card_number"])
        assert account["card_expired"] is False
    assert desk["card_expires_on"] == (date(2026, 12, 3) + timedelta(days=1095)).isoformat()
    issued_on = datetime.fromisoformat(signed_up["created_at"]).date()
    assert date.fromisoformat(signed_up["card_expires_on"]) - issued_on == timedelta(days=1095)
    assert signed_up["card_number"] != desk["card_number"]


def test_card_validity_comes_from_the_setting(app, client, boss, today, monkeypatch):
    from library_common import deps

    deps.replace(app, card_validity_days=30)
    desk = client.post("/users", json={"username": "walkin", "first_name": "W", "last_name": "In"}, headers=boss).json

    assert desk["card_expires_on"] == "2027-01-02"


def test_a_validity_of_no_days_is_refused_at_start_up(app):
    from user_service import build_deps

    with pytest.raises(RuntimeError, match="CARD_VALIDITY_DAYS must be at least 1"):
        build_deps({**app.config, "CARD_VALIDITY_DAYS": 0})


def test_a_username_shaped_like_a_card_number_is_refused(client, boss):
    online = client.post("/register", json=registration("P000000026"))
    desk = client.post("/users", json={"username": "p123456789", "first_name": "P", "last_name": "Q"}, headers=boss)

    assert online.status_code == desk.status_code == 400
    assert online.json["errors"] == {"username": "That looks like a library card number; choose another username"}
    assert client.post("/register", json=registration("P12345")).status_code == 201  # too short to be one


# ---- the desk's lookup -----------------------------------------------------------------------------------------


def test_the_desk_finds_a_patron_by_card(client, boss, make_user):
    make_user("alice")
    number = card_of(client, boss)

    found = client.get(f"/cards/{number}", headers=boss)
    typed_lower = client.get(f"/cards/{number.lower()}", headers=boss)

    assert found.status_code == typed_lower.status_code == 200
    assert found.json["username"] == typed_lower.json["username"] == "alice"


def test_only_librarians_look_cards_up(client, make_user, login, boss):
    make_user("alice")
    number = card_of(client, boss)

    assert client.get(f"/cards/{number}", headers=login("alice")).status_code == 403
    assert client.get(f"/cards/{number}").status_code == 401


@pytest.mark.parametrize("number, says", [
    ("P999999998", "No card P999999998"),
    ("P999999990", "its check digit is wrong, so a digit was probably mistyped"),
    ("ab", "is not a card number"),
    ("%00", "is not a card number"),
    ("X" * 21, "is not a card number"),
])
def test_an_unknown_card_is_404_saying_why(client, boss, number, says):
    response = client.get(f"/cards/{number}", headers=boss)

    assert response.status_code == 404 and says in response.json["message"]


def test_the_user_search_finds_a_whole_card_number_only(client, boss, make_user):
    make_user("alice")
    number = card_of(client, boss)

    whole = client.get(f"/users?q={number.lower()}", headers=boss).json
    start = client.get(f"/users?q={number[:6]}", headers=boss).json

    assert [user["username"] for user in whole] == ["alice"]
    assert start == []


# ---- a lost card -----------------------------------------------------------------------------------------------


def test_a_lost_card_is_replaced_and_its_number_refused_everywhere(app, client, boss, make_user):
    make_user("alice")
    before = client.get("/users/alice", headers=boss).json

    replaced = client.post("/users/alice/card", headers=boss)

    assert replaced.status_code == 200
    new_number = replaced.json["card_number"]
    assert new_number != before["card_number"] and cards.has_valid_check_digit(new_number)
    assert replaced.json["card_expires_on"] == before["card_expires_on"]  # a replacement is not a renewal
    lookup = client.get(f"/cards/{before['card_number']}", headers=boss)
    assert lookup.status_code == 409
    assert re.fullmatch(rf"Card {before['card_number']} was reported lost and replaced on \d\d \w\w\w \d{{4}} "
                        r"\(alice's old card\): it is no longer valid; ask for the new card", lookup.json["message"])
    assert log_in(client, before["card_number"]).json == INVALID_LOGIN
    assert log_in(client, before["card_number"]).status_code == 401
    assert log_in(client, new_number).status_code == 200
    assert client.get(f"/users?q={before['card_number']}", headers=boss).json == []
    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        assert session.execute(sa.text("SELECT username FROM retired_cards")).scalars().all() == ["alice"]
        session.rollback()


def test_replacing_twice_retires_both_numbers(client, boss, make_user):
    make_user("alice")
    first = card_of(client, boss)
    second = client.post("/users/alice/card", headers=boss).json["card_number"]
    third = client.post("/users/alice/card", headers=boss).json["card_number"]

    assert len({first, second, third}) == 3
    assert [client.get(f"/cards/{number}", headers=boss).status_code for number in (first, second, third)] == [
        409, 409, 200]


def test_only_librarians_replace_cards(client, boss, make_user, login):
    make_user("alice")

    assert client.post("/users/alice/card", headers=login("alice")).status_code == 403
    assert client.post("/users/nobody/card", headers=boss).status_code == 404


def test_an_account_from_before_cards_gets_its_first_one(app, client, boss, make_user):
    make_user("alice")
    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        session.execute(sa.text("UPDATE users SET card_number = NULL, card_expires_on = NULL"))
        session.commit()

    issued = client.post("/users/alice/card", headers=boss).json

    assert cards.has_valid_check_digit(issued["card_number"]) and issued["card_expires_on"] is None
    assert issued["card_expired"] is False  # no expiry: never expired


# ---- expiry ----------------------------------------------------------------------------------------------------


def test_librarians_renew_a_card_and_its_last_day_still_counts(client, boss, make_user, login, today):
    make_user("alice")

    renewed = client.patch("/users/alice", json={"card_expires_on": "2026-12-03"}, headers=boss)
    today["now"] = NOON + timedelta(hours=11, minutes=59)  # 23:59 on its last day
    on_the_day = client.get("/users/alice", headers=login("alice")).json
    today["now"] = NOON + timedelta(hours=12)  # midnight
    after = client.get("/users/alice", headers=login("alice")).json

    assert renewed.status_code == 200 and renewed.json["card_expires_on"] == "2026-12-03"
    assert on_the_day["card_expired"] is False
    assert after["card_expired"] is True
    never = client.patch("/users/alice", json={"card_expires_on": None}, headers=boss).json
    assert (never["card_expires_on"], never["card_expired"]) == (None, False)


def test_renewing_makes_the_card_valid_for_the_setting_from_today(client, boss, make_user, today, monkeypatch):
    make_user("alice")
    monkeypatch.setattr("user_service.views.cards.now", lambda: today["now"])
    client.patch("/users/alice", json={"card_expires_on": "2020-01-31"}, headers=boss)

    renewed = client.post("/users/alice/card/renewal", headers=boss)

    assert renewed.status_code == 200
    assert (renewed.json["card_expires_on"], renewed.json["card_expired"]) == ("2029-12-02", False)
    assert client.post("/users/nobody/card/renewal", headers=boss).status_code == 404


def test_patrons_cannot_renew_their_own_card(client, make_user, login):
    make_user("alice")

    response = client.patch("/users/alice", json={"card_expires_on": "2099-01-01"}, headers=login("alice"))

    assert response.status_code == 403
    assert client.post("/users/alice/card/renewal", headers=login("alice")).status_code == 403


@pytest.mark.parametrize("value", ["tomorrow", "2026-02-30", 20261203, ""])
def test_an_impossible_expiry_is_400(client, boss, make_user, value):
    make_user("alice")

    response = client.patch("/users/alice", json={"card_expires_on": value}, headers=boss)

    assert response.status_code == 400 and "card_expires_on" in response.json["errors"]


# ---- logging in ------------------------------------------------------------------------------------------------


def verified_address(client, link_for, email="Alice@Example.org"):
    client.post("/register", json=registration(email=email))
    token = link_for("account.email_verification_requested").json["token"]
    assert client.post("/email-verifications", json={"token": token}).status_code == 200


def test_a_patron_logs_in_with_their_card_number_in_any_letter_case(client, boss, make_user):
    make_user("alice")
    number = card_of(client, boss)

    for typed in (number, number.lower(), f" {number} "):
        response = log_in(client, typed)
        assert response.status_code == 200 and response.json["user"]["username"] == "alice"


def test_a_patron_logs_in_with_their_confirmed_address_in_any_letter_case(client, link_for):
    verified_address(client, link_for)

    response = log_in(client, "alice@EXAMPLE.org")

    assert response.status_code == 200 and response.json["user"]["username"] == "alice"


def test_an_unconfirmed_address_logs_nobody_in(client):
    client.post("/register", json=registration(email="alice@example.org"))

    response = log_in(client, "alice@example.org")

    assert response.status_code == 401 and response.json == INVALID_LOGIN
    assert log_in(client, "alice").status_code == 200


def test_a_wrong_password_with_a_card_or_address_gets_the_same_answer(client, link_for):
    verified_address(client, link_for)
    number = client.post("/login", json={"username": "alice", "password": "correct horse"}).json["user"]["card_number"]

    answers = [log_in(client, identifier, "wrong password") for identifier in (number, "alice@example.org", "alice")]

    assert {answer.status_code for answer in answers} == {401}
    assert all(answer.json == INVALID_LOGIN for answer in answers)


@pytest.mark.parametrize("identifier, status", [
    ("card", 200), ("CARD", 200), ("old card", 401), ("alice@example.org", 200), ("bob@example.org", 401),
    ("P999999998", 401), ("nobody@example.org", 401),
])
def test_every_login_by_card_or_address_computes_one_password_hash(client, boss, link_for, monkeypatch, identifier,
                                                                   status):
    """As test_login's: a refusal without the slow hash would tell which cards and addresses are known."""
    verified_address(client, link_for)
    client.post("/register", json=registration("bob", email="bob@example.org"))  # never confirmed
    old = card_of(client, boss)
    new = client.post("/users/alice/card", headers=boss).json["card_number"]
    typed = {"card": new, "CARD": new.lower(), "old card": old}.get(identifier, identifier)
    computed = []
    hash_internal = werkzeug.security._hash_internal
    monkeypatch.setattr(werkzeug.security, "_hash_internal",
                        lambda *args: computed.append(args[0]) or hash_internal(*args))

    response = log_in(client, typed)

    assert response.status_code == status
    assert computed == ["pbkdf2:sha256:1000"]


def test_a_card_number_wins_over_an_old_username_of_the_same_text(app, client, boss, make_user):
    """Only an account from before cards can have such a username (registration refuses one now)."""
    make_user("alice")
    make_user("old-one", password="old one's password")
    number = card_of(client, boss)
    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        session.execute(sa.text("UPDATE users SET username = :number WHERE username = 'old-one'"), {"number": number})
        session.commit()

    assert log_in(client, number).json["user"]["username"] == "alice"
    assert log_in(client, number, "old one's password").status_code == 401


def test_a_deactivated_patron_does_not_log_in_by_card_either(client, boss, make_user):
    make_user("alice")
    number = card_of(client, boss)
    client.patch("/users/alice", json={"active": False}, headers=boss)

    assert log_in(client, number).status_code == 403


# ---- contact details -------------------------------------------------------------------------------------------


def test_librarians_keep_contact_details_and_the_holder_sees_all_but_the_note(client, boss, make_user, login):
    make_user("alice")

    changed = client.patch("/users/alice", headers=boss, json={
        "phone": " +44 20 7946 0000 ", "postal_address": "1 Rabbit Hole\r\nWonderland\r\n",
        "staff_note": "Prefers large print.\nAsk about the reading group."})
    own = client.get("/users/alice", headers=login("alice")).json
    me = client.get("/me", headers=login("alice")).json
    logged_in = log_in(client, "alice").json["user"]

    assert changed.status_code == 200
    assert changed.json["phone"] == "+44 20 7946 0000"
    assert changed.json["postal_address"] == "1 Rabbit Hole\nWonderland"
    assert changed.json["staff_note"] == "Prefers large print.\nAsk about the reading group."
    assert client.get("/users/alice", headers=boss).json["staff_note"] == changed.json["staff_note"]
    assert client.get("/users?q=alice", headers=boss).json[0]["staff_note"] == changed.json["staff_note"]
    for answer in (own, me, logged_in):
        assert (answer["phone"], answer["postal_address"]) == ("+44 20 7946 0000", "1 Rabbit Hole\nWonderland")
        assert "staff_note" not in answer


@pytest.mark.parametrize("field, value", [("phone", "0123"), ("postal_address", "Here"), ("staff_note", "Mine")])
def test_patrons_change_no_contact_details_of_their_own(client, make_user, login, field, value):
    make_user("alice")

    response = client.patch("/users/alice", json={field: value}, headers=login("alice"))

    assert response.status_code == 403 and "ask at the desk" in response.json["message"]


@pytest.mark.parametrize("field, value", [
    ("phone", "0123\n4567"), ("phone", "0" * 31), ("phone", "tab\there"),
    ("postal_address", "1 Rabbit Hole\tWonderland"), ("postal_address", "x" * 301),
    ("postal_address", "line\u2028separator"), ("postal_address", "nul\x00"), ("postal_address", "\x1b[31mred"),
    ("staff_note", "x" * 1001), ("staff_note", "bell\x07"),
])
def test_impossible_contact_details_are_400(client, boss, make_user, field, value):
    make_user("alice")

    response = client.patch("/users/alice", json={field: value}, headers=boss)

    assert response.status_code == 400 and field in response.json["errors"]


def test_an_empty_detail_or_null_removes_it(client, boss, make_user):
    make_user("alice")
    client.patch("/users/alice", json={"phone": "0123", "postal_address": "Here", "staff_note": "Note"}, headers=boss)

    cleared = client.patch("/users/alice", json={"phone": "  ", "postal_address": None, "staff_note": ""},
                           headers=boss).json

    assert (cleared["phone"], cleared["postal_address"], cleared["staff_note"]) == (None, None, None)


def test_the_desk_registers_a_patron_with_contact_details(client, boss):
    response = client.post("/users", headers=boss, json={
        "username": "walkin", "first_name": "Walk", "last_name": "In", "phone": "0123",
        "postal_address": "2 Main Street\nTown", "staff_note": "Showed a passport"})

    assert response.status_code == 201
    assert (response.json["phone"], response.json["postal_address"], response.json["staff_note"]) == (
        "0123", "2 Main Street\nTown", "Showed a passport")


def test_deleting_an_account_forgets_its_contact_details_and_card(app, client, boss, make_user):
    make_user("alice")
    client.patch("/users/alice", json={"phone": "0123", "postal_address": "Here", "staff_note": "Note",
                                       "active": False}, headers=boss)
    number = card_of(client, boss)
    client.post("/users/alice/card", headers=boss)  # the lost card's record stays, naming the tombstone alone

    assert client.delete("/users/alice", headers=boss).status_code == 204

    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        row = session.execute(sa.text("SELECT phone, postal_address, staff_note, card_number, card_expires_on, "
                                      "category FROM users WHERE username = 'alice'")).one()
        session.rollback()
    assert tuple(row) == (None, None, None, None, None, "adult")
    assert client.get(f"/cards/{number}", headers=boss).status_code == 409


# ---- a first password given at the desk ------------------------------------------------------------------------


def test_the_desk_gives_a_patron_without_an_address_a_first_password_once(app, client, boss, recorded):
    registered = client.post("/users", json={"username": "walkin", "first_name": "Walk", "last_name": "In"},
                             headers=boss).json

    given = client.post("/users/walkin/desk-password", headers=boss)
    again = client.post("/users/walkin/desk-password", headers=boss)

    assert given.status_code == 201 and given.headers["Cache-Control"] == "no-store"
    password = given.json["password"]
    assert re.fullmatch(r"[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{4}", password)
    assert given.json["username"] == "walkin" and "will not be shown again" in given.json["message"]
    assert log_in(client, "walkin", password).status_code == 200
    assert registered["has_password"] is False
    assert client.get("/users/walkin", headers=boss).json["has_password"] is True
    assert again.status_code == 409 and "has a password already" in again.json["message"]
    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        stored = session.execute(sa.text("SELECT password_hash FROM users WHERE username = 'walkin'")).scalar()
        logged = session.execute(sa.text("SELECT payload::text FROM events")).scalars().all()
        session.rollback()
    assert password not in stored and stored.startswith("pbkdf2:")
    assert not any(password in payload for payload in logged)
    assert recorded("account.password_changed") == []


def test_no_desk_password_for_an_account_with_a_password_or_an_address(client, boss, make_user):
    make_user("alice")
    client.post("/users", json={"username": "mailed", "first_name": "M", "last_name": "Ailed",
                                "email": "mailed@example.org"}, headers=boss)

    has_password = client.post("/users/alice/desk-password", headers=boss)
    has_address = client.post("/users/mailed/desk-password", headers=boss)

    assert has_password.status_code == has_address.status_code == 409
    assert "e-mail address" in has_address.json["message"]


def test_only_librarians_give_desk_passwords(client, boss, make_user, login):
    make_user("alice")
    client.post("/users", json={"username": "walkin", "first_name": "Walk", "last_name": "In"}, headers=boss)

    assert client.post("/users/walkin/desk-password", headers=login("alice")).status_code == 403
    assert client.post("/users/walkin/desk-password").status_code == 401
    assert client.post("/users/nobody/desk-password", headers=boss).status_code == 404


def test_a_card_s_last_day_is_the_library_s_own_day(app):
    noon_utc = datetime(2026, 12, 4, 12, tzinfo=timezone.utc)  # already the 5th in Auckland
    with app.app_context():
        before = app.config["LIBRARY_TIMEZONE"]
        try:
            app.config["LIBRARY_TIMEZONE"] = "Pacific/Auckland"
            in_auckland = cards.library_today(noon_utc)
        finally:
            app.config["LIBRARY_TIMEZONE"] = before
        in_utc = cards.library_today(noon_utc)

    assert (in_utc, in_auckland) == (date(2026, 12, 4), date(2026, 12, 5))
