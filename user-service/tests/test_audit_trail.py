"""user-service's audit trail: what librarians do to accounts is recorded with the change, what people do to their
own account is not."""

from library_common.testing import audit_migration_goes_back_and_forth
from user_service import create_app

from .conftest import FAST_HASH


def trail(client, headers, **query):
    response = client.get("/audit", query_string=query, headers=headers)
    assert response.status_code == 200, response.json
    return response.json["items"]


def test_a_librarian_deactivating_an_account_is_one_entry_with_before_and_after(client, make_user, login):
    make_user("boss", role="librarian")
    make_user("alice")
    librarian = login("boss")
    response = client.patch("/users/alice", json={"active": False},
                            headers={**librarian, "X-Request-ID": "desk-7"}, environ_base={"REMOTE_ADDR": "192.0.2.4"})
    assert response.status_code == 200, response.json
    [entry] = trail(client, librarian, actor="boss")
    assert {key: entry[key] for key in ("actor", "actor_role", "action", "object_type", "object_id", "subject",
                                        "summary", "changes", "request_id", "client_address")} == {
        "actor": "boss", "actor_role": "librarian", "action": "account.deactivated", "object_type": "account",
        "object_id": "alice", "subject": "alice", "summary": "alice",
        "changes": {"active": {"before": True, "after": False}}, "request_id": "desk-7",
        "client_address": "192.0.2.4"}


def test_role_names_and_contact_changes_by_staff_are_recorded(client, make_user, login):
    make_user("boss", role="librarian")
    make_user("alice")
    librarian = login("boss")
    client.patch("/users/alice", json={"role": "librarian"}, headers=librarian)
    client.patch("/users/alice", json={"first_name": "Alicia", "phone": "555-0101"}, headers=librarian)
    updated, promoted = trail(client, librarian, object="account:alice", action="account.")[:2]
    assert (promoted["action"], promoted["changes"]) == ("account.role_changed",
                                                         {"role": {"before": "patron", "after": "librarian"}})
    assert (updated["action"], updated["changes"]) == ("account.updated", {
        "first_name": {"before": "Alice", "after": "Alicia"}, "phone": {"before": None, "after": "555-0101"}})


def test_what_people_do_to_their_own_account_is_not_recorded(client, make_user, login):
    make_user("boss", role="librarian")
    make_user("alice")
    assert client.patch("/users/alice", json={"first_name": "Al"}, headers=login("alice")).status_code == 200
    assert client.post("/register", json={"username": "newcomer", "password": "correct horse",
                                          "first_name": "New", "last_name": "Comer"}).status_code == 201
    assert trail(client, login("boss"), actor="alice") == []
    assert trail(client, login("boss"), object_id="newcomer") == []


def test_desk_registration_approval_cards_and_categories_are_recorded(client, make_user, login):
    make_user("boss", role="librarian")
    librarian = login("boss")
    assert client.post("/users", json={"username": "walkin", "first_name": "Walk", "last_name": "In"},
                       headers=librarian).status_code == 201
    assert client.post("/users/walkin/card", headers=librarian).status_code == 200
    assert client.post("/patron-categories", json={"code": "senior", "name": "Senior"},
                       headers=librarian).status_code == 201
    actions = [entry["action"] for entry in trail(client, librarian, actor="boss")]
    assert actions == ["category.created", "card.replaced", "account.registered"]
    [registered] = trail(client, librarian, action="account.registered", actor="boss")
    assert registered["changes"]["first_name"] == {"after": "Walk"}


def test_a_refused_change_leaves_no_entry(client, make_user, login):
    make_user("boss", role="librarian")
    librarian = login("boss")
    assert client.patch("/users/boss", json={"active": False}, headers=librarian).status_code == 409  # the last one
    assert trail(client, librarian, actor="boss") == []


def test_the_trail_is_for_librarians(client, make_user, login):
    make_user("boss", role="librarian")
    make_user("alice")
    assert client.get("/audit").status_code == 401
    assert client.get("/audit", headers=login("alice")).status_code == 403
    assert client.get("/audit?since=yesterday", headers=login("boss")).status_code == 400


def test_the_migration_goes_back_and_forth(postgres_server_url):
    audit_migration_goes_back_and_forth(create_app, postgres_server_url, "users", "0016",
                                        PASSWORD_HASH_METHOD=FAST_HASH)
