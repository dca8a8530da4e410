"""Passwords set by mailed link: "forgot password" (the same answer whoever asks), the librarian's reset, the
welcome link of a patron registered at the desk; each link signed, single use, bound to the address; and the
events of an account's life that notification-service turns into mail."""

from datetime import datetime, timedelta, timezone

import pytest

from user_service import create_app

from .conftest import FAST_HASH

RESET_ANSWER = {"message": "If an account matches, we have sent a link to its e-mail address"}
EXPIRED_OR_USED = "This link has expired or was already used"


@pytest.fixture
def verified_user(client, make_user, link_for):
    """`verified_user(name)`: a patron whose address <name>@example.org is verified."""
    def make(username="alice", **kwargs):
        make_user(username, email=f"{username}@example.org", **kwargs)
        token = link_for("account.email_verification_requested").json["token"]
        assert client.post("/email-verifications", json={"token": token}).status_code == 200
        return username

    return make


def forgot(client, username_or_email):
    return client.post("/password-resets", json={"username_or_email": username_or_email})


def reset(client, token, password="a brand new password"):
    return client.post("/password-resets/confirm", json={"token": token, "password": password})


def reset_link(link_for, index=-1):
    """The token of the link a password request asked to mail, made as notification-service makes it: when it
    sends the mail, a moment after the request (tests make it before what happens next)."""
    return link_for("account.password_reset_requested", index).json["token"]


def logs_in(client, username, password):
    return client.post("/login", json={"username": username, "password": password}).status_code == 200


# ---- forgot password ------------------------------------------------------------------------------------------


def test_forgot_password_sends_a_link_to_a_verified_address(client, verified_user, recorded, link_for):
    verified_user("alice")

    response = forgot(client, "alice")

    assert response.status_code == 202 and response.json == RESET_ANSWER
    assert recorded("account.password_reset_requested") == [{"purpose": "reset"}]
    link = link_for("account.password_reset_requested").json
    assert (link["username"], link["first_name"], link["email"], link["purpose"]) == (
        "alice", "Alice", "alice@example.org", "reset")
    expires_at = datetime.fromisoformat(link["expires_at"])
    assert timedelta(minutes=59) < expires_at - datetime.now(timezone.utc) <= timedelta(hours=1)


def test_the_address_finds_the_account_too_whatever_its_letter_case(client, verified_user, link_for):
    verified_user("alice")

    assert forgot(client, "ALICE@example.org").json == RESET_ANSWER
    assert link_for("account.password_reset_requested").json["username"] == "alice"


@pytest.mark.parametrize("who", ["nobody", "nobody@example.org", "bob", "carol", "dave", "dave@example.org"])
def test_the_same_answer_and_no_link_when_no_account_may_have_one(client, make_user, login, recorded, link_for,
                                                                  who):
    """Unknown, without an address (bob), with an unverified one (carol), deactivated (dave)."""
    make_user("boss", role="librarian")
    make_user("bob")
    make_user("carol", email="carol@example.org")
    make_user("dave", email="dave@example.org")
    client.post("/email-verifications", json={"token": link_for().json["token"]})
    client.patch("/users/dave", json={"active": False}, headers=login("boss"))

    response = forgot(client, who)

    assert response.status_code == 202 and response.json == RESET_ANSWER
    assert recorded("account.password_reset_requested") == []


def test_forgot_password_is_limited_per_client(app, verified_user):
    site = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "PASSWORD_HASH_METHOD": FAST_HASH,
                       "TESTING": True, "RATE_LIMIT_PASSWORD_RESET": "2/hour"}).test_client()
    site.environ_base["REMOTE_ADDR"] = "203.0.113.9"

    outcomes = [forgot(site, f"someone-{number}").status_code for number in range(3)]

    assert outcomes == [202, 202, 429]
    assert forgot(site, "someone").json["message"].startswith("Too many password reset requests from your address")


def test_nobody_floods_a_mailbox_with_links_from_many_addresses(app, verified_user, recorded):
    verified_user("alice")
    site = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "PASSWORD_HASH_METHOD": FAST_HASH,
                       "TESTING": True, "RATE_LIMIT_PASSWORD_LINKS_PER_ACCOUNT": "2/hour"})
    answers = []
    for number in range(4):
        client = site.test_client()
        client.environ_base["REMOTE_ADDR"] = f"203.0.113.{number + 1}"
        answers.append(forgot(client, "alice").json)

    assert answers == [RESET_ANSWER] * 4
    assert len(recorded("account.password_reset_requested")) == 2


