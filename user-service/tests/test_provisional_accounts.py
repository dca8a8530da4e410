"""An account registered online is provisional (may log in and hold, not borrow) until its address is confirmed
(SELF_REGISTRATION=verified, the default) or a librarian approves it (verified, approval); `open` approves at once.
borrow-service reads `provisional` and `awaiting` from the account."""

import pytest

from library_common import deps
from user_service import create_app

from .conftest import FAST_HASH, registration


@pytest.fixture
def mode(app):
    """`mode(name)`: SELF_REGISTRATION for this test (the fixture in conftest builds the default again after it)."""
    return lambda name: deps.replace(app, self_registration=name)


def sign_up(client, username="alice", **fields):
    response = client.post("/register", json=registration(username, email=f"{username}@example.org", **fields))
    assert response.status_code == 201, response.json
    return response.json["data"]


def confirm_address(client, link_for):
    token = link_for("account.email_verification_requested").json["token"]
    response = client.post("/email-verifications", json={"token": token})
    assert response.status_code == 200, response.json
    return response.json


def standing(account):
    return account["provisional"], account["awaiting"]


def test_a_sign_up_is_provisional_until_its_address_is_confirmed(client, login, recorded, link_for):
    signed_up = sign_up(client)

    assert standing(signed_up) == (True, "email_confirmation")
    assert standing(client.get("/me", headers=login("alice")).json) == (True, "email_confirmation")
    assert standing(confirm_address(client, link_for)) == (False, None)
    assert recorded("account.approved") == [{}]


def test_under_approval_confirming_the_address_is_not_enough(client, make_user, login, recorded, mode, link_for):
    mode("approval")
    make_user("boss", role="librarian")
    sign_up(client)

    assert standing(confirm_address(client, link_for)) == (True, "librarian_approval")
    approved = client.post("/users/alice/approval", headers=login("boss"))
    again = client.post("/users/ALICE/approval", headers=login("boss"))

    assert approved.status_code == again.status_code == 200
    assert standing(approved.json) == standing(again.json) == (False, None)
    assert recorded("account.approved") == [{}]


def test_a_librarian_approves_before_the_address_is_confirmed(client, make_user, login, recorded, link_for):
    make_user("boss", role="librarian")
    sign_up(client)

    assert standing(client.post("/users/alice/approval", headers=login("boss")).json) == (False, None)
    assert standing(confirm_address(client, link_for)) == (False, None)
    assert recorded("account.approved") == [{}]


def test_under_open_a_sign_up_may_borrow_at_once(client, recorded, mode):
    mode("open")

    assert standing(sign_up(client)) == (False, None)
    assert recorded("account.approved") == []


def test_desk_registrations_librarians_and_accounts_made_otherwise_are_not_provisional(client, make_user, login):
    make_user("boss", role="librarian")
    make_user("made")  # the CLI's and the bootstrap librarian's way: accounts.register
    desk = client.post("/users", json={"username": "walkin", "first_name": "Walk", "last_name": "In"},
                       headers=login("boss"))

    assert standing(desk.json) == (False, None)
    assert standing(client.get("/users/made", headers=login("boss")).json) == (False, None)
    assert standing(client.get("/me", headers=login("boss")).json) == (False, None)


def test_only_librarians_approve(client, make_user, login):
    make_user("boss", role="librarian")
    sign_up(client)

    assert client.post("/users/alice/approval").status_code == 401
    assert client.post("/users/alice/approval", headers=login("alice")).status_code == 403
    assert client.post("/users/nobody/approval", headers=login("boss")).status_code == 404
    assert client.get("/me", headers=login("alice")).json["provisional"] is True


def test_librarians_list_the_accounts_waiting_for_approval(client, make_user, login):
    make_user("boss", role="librarian")
    sign_up(client, "alice")
    sign_up(client, "bob")
    client.post("/users/bob/approval", headers=login("boss"))

    waiting = client.get("/users", query_string={"provisional": "true"}, headers=login("boss"))
    approved = client.get("/users", query_string={"provisional": "false"}, headers=login("boss"))

    assert [user["username"] for user in waiting.json] == ["alice"]
    assert [user["username"] for user in approved.json] == ["bob", "boss"]


def test_an_unknown_mode_is_refused_at_start_up(app):
    with pytest.raises(RuntimeError, match="SELF_REGISTRATION must be one of open, verified, approval"):
        create_app({"DATABASE_URL": app.config["DATABASE_URL"], "PASSWORD_HASH_METHOD": FAST_HASH,
                    "SELF_REGISTRATION": "opne", "TESTING": True})
