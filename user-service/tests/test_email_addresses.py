"""An optional e-mail address per account: unique whatever its letter case, verified by a signed, expiring link
that is bound to the account and the address; the events that ask notification-service to mail the links."""

from datetime import datetime, timedelta, timezone

import pytest

from user_service import create_app

from .conftest import FAST_HASH, registration

EXPIRED_OR_USED = "This link has expired or was already used"


def verification_token(link_for, index=-1):
    return link_for("account.email_verification_requested", index).json["token"]


def verify(client, token):
    return client.post("/email-verifications", json={"token": token})


def test_signing_up_with_an_address_asks_for_its_verification_link_to_be_mailed(client, recorded, link_for):
    response = client.post("/register", json=registration(email="  Alice@Example.org "))

    assert response.status_code == 201
    assert (response.json["data"]["email"], response.json["data"]["email_verified"]) == ("Alice@Example.org", False)
    assert recorded("account.email_verification_requested") == [{}]  # no name, no address, no link in the log
    link = link_for().json  # made as the mail is sent
    assert (link["username"], link["first_name"], link["email"], link["purpose"]) == (
        "alice", "Alice", "Alice@Example.org", "verify")
    expires_at = datetime.fromisoformat(link["expires_at"])
    assert timedelta(hours=47) < expires_at - datetime.now(timezone.utc) <= timedelta(hours=48)


def test_signing_up_without_an_address_mails_nothing(client, recorded):
    response = client.post("/register", json=registration())

    assert (response.json["data"]["email"], response.json["data"]["email_verified"]) == (None, False)
    assert recorded("account.email_verification_requested") == []


def test_the_link_verifies_the_address_once_and_using_it_again_changes_nothing(client, recorded, login, link_for):
    client.post("/register", json=registration(email="alice@example.org"))
    token = verification_token(link_for)

    first, again = verify(client, token), verify(client, token)

    assert first.status_code == again.status_code == 200
    assert (first.json["username"], first.json["email_verified"]) == ("alice", True)
    assert recorded("account.email_verified") == [{}]
    assert client.get("/me", headers=login("alice")).json["email_verified"] is True


def test_the_link_expires(client, link_for, clock):
    client.post("/register", json=registration(email="alice@example.org"))
    token = verification_token(link_for)

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
def test_a_tampered_link_verifies_nothing(client, recorded, link_for, tamper):
    client.post("/register", json=registration(email="alice@example.org"))

    response = verify(client, tamper(verification_token(link_for)))

    assert response.status_code == 400 and response.json["message"] == EXPIRED_OR_USED
    assert recorded("account.email_verified") == []


def test_a_link_signed_with_another_key_verifies_nothing(app, client):
    other = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "PASSWORD_HASH_METHOD": FAST_HASH,
                        "TESTING": True, "LINK_SECRET_KEY": "another-secret-key-of-another-library"})
    client.post("/register", json=registration(email="alice@example.org"))
    with other.app_context():
        forged = other.extensions["deps"].links.email_verification("alice", "alice@example.org")

    assert verify(client, forged).status_code == 400


def test_a_link_naming_no_address_verifies_nothing(app, client, make_user):
    """A patron registered at the desk has no address: a link naming none must not match it (a forged one)."""
    make_user("alice")
    with app.app_context():
        links = app.extensions["deps"].links
        verification, password = links.email_verification("alice", ""), links.password("alice", "", "!", True)

    assert verify(client, verification).status_code == 400
    assert client.post("/password-resets/confirm", json={"token": password, "password": "a new password"}
                       ).status_code == 400


def test_a_link_for_an_old_address_does_not_verify_the_new_one(client, link_for, login):
    client.post("/register", json=registration(email="old@example.org"))
    old_link = verification_token(link_for)
    changed = client.patch("/users/alice", json={"email": "new@example.org", "current_password": "correct horse"},
                           headers=login("alice"))
    assert changed.status_code == 200 and changed.json["email_verified"] is False

    refused = verify(client, old_link)

    assert refused.status_code == 400 and "another e-mail address" in refused.json["message"]
    assert link_for(index=0).status_code == 409  # a superseded request makes no link
    assert verify(client, verification_token(link_for)).json["email"] == "new@example.org"