# ---- choosing the new password --------------------------------------------------------------------------------


def test_the_link_sets_the_password_once_and_ends_earlier_sessions(client, verified_user, login, recorded,
                                                                   link_for):
    verified_user("alice")
    stolen = login("alice")
    forgot(client, "alice")
    link = reset_link(link_for)

    response = reset(client, link)

    assert response.status_code == 200 and response.json["username"] == "alice"
    assert logs_in(client, "alice", "a brand new password") and not logs_in(client, "alice", "correct horse")
    assert client.get("/me", headers=stolen).status_code == 401
    assert recorded("account.password_changed") == [{"via": "reset_link"}]
    again = reset(client, link, "yet another password")
    assert again.status_code == 400 and again.json["message"] == EXPIRED_OR_USED
    assert logs_in(client, "alice", "a brand new password")


def test_the_link_lasts_an_hour(client, verified_user, link_for, clock):
    verified_user("alice")
    forgot(client, "alice")
    link = reset_link(link_for)

    clock["now"] += timedelta(minutes=61)

    late = reset(client, link)
    assert late.status_code == 400 and late.json["message"] == EXPIRED_OR_USED
    assert logs_in(client, "alice", "correct horse")


@pytest.mark.parametrize("change", [{"password": "changed meanwhile"}, {"email": "elsewhere@example.org"}],
                         ids=["password", "address"])
def test_the_link_dies_when_the_password_or_the_address_changes_another_way(client, verified_user, login, link_for,
                                                                            change):
    verified_user("alice")
    forgot(client, "alice")
    link = reset_link(link_for)
    client.patch("/users/alice", json={**change, "current_password": "correct horse"}, headers=login("alice"))
    if "email" in change:  # a new address is the account's once confirmed
        assert client.post("/email-verifications", json={"token": link_for().json["token"]}).status_code == 200

    assert reset(client, link).status_code == 400
    assert logs_in(client, "alice", change.get("password", "correct horse"))


def test_of_two_links_the_first_used_ends_the_other(client, verified_user, link_for):
    verified_user("alice")
    forgot(client, "alice")
    first = reset_link(link_for)
    forgot(client, "alice")
    second = reset_link(link_for)

    assert link_for("account.password_reset_requested", 0).status_code == 409  # superseded: no more mail of it
    assert reset(client, second).status_code == 200
    assert reset(client, first, "another password").status_code == 400


def test_a_verification_link_is_no_password_link(client, make_user, link_for):
    make_user("alice", email="alice@example.org")

    response = reset(client, link_for("account.email_verification_requested").json["token"])

    assert response.status_code == 400 and response.json["message"] == EXPIRED_OR_USED


@pytest.mark.parametrize("password, field", [("short", "password"), ("ALICE", "password"), ("x" * 129, "password")])
def test_the_new_password_follows_the_sign_up_rules(client, verified_user, link_for, password, field):
    verified_user("alice")
    forgot(client, "alice")
    link = reset_link(link_for)

    response = reset(client, link, password)

    assert response.status_code == 400 and field in response.json["errors"]
    assert reset(client, link).status_code == 200  # a refused password does not use the link up


def test_a_deactivated_account_gets_no_password_from_an_earlier_link(client, make_user, verified_user, login,
                                                                     link_for):
    make_user("boss", role="librarian")
    verified_user("alice")
    forgot(client, "alice")
    link = reset_link(link_for)
    client.patch("/users/alice", json={"active": False}, headers=login("boss"))

    assert link_for("account.password_reset_requested").status_code == 409  # no mail from now on
    response = reset(client, link)

    assert response.status_code == 403 and response.json["message"] == "This account is deactivated; ask a librarian"


@pytest.mark.parametrize("token", ["", "not a token", "a" * 1001, "abc\x00def"])
def test_impossible_tokens_are_400(client, token):
    assert reset(client, token).status_code == 400
    assert client.post("/email-verifications", json={"token": token}).status_code == 400


# ---- the desk -------------------------------------------------------------------------------------------------


