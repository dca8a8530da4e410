"""An optional e-mail address per account: unique whatever its letter case, verified by a signed, expiring link
that is bound to the account and the address; the events that ask notification-service to mail the links."""

from datetime import datetime, timedelta, timezone

import pytest

from user_service import create_app

from .conftest import FAST_HASH, registration

EXPIRED_OR_USED = "This link has expired or was already used"


def verification_token(recorded, index=-1):
    return recorded("account.email_verification_requested")[index]["token"]


def verify(client, token):
    return client.post("/email-verifications", json={"token": token})


def test_signing_up_with_an_address_asks_for_its_verification_link_to_be_mailed(client, recorded):
    response = client.post("/register", json=registration(email="  Alice@Example.org "))

    assert response.status_code == 201
    assert (response.json["data"]["email"], response.json["data"]["email_verified"]) == ("Alice@Example.org", False)
    [event] = recorded("account.email_verification_requested")
    assert set(event) == {"username", "first_name", "email", "token", "expires_at", "previous_email"}
    assert (event["username"], event["first_name"], event["email"], event["previous_email"]) == (
        "alice", "Alice", "Alice@Example.org", None)
    expires_at = datetime.fromisoformat(event["expires_at"])
    assert timedelta(hours=47) < expires_at - datetime.now(timezone.utc) <= timedelta(hours=48)


def test_signing_up_without_an_address_mails_nothing(client, recorded):
    response = client.post("/register", json=registration())

    assert (response.json["data"]["email"], response.json["data"]["email_verified"]) == (None, False)
    assert recorded("account.email_verification_requested") == []


def test_the_link_verifies_the_address_once_and_using_it_again_changes_nothing(client, recorded, login):
    client.post("/register", json=registration(email="alice@example.org"))
    token = verification_token(recorded)

    first, again = verify(client, token), verify(client, token)

    assert first.status_code == again.status_code == 200
    assert (first.json["username"], first.json["email_verified"]) == ("alice", True)
    assert recorded("account.email_verified") == [{"username": "alice", "email": "alice@example.org"}]
    assert client.get("/me", headers=login("alice")).json["email_verified"] is True


def test_the_link_expires(client, recorded, clock):
    client.post("/register", json=registration(email="alice@example.org"))
    token = verification_token(recorded)

    clock["now"] += timedelta(hours=48, minutes=1)
    late = verify(client, token)

    assert late.status_code == 400 and late.json["message"] == EXPIRED_OR_USED
    clock["now"] -= timedelta(minutes=2)
    assert verify(client, token).status_code == 200


@pytest.mark.parametrize("tamper", [
    lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
    lambda token: "x" + token,
    lambda token: token.split(".")[0],
])
def test_a_tampered_link_verifies_nothing(client, recorded, tamper):
    client.post("/register", json=registration(email="alice@example.org"))

    response = verify(client, tamper(verification_token(recorded)))

    assert response.status_code == 400 and response.json["message"] == EXPIRED_OR_USED
    assert recorded("account.email_verified") == []


def test_a_link_signed_with_another_key_verifies_nothing(app, client, recorded):
    other = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "PASSWORD_HASH_METHOD": FAST_HASH,
                        "TESTING": True, "SECRET_KEY": "another-secret-key-of-another-library"})
    other.test_client().post("/register", json=registration(email="alice@example.org"))

    assert verify(client, verification_token(recorded)).status_code == 400


def test_a_link_for_an_old_address_does_not_verify_the_new_one(client, recorded, login):
    client.post("/register", json=registration(email="old@example.org"))
    old_link = verification_token(recorded)
    changed = client.patch("/users/alice", json={"email": "new@example.org", "current_password": "correct horse"},
                           headers=login("alice"))
    assert changed.status_code == 200 and changed.json["email_verified"] is False

    refused = verify(client, old_link)

    assert refused.status_code == 400 and "another e-mail address" in refused.json["message"]
    assert verify(client, verification_token(recorded)).json["email"] == "new@example.org"


def test_changing_a_verified_address_unverifies_it_and_names_the_old_one_for_a_warning(client, recorded, login):
    client.post("/register", json=registration(email="old@example.org"))
    verify(client, verification_token(recorded))

    changed = client.patch("/users/alice", json={"email": "new@example.org", "current_password": "correct horse"},
                           headers=login("alice"))

    assert (changed.json["email"], changed.json["email_verified"]) == ("new@example.org", False)
    assert recorded("account.email_verification_requested")[-1]["previous_email"] == "old@example.org"


@pytest.mark.parametrize("current, problem", [(None, "Incorrect password"), ("wrong guess", "Incorrect password")])
def test_your_own_address_changes_only_with_your_current_password(client, make_user, login, recorded, current,
                                                                  problem):
    make_user("alice", email="alice@example.org")
    body = {"email": "thief@example.org"} | ({"current_password": current} if current else {})

    response = client.patch("/users/alice", json=body, headers=login("alice"))

    assert response.status_code == 400 and response.json["errors"] == {"current_password": problem}
    assert client.get("/me", headers=login("alice")).json["email"] == "alice@example.org"
    assert len(recorded("account.email_verification_requested")) == 1  # the sign-up's only


def test_librarians_change_a_patrons_address_without_a_password(client, make_user, login, recorded):
    make_user("boss", role="librarian")
    make_user("alice")

    response = client.patch("/users/alice", json={"email": "alice@example.org"}, headers=login("boss"))

    assert (response.status_code, response.json["email"], response.json["email_verified"]) == (
        200, "alice@example.org", False)
    assert recorded("account.email_verification_requested")[-1]["username"] == "alice"