def test_a_verified_address_stays_until_the_new_one_is_confirmed(client, recorded, login, link_for, notifier):
    client.post("/register", json=registration(email="old@example.org"))
    verify(client, verification_token(link_for))

    changed = client.patch("/users/alice", json={"email": "new@example.org", "current_password": "correct horse"},
                           headers=login("alice"))

    assert (changed.json["email"], changed.json["email_verified"], changed.json["pending_email"]) == (
        "old@example.org", True, "new@example.org")
    assert recorded("account.email_changed") == []  # nothing changed yet
    assert link_for().json["email"] == "new@example.org"
    assert client.post("/login", json={"username": "old@example.org", "password": "correct horse"}).status_code == 200
    assert client.post("/login", json={"username": "new@example.org", "password": "correct horse"}).status_code == 401
    assert client.get("/contacts/alice", headers=notifier).json["email"] == "old@example.org"

    confirmed = verify(client, verification_token(link_for))

    assert confirmed.status_code == 200
    assert (confirmed.json["email"], confirmed.json["email_verified"], confirmed.json["pending_email"]) == (
        "new@example.org", True, None)
    assert recorded("account.email_changed") == [{"previous_email": "old@example.org"}]  # the old one hears
    assert client.post("/login", json={"username": "new@example.org", "password": "correct horse"}).status_code == 200
    assert client.post("/login", json={"username": "old@example.org", "password": "correct horse"}).status_code == 401


def test_a_pending_address_is_called_off_by_giving_the_current_one_or_replaced_by_another(client, login, link_for):
    client.post("/register", json=registration(email="old@example.org"))
    verify(client, verification_token(link_for))
    me = login("alice")
    change = {"current_password": "correct horse"}
    client.patch("/users/alice", json={"email": "typo@example.org", **change}, headers=me)
    typo_link = verification_token(link_for)

    called_off = client.patch("/users/alice", json={"email": "OLD@example.org", **change}, headers=me)
    client.patch("/users/alice", json={"email": "right@example.org", **change}, headers=me)

    assert (called_off.json["email_verified"], called_off.json["pending_email"]) == (True, None)
    assert verify(client, typo_link).status_code == 400  # a link for an address no longer asked for
    assert client.get("/me", headers=me).json["pending_email"] == "right@example.org"
    assert verify(client, verification_token(link_for)).json["email"] == "right@example.org"


def test_a_pending_address_reserves_nothing(client, login, link_for, recorded):
    client.post("/register", json=registration(email="old@example.org"))
    verify(client, verification_token(link_for))
    client.patch("/users/alice", json={"email": "wanted@example.org", "current_password": "correct horse"},
                 headers=login("alice"))
    alices_link = verification_token(link_for)
    client.post("/register", json=registration("bob", email="wanted@example.org"))

    assert verify(client, verification_token(link_for)).json["username"] == "bob"  # bob confirms first
    late = verify(client, alices_link)

    assert late.status_code == 409
    me = client.get("/me", headers=login("alice")).json
    assert (me["email"], me["email_verified"], me["pending_email"]) == ("old@example.org", True, "wanted@example.org")
    assert recorded("account.email_changed") == []


def test_removing_a_verified_address_with_one_pending_removes_both(client, login, link_for, recorded):
    client.post("/register", json=registration(email="old@example.org"))
    verify(client, verification_token(link_for))
    me, change = login("alice"), {"current_password": "correct horse"}
    client.patch("/users/alice", json={"email": "new@example.org", **change}, headers=me)

    removed = client.patch("/users/alice", json={"email": None, **change}, headers=me)

    assert (removed.json["email"], removed.json["pending_email"]) == (None, None)
    assert recorded("account.email_changed") == [{"previous_email": "old@example.org"}]


@pytest.mark.parametrize("current, problem", [(None, "Incorrect password"), ("wrong guess", "Incorrect password")])
def test_your_own_address_changes_only_with_your_current_password(client, make_user, login, recorded, current,
                                                                  problem):
    make_user("alice", email="alice@example.org")
    body = {"email": "thief@example.org"} | ({"current_password": current} if current else {})

    response = client.patch("/users/alice", json=body, headers=login("alice"))

    assert response.status_code == 400 and response.json["errors"] == {"current_password": problem}
    assert client.get("/me", headers=login("alice")).json["email"] == "alice@example.org"
    assert len(recorded("account.email_verification_requested")) == 1  # the sign-up's only