def test_librarians_register_a_patron_who_chooses_a_password_through_the_welcome_link(client, make_user, login,
                                                                                      recorded, link_for):
    make_user("boss", role="librarian")

    response = client.post("/users", headers=login("boss"), json={
        "username": "rosa", "first_name": "Rosa", "last_name": "Parks", "email": "rosa@example.org"})

    assert response.status_code == 201
    assert {key: response.json[key] for key in ("username", "role", "active", "email", "email_verified")} == {
        "username": "rosa", "role": "patron", "active": True, "email": "rosa@example.org", "email_verified": False}
    assert not logs_in(client, "rosa", "!not-chosen-yet") and not logs_in(client, "rosa", "")
    assert recorded("account.password_reset_requested") == [{"purpose": "welcome"}]
    welcome = link_for("account.password_reset_requested").json
    assert (welcome["username"], welcome["email"], welcome["purpose"]) == ("rosa", "rosa@example.org", "welcome")
    assert recorded("account.email_verification_requested") == []  # one mail: the welcome link verifies too
    assert recorded("account.registered")[-1] == {"role": "patron"}

    chosen = reset(client, welcome["token"], "rosa's own password")

    assert chosen.status_code == 200 and chosen.json["email_verified"] is True
    assert recorded("account.email_verified") == [{}]
    assert logs_in(client, "rosa", "rosa's own password")


def test_a_welcome_link_lasts_as_long_as_a_verification_link(client, make_user, login, link_for, clock):
    make_user("boss", role="librarian")
    client.post("/users", headers=login("boss"), json={
        "username": "rosa", "first_name": "Rosa", "last_name": "Parks", "email": "rosa@example.org"})
    link = reset_link(link_for)

    clock["now"] += timedelta(hours=47)

    assert reset(client, link).status_code == 200


def test_a_patron_registered_without_an_address_gets_the_welcome_link_once_one_is_added(client, make_user, login,
                                                                                       recorded):
    make_user("boss", role="librarian")
    boss = login("boss")
    client.post("/users", headers=boss, json={"username": "rosa", "first_name": "Rosa", "last_name": "Parks"})
    assert recorded("account.password_reset_requested") == []
    assert forgot(client, "rosa").json == RESET_ANSWER and recorded("account.password_reset_requested") == []

    client.patch("/users/rosa", json={"email": "rosa@example.org"}, headers=boss)

    assert recorded("account.password_reset_requested")[0]["purpose"] == "welcome"
    assert recorded("account.email_verification_requested") == []
    forgot(client, "rosa")  # lost the mail: "forgot password" sends the welcome link again
    assert [event["purpose"] for event in recorded("account.password_reset_requested")] == ["welcome", "welcome"]


def test_desk_registration_is_for_librarians_and_checks_names_and_addresses(client, make_user, login):
    make_user("boss", role="librarian")
    make_user("alice", email="alice@example.org")
    patron = {"username": "rosa", "first_name": "Rosa", "last_name": "Parks"}

    assert client.post("/users", json=patron).status_code == 401
    assert client.post("/users", json=patron, headers=login("alice")).status_code == 403
    taken = client.post("/users", json=patron | {"username": "ALICE"}, headers=login("boss"))
    assert taken.status_code == 409 and taken.json["errors"] == {"username": "That username is taken"}
    # alice has not verified her address: it reserves nothing
    address = client.post("/users", json=patron | {"email": "alice@example.org"}, headers=login("boss"))
    assert address.status_code == 201
    with_password = client.post("/users", json=patron | {"password": "chosen by the librarian"},
                                headers=login("boss"))
    assert with_password.status_code == 400 and "password" in with_password.json["errors"]


# ---- a librarian's reset ----------------------------------------------------------------------------------------


def test_a_librarian_has_a_reset_link_mailed_and_sees_no_password(client, make_user, verified_user, login,
                                                                  recorded):
    make_user("boss", role="librarian")
    verified_user("alice")

    response = client.post("/users/alice/password-reset", headers=login("boss"))

    assert response.status_code == 202
    assert response.json == {"message": "We have e-mailed alice a link to choose a new password"}
    assert recorded("account.password_reset_requested")[0]["purpose"] == "reset"
    assert logs_in(client, "alice", "correct horse")  # the old password works until the link is used