def test_the_same_address_in_another_letter_case_stays_verified(client, recorded, login):
    client.post("/register", json=registration(email="alice@example.org"))
    verify(client, verification_token(recorded))

    response = client.patch("/users/alice", json={"email": "Alice@Example.ORG"}, headers=login("alice"))

    assert (response.status_code, response.json["email"], response.json["email_verified"]) == (
        200, "Alice@Example.ORG", True)
    assert len(recorded("account.email_verification_requested")) == 1


def test_removing_the_address_is_recorded(client, recorded, login):
    client.post("/register", json=registration(email="alice@example.org"))
    verify(client, verification_token(recorded))

    response = client.patch("/users/alice", json={"email": None, "current_password": "correct horse"},
                            headers=login("alice"))

    assert (response.json["email"], response.json["email_verified"]) == (None, False)
    assert recorded("account.email_removed") == [{"username": "alice", "previous_email": "alice@example.org"}]


@pytest.mark.parametrize("race", [False, True], ids=["checked", "taken-between-the-check-and-the-commit"])
def test_an_address_belongs_to_one_account_whatever_its_letter_case(client, make_user, login, monkeypatch, race):
    """Also when two requests at once both pass the check: the unique index refuses the second, named by its field."""
    make_user("alice", email="alice@example.org")
    make_user("bob")
    if race:
        monkeypatch.setattr("user_service.accounts._email_belongs_to_another", lambda *args: False)

    signed_up = client.post("/register", json=registration("carol", email="ALICE@example.org"))
    changed = client.patch("/users/bob", json={"email": "Alice@Example.org", "current_password": "correct horse"},
                           headers=login("bob"))

    for response in (signed_up, changed):
        assert response.status_code == 409
        assert response.json["errors"] == {"email": "Another account already uses this e-mail address"}
        assert "alice" not in response.json["message"].lower()  # the other account is not named
    assert client.post("/login", json={"username": "carol", "password": "correct horse"}).status_code == 401


def test_a_deleted_account_keeps_no_address_and_frees_it(app, client, make_user, login, recorded):
    make_user("boss", role="librarian")
    make_user("alice", email="alice@example.org")
    boss = login("boss")
    client.patch("/users/alice", json={"active": False}, headers=boss)

    assert client.delete("/users/alice", headers=boss).status_code == 204

    assert recorded("account.deleted") == [{"username": "alice"}]
    assert client.post("/register", json=registration("alice2", email="alice@example.org")).status_code == 201


def test_a_failed_change_records_no_event(client, make_user, login, recorded):
    """The event is written in the change's own transaction: no change, no mail."""
    make_user("boss", role="librarian")
    boss = login("boss")

    # the new password (and its event) comes first in the change, the refusal after it
    refused = client.patch("/users/boss", headers=boss, json={
        "password": "a new password", "current_password": "correct horse", "email": "boss@example.org",
        "role": "patron"})

    assert refused.status_code == 409 and "at least one active librarian" in refused.json["message"]
    assert client.get("/me", headers=login("boss")).json["email"] is None
    assert recorded("account.password_changed") == recorded("account.email_verification_requested") == []


@pytest.mark.parametrize("address", [
    "not-an-address", "alice@", "@example.org", "alice@example", "alice..liddell@example.org",
    "alice@-example.org", "alice@example.org\nBcc: everyone@example.org", "al ice@example.org", "alice@exa\x00mple.org",
    "alice@example.org\ud800", "älice@example.org", "a" * 245 + "@example.org", 42,
])
def test_impossible_addresses_are_refused(client, address):
    response = client.post("/register", json=registration(email=address))

    assert response.status_code == 400 and "email" in response.json["errors"]


def test_each_operation_documents_the_address_rule(client):
    document = client.get("/openapi.json").json
    email = document["components"]["schemas"]["Registration"]["properties"]["email"]

    assert email["maxLength"] == 254 and email["pattern"].startswith("^") and email["nullable"] is True


# ---- asking for the link again --------------------------------------------------------------------------------


def test_you_ask_for_your_link_again(client, make_user, login, recorded):
    make_user("alice", email="alice@example.org")

    response = client.post("/users/alice/email-verifications", headers=login("alice"))

    assert response.status_code == 202 and response.json == {"message": "We have sent a new link to alice@example.org"}
    first, again = recorded("account.email_verification_requested")
    assert first["email"] == again["email"] == "alice@example.org"
    assert verify(client, again["token"]).status_code == 200


def test_only_the_holder_asks_for_the_link_and_only_while_it_is_needed(client, make_user, login, recorded):
    make_user("boss", role="librarian")
    make_user("alice", email="alice@example.org")
    make_user("bob")

    assert client.post("/users/alice/email-verifications").status_code == 401
    assert client.post("/users/alice/email-verifications", headers=login("bob")).status_code == 403
    assert client.post("/users/alice/email-verifications", headers=login("boss")).status_code == 403
    no_address = client.post("/users/bob/email-verifications", headers=login("bob"))
    assert no_address.status_code == 409 and "no e-mail address" in no_address.json["message"]
    verify(client, verification_token(recorded))
    verified = client.post("/users/alice/email-verifications", headers=login("alice"))
    assert verified.status_code == 409 and "already verified" in verified.json["message"]


def test_asking_for_the_link_again_is_limited_per_client(app, make_user):
    site = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "PASSWORD_HASH_METHOD": FAST_HASH,
                       "TESTING": True, "RATE_LIMIT_VERIFICATION_MAIL": "2/hour"}).test_client()
    make_user("alice", email="alice@example.org")
    token = site.post("/login", json={"username": "alice", "password": "correct horse"}).json["token"]
    headers = {"Authorization": f"Bearer {token}"}

    outcomes = [site.post("/users/alice/email-verifications", headers=headers).status_code for _ in range(3)]

    assert outcomes == [202, 202, 429]