def test_librarians_change_a_patrons_address_without_a_password(client, make_user, login, link_for):
    make_user("boss", role="librarian")
    make_user("alice")

    response = client.patch("/users/alice", json={"email": "alice@example.org"}, headers=login("boss"))

    assert (response.status_code, response.json["email"], response.json["email_verified"]) == (
        200, "alice@example.org", False)
    assert link_for().json["username"] == "alice"


def test_the_same_address_in_another_letter_case_stays_verified(client, recorded, login, link_for):
    client.post("/register", json=registration(email="alice@example.org"))
    verify(client, verification_token(link_for))

    response = client.patch("/users/alice", json={"email": "Alice@Example.ORG"}, headers=login("alice"))

    assert (response.status_code, response.json["email"], response.json["email_verified"]) == (
        200, "Alice@Example.ORG", True)
    assert len(recorded("account.email_verification_requested")) == 1


def test_removing_the_address_is_recorded(client, recorded, login, link_for):
    client.post("/register", json=registration(email="alice@example.org"))
    verify(client, verification_token(link_for))

    response = client.patch("/users/alice", json={"email": None, "current_password": "correct horse"},
                            headers=login("alice"))

    assert (response.json["email"], response.json["email_verified"]) == (None, False)
    assert recorded("account.email_changed") == [{"previous_email": "alice@example.org"}]


def test_an_address_another_account_verified_gets_the_same_answer_and_its_owner_hears_of_it(
        client, make_user, login, recorded, link_for):
    """Whether the library knows an address is nobody's to learn: sign-up and change answer as for a free one,
    no link goes to it, and its owner is told someone tried to use it."""
    client.post("/register", json=registration("alice", email="alice@example.org"))
    verify(client, verification_token(link_for))
    make_user("bob")

    signed_up = client.post("/register", json=registration("carol", email="ALICE@example.org"))
    changed = client.patch("/users/bob", json={"email": "Alice@Example.org", "current_password": "correct horse"},
                           headers=login("bob"))
    free = client.post("/register", json=registration("dave", email="nobody-has-it@example.org"))

    assert signed_up.status_code == free.status_code == 201 and changed.status_code == 200
    assert signed_up.json["data"]["email_verified"] is changed.json["email_verified"] is False
    assert set(signed_up.json["data"]) == set(free.json["data"])
    assert recorded("account.email_claim_refused") == [{}, {}]  # alice's, twice (subject: alice)
    assert len(recorded("account.email_verification_requested")) == 2  # alice's own and dave's, not carol's
    assert client.get("/me", headers=login("alice")).json["email_verified"] is True


def test_an_unverified_address_reserves_nothing_and_the_first_to_verify_keeps_it(client, link_for, login):
    client.post("/register", json=registration("alice", email="shared@example.org"))
    alice_link = verification_token(link_for)
    client.post("/register", json=registration("bob", email="Shared@Example.org"))
    bob_link = verification_token(link_for)

    assert verify(client, bob_link).status_code == 200
    late = verify(client, alice_link)

    assert late.status_code == 409 and late.json["message"] == "Another account already uses this e-mail address"
    assert client.get("/me", headers=login("alice")).json["email_verified"] is False
    assert link_for(index=0).status_code == 409  # and no new link for alice's request


def test_the_unique_index_keeps_two_verified_owners_apart_in_a_race(client, link_for, monkeypatch):
    client.post("/register", json=registration("alice", email="shared@example.org"))
    alice_link = verification_token(link_for)
    client.post("/register", json=registration("bob", email="shared@example.org"))
    assert verify(client, verification_token(link_for)).status_code == 200
    monkeypatch.setattr("user_service.recovery.verified_owner", lambda *args, **kwargs: None)  # the check passed

    late = verify(client, alice_link)

    assert late.status_code == 409 and late.json["message"] == "Another account already uses this e-mail address"


def test_a_deleted_account_keeps_no_address_and_frees_it(app, client, make_user, login, recorded):
    make_user("boss", role="librarian")
    make_user("alice", email="alice@example.org")
    boss = login("boss")
    client.patch("/users/alice", json={"active": False}, headers=boss)

    assert client.delete("/users/alice", headers=boss).status_code == 204

    assert recorded("account.deleted") == [{}]
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


