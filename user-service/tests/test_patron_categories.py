"""Patron categories: seeded adult, child and staff; every account in one (adult unless a librarian says
otherwise); librarians add, rename and delete them (not while anyone is in one, nor the default)."""

import pytest

from user_service import categories

from .conftest import registration


@pytest.fixture
def boss(make_user, login):
    make_user("boss", role="librarian")
    return login("boss")


def test_every_account_is_an_adult_unless_a_librarian_says_otherwise(client, boss, login):
    signed_up = client.post("/register", json=registration()).json["data"]
    desk = client.post("/users", json={"username": "kid", "first_name": "K", "last_name": "Id", "category": "child"},
                       headers=boss)

    assert signed_up["category"] == "adult"
    assert desk.status_code == 201 and desk.json["category"] == "child"
    # what borrow-service reads with the patron's own token
    assert client.get("/users/alice", headers=login("alice")).json["category"] == "adult"


def test_the_list_counts_the_accounts_in_each_and_anyone_with_a_token_reads_it(client, boss, make_user, login,
                                                                               notifier):
    make_user("alice")
    client.patch("/users/alice", json={"category": "child"}, headers=boss)

    listed = client.get("/patron-categories", headers=login("alice"))

    assert listed.status_code == 200
    assert listed.json == [{"code": "adult", "name": "Adult", "patrons": 1, "default": True},
                           {"code": "child", "name": "Child", "patrons": 1, "default": False},
                           {"code": "staff", "name": "Staff", "patrons": 0, "default": False}]
    assert client.get("/patron-categories", headers=notifier).status_code == 200  # a service's token
    assert client.get("/patron-categories").status_code == 401


def test_librarians_add_and_rename_categories(client, boss):
    added = client.post("/patron-categories", json={"code": "senior", "name": " Senior "}, headers=boss)
    renamed = client.patch("/patron-categories/senior", json={"name": "Over 65"}, headers=boss)

    assert added.status_code == 201
    assert added.json == {"code": "senior", "name": "Senior", "patrons": 0, "default": False}
    assert renamed.status_code == 200
    assert renamed.json == {"code": "senior", "name": "Over 65", "patrons": 0, "default": False}
    assert "Over 65" in [category["name"] for category in client.get("/patron-categories", headers=boss).json]


def test_patrons_change_no_category(client, boss, make_user, login):
    make_user("alice")
    alice = login("alice")

    assert client.post("/patron-categories", json={"code": "vip", "name": "VIP"}, headers=alice).status_code == 403
    assert client.patch("/patron-categories/adult", json={"name": "Grown-up"}, headers=alice).status_code == 403
    assert client.delete("/patron-categories/child", headers=alice).status_code == 403
    refused = client.patch("/users/alice", json={"category": "staff"}, headers=alice)
    assert refused.status_code == 403 and "Only librarians" in refused.json["message"]


def test_codes_and_names_are_taken_once(client, boss):
    same_code = client.post("/patron-categories", json={"code": "child", "name": "Kids"}, headers=boss)
    same_name = client.post("/patron-categories", json={"code": "kids", "name": "CHILD"}, headers=boss)
    renamed_onto = client.patch("/patron-categories/staff", json={"name": "adult"}, headers=boss)

    assert same_code.status_code == 409 and same_code.json["errors"] == {"code": "This code is taken"}
    assert same_name.status_code == same_code.status_code == renamed_onto.status_code == 409
    assert client.patch("/patron-categories/staff", json={"name": "STAFF"}, headers=boss).status_code == 200


@pytest.mark.parametrize("body, field", [
    ({"code": "Senior", "name": "Senior"}, "code"),  # lower case only: other services store it
    ({"code": "sen ior", "name": "Senior"}, "code"),
    ({"code": "s" * 33, "name": "Senior"}, "code"),
    ({"code": "senior\n", "name": "Senior"}, "code"),
    ({"code": "senior", "name": "Two\nlines"}, "name"),
    ({"code": "senior", "name": ""}, "name"),
    ({"code": "senior", "name": "x" * 101}, "name"),
    ({"code": "senior"}, "name"),
])
def test_invalid_categories_are_400(client, boss, body, field):
    response = client.post("/patron-categories", json=body, headers=boss)

    assert response.status_code == 400 and field in response.json["errors"]


@pytest.mark.parametrize("code", ["nobody", "Not%20A%20Code", "%00", "x" * 40])
def test_an_unknown_category_is_404(client, boss, code):
    assert client.patch(f"/patron-categories/{code}", json={"name": "X"}, headers=boss).status_code == 404
    response = client.delete(f"/patron-categories/{code}", headers=boss)
    assert response.status_code == 404 and response.json["message"].startswith("No patron category")


def test_a_category_is_deleted_only_when_nobody_is_in_it(client, boss, make_user):
    make_user("alice")
    client.patch("/users/alice", json={"category": "child"}, headers=boss)

    refused = client.delete("/patron-categories/child", headers=boss)
    client.patch("/users/alice", json={"category": "adult"}, headers=boss)
    deleted = client.delete("/patron-categories/child", headers=boss)

    assert refused.status_code == 409
    assert refused.json["message"] == "1 patron is in “Child”: move them to another category first"
    assert deleted.status_code == 204
    assert [category["code"] for category in client.get("/patron-categories", headers=boss).json] == ["adult",
                                                                                                      "staff"]


def test_the_default_category_is_never_deleted(client, boss):
    response = client.delete("/patron-categories/adult", headers=boss)

    assert response.status_code == 409 and "new accounts get" in response.json["message"]


def test_a_deleted_account_keeps_no_category_and_holds_none_back(client, boss, make_user):
    make_user("alice")
    client.patch("/users/alice", json={"category": "child", "active": False}, headers=boss)
    assert client.delete("/users/alice", headers=boss).status_code == 204

    assert client.delete("/patron-categories/child", headers=boss).status_code == 204


def test_an_unknown_category_for_an_account_is_400_naming_the_choices(client, boss, make_user):
    make_user("alice")

    response = client.patch("/users/alice", json={"category": "martian"}, headers=boss)
    desk = client.post("/users", json={"username": "kid", "first_name": "K", "last_name": "Id", "category": "nope"},
                       headers=boss)

    assert response.status_code == desk.status_code == 400
    assert response.json["errors"] == {"category": "No patron category 'martian': choose one of adult, child, "
                                                    "staff"}
    assert client.get("/users/alice", headers=boss).json["category"] == "adult"
    assert client.get("/users/kid", headers=boss).status_code == 404


def test_an_account_moved_into_a_category_deleted_meanwhile_is_refused_not_a_500(app, client, boss, make_user,
                                                                                 monkeypatch):
    """The check before the change passed; the category went before the change was written: the foreign key
    refuses it, and the answer is the same 400."""
    make_user("alice")
    client.post("/patron-categories", json={"code": "brief", "name": "Brief"}, headers=boss)
    checked = categories.check_exists

    def deleted_just_after_the_check(code):
        checked(code)
        categories.delete(code)
        return code

    monkeypatch.setattr(categories, "check_exists", deleted_just_after_the_check)

    response = client.patch("/users/alice", json={"category": "brief"}, headers=boss)

    assert response.status_code == 400 and "category" in response.json["errors"]