def test_a_librarians_reset_needs_an_active_account_with_a_verified_address(client, make_user, login):
    make_user("boss", role="librarian")
    make_user("bob")
    make_user("carol", email="carol@example.org")
    make_user("dave", email="dave@example.org")
    boss = login("boss")
    client.patch("/users/dave", json={"active": False}, headers=boss)

    outcomes = {name: client.post(f"/users/{name}/password-reset", headers=boss) for name in ("bob", "carol", "dave")}

    assert {name: response.status_code for name, response in outcomes.items()} == {"bob": 409, "carol": 409,
                                                                                    "dave": 409}
    assert outcomes["bob"].json["message"] == "bob has no e-mail address: add one, and we will send the link to it"
    assert "not verified yet" in outcomes["carol"].json["message"]
    assert "deactivated" in outcomes["dave"].json["message"]
    assert client.post("/users/nobody/password-reset", headers=boss).status_code == 404
    assert client.post("/users/carol/password-reset", headers=login("carol")).status_code == 403


# ---- the account's life, in events ------------------------------------------------------------------------------


def test_deactivation_reactivation_and_password_changes_are_recorded(client, make_user, verified_user, login,
                                                                     recorded):
    make_user("boss", role="librarian")
    verified_user("alice")
    client.patch("/users/alice", json={"password": "a new password", "current_password": "correct horse"},
                 headers=login("alice"))
    boss = login("boss")

    client.patch("/users/alice", json={"active": False}, headers=boss)
    client.patch("/users/alice", json={"active": False}, headers=boss)  # no change, no event
    client.patch("/users/alice", json={"active": True}, headers=boss)

    assert recorded("account.password_changed") == [{"via": "current_password"}]
    assert recorded("account.deactivated") == [{"by": "boss"}]
    assert recorded("account.reactivated") == [{"by": "boss"}]


# ---- is the link still good? (the page it opens asks before showing its form) -------------------------------


def check(client, token):
    return client.post("/password-resets/check", json={"token": token})


def test_a_link_is_good_until_used_and_the_check_uses_nothing(client, verified_user, link_for):
    verified_user("alice")
    forgot(client, "alice")
    link = reset_link(link_for)

    first, again = check(client, link), check(client, link)

    assert first.status_code == again.status_code == 200
    assert first.json == {"message": "This link can still set a password"}  # nothing about the account
    assert reset(client, link).status_code == 200
    used = check(client, link)
    assert used.status_code == 400 and used.json["message"] == EXPIRED_OR_USED and "alice" not in used.text


@pytest.mark.parametrize("spoil", ["expire", "change the address", "tamper"])
def test_a_dead_link_is_said_to_be_dead(client, verified_user, login, link_for, clock, spoil):
    verified_user("alice")
    forgot(client, "alice")
    link = reset_link(link_for)
    if spoil == "expire":
        clock["now"] += timedelta(minutes=61)
    elif spoil == "change the address":
        client.patch("/users/alice", json={"email": "elsewhere@example.org", "current_password": "correct horse"},
                     headers=login("alice"))
        assert client.post("/email-verifications", json={"token": link_for().json["token"]}).status_code == 200
    else:
        link = link[:-2] + ("AA" if not link.endswith("AA") else "BB")

    response = check(client, link)

    assert response.status_code == 400 and response.json["message"] == EXPIRED_OR_USED


def test_a_deactivated_accounts_link_is_refused_as_the_reset_would_be(client, verified_user, make_user, login,
                                                                    link_for):
    verified_user("alice")
    make_user("boss", role="librarian")
    forgot(client, "alice")
    link = reset_link(link_for)
    client.patch("/users/alice", json={"active": False}, headers=login("boss"))

    assert check(client, link).status_code == 403


def test_malformed_tokens_get_a_clear_400(client):
    for body in ({}, {"token": ""}, {"token": "<script>"}, {"token": "a" * 2000}, {"token": 7}):
        response = client.post("/password-resets/check", json=body)
        assert response.status_code == 400 and response.json["message"], body


def test_checking_links_is_limited_per_client(app):
    site = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "PASSWORD_HASH_METHOD": FAST_HASH,
                       "TESTING": True, "RATE_LIMIT_PASSWORD_LINK_CHECK": "2/hour"}).test_client()
    site.environ_base["REMOTE_ADDR"] = "203.0.113.9"

    outcomes = [check(site, f"not.a.link{number}").status_code for number in range(3)]

    assert outcomes == [400, 400, 429]
    assert "Retry-After" in check(site, "x").headers