def test_you_ask_for_your_link_again(client, make_user, login, recorded, link_for):
    make_user("alice", email="alice@example.org")

    response = client.post("/users/alice/email-verifications", headers=login("alice"))

    assert response.status_code == 202 and response.json == {"message": "We have sent a new link to alice@example.org"}
    assert len(recorded("account.email_verification_requested")) == 2
    again = link_for().json
    assert again["email"] == "alice@example.org"
    assert verify(client, again["token"]).status_code == 200


def test_only_the_holder_asks_for_the_link_and_only_while_it_is_needed(client, make_user, login, link_for):
    make_user("boss", role="librarian")
    make_user("alice", email="alice@example.org")
    make_user("bob")

    assert client.post("/users/alice/email-verifications").status_code == 401
    assert client.post("/users/alice/email-verifications", headers=login("bob")).status_code == 403
    assert client.post("/users/alice/email-verifications", headers=login("boss")).status_code == 403
    no_address = client.post("/users/bob/email-verifications", headers=login("bob"))
    assert no_address.status_code == 409 and "no e-mail address" in no_address.json["message"]
    verify(client, verification_token(link_for))
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


# ---- mail nobody can aim at someone else -------------------------------------------------------------------------


def test_address_changes_are_limited_per_account(app, client, make_user, login, recorded):
    """Alternating one's own address between a victim's and another would mail the victim without end."""
    site = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "PASSWORD_HASH_METHOD": FAST_HASH,
                       "TESTING": True, "RATE_LIMIT_EMAIL_CHANGES_PER_ACCOUNT": "2/day"}).test_client()
    make_user("mallory")
    headers = login("mallory")
    outcomes = []
    for number in range(3):
        site.environ_base["REMOTE_ADDR"] = f"203.0.113.{number + 1}"  # from anywhere: counted per account
        outcomes.append(site.patch("/users/mallory", headers=headers, json={
            "email": f"victim{number % 2}@example.org", "current_password": "correct horse"}).status_code)

    assert outcomes == [200, 200, 429]
    assert len(recorded("account.email_verification_requested")) == 2


def test_address_changes_are_limited_per_client(app, make_user, login):
    site = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "PASSWORD_HASH_METHOD": FAST_HASH,
                       "TESTING": True, "RATE_LIMIT_EMAIL_CHANGE": "2/hour"}).test_client()
    site.environ_base["REMOTE_ADDR"] = "203.0.113.50"
    outcomes = []
    for name in ("mal1", "mal2", "mal3"):
        make_user(name)
        outcomes.append(site.patch(f"/users/{name}", headers=login(name), json={
            "email": f"{name}@example.org", "current_password": "correct horse"}).status_code)

    assert outcomes == [200, 200, 429]


def test_one_address_gets_a_few_mails_a_day_whoever_causes_them(app, make_user, login, recorded):
    site = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "PASSWORD_HASH_METHOD": FAST_HASH,
                       "TESTING": True, "RATE_LIMIT_MAILS_PER_ADDRESS": "2/day"}).test_client()
    answers = []
    for number in range(4):
        site.environ_base["REMOTE_ADDR"] = f"198.51.100.{number + 1}"
        answers.append(site.post("/register", json=registration(f"sender{number}", email="Victim@example.org"))
                       .status_code)

    assert answers == [201] * 4  # the same answer: nobody learns the cap was reached
    assert len(recorded("account.email_verification_requested")) == 2


@pytest.mark.parametrize("name", ["Alice\nDear customer, your account", "Al\rice", "Ali\tce", "Alice\x1b[2J"])
def test_names_are_one_line(client, make_user, login, name):
    signed_up = client.post("/register", json=registration(first_name=name))
    make_user("bob")
    changed = client.patch("/users/bob", json={"last_name": name}, headers=login("bob"))

    for response in (signed_up, changed):
        assert response.status_code == 400 and "one line" in str(response.json["errors"])


def test_whether_another_account_exists_is_not_told(client, make_user, login):
    make_user("alice")
    make_user("bob")

    for path in ("/users/bob", "/users/nobody-at-all"):
        assert client.patch(path, json={"first_name": "X"}, headers=login("alice")).status_code == 403
        assert client.post(f"{path}/email-verifications", headers=login("alice")).status_code == 403
        assert client.get(path, headers=login("alice")).status_code == 403
