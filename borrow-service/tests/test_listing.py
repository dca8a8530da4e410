import pytest


@pytest.fixture
def loans_out(client, as_user, borrow, neighbours):
    for book_id in (1, 2, 3):
        neighbours.copies[book_id] = 2
    borrow(1, "alice")
    borrow(2, "alice")
    borrow(1, "bob")
    client.post("/return", json={"book_id": 2}, headers=as_user("alice"))


def usernames_and_books(response):
    return sorted((loan["username"], loan["book_id"]) for loan in response.json)


def test_listing_loans_needs_a_token(client):
    assert client.get("/borrows").status_code == 401


def test_patrons_see_only_their_own_loans(client, as_user, loans_out):
    assert usernames_and_books(client.get("/borrows", headers=as_user("alice"))) == [("alice", 1), ("alice", 2)]
    assert client.get("/borrows?username=bob", headers=as_user("alice")).status_code == 403


def test_librarians_see_and_filter_every_loan(client, as_user, loans_out):
    librarian = as_user("boss", "librarian")

    everything = client.get("/borrows", headers=librarian)
    active = client.get("/borrows?active=true", headers=librarian)
    bobs = client.get("/borrows?username=bob", headers=librarian)
    book_one = client.get("/borrows?book_id=1", headers=librarian)
    overdue = client.get("/borrows?overdue=true", headers=librarian)

    assert everything.headers["X-Total-Count"] == "3"
    assert usernames_and_books(active) == [("alice", 1), ("bob", 1)]
    assert usernames_and_books(bobs) == [("bob", 1)]
    assert usernames_and_books(book_one) == [("alice", 1), ("bob", 1)]
    assert overdue.json == []


def test_user_history(client, as_user, loans_out):
    assert len(client.get("/borrows/user/alice", headers=as_user("alice")).json) == 2
    assert len(client.get("/borrows/user/alice?active=true", headers=as_user("alice")).json) == 1
    assert client.get("/borrows/user/alice", headers=as_user("bob")).status_code == 403
    assert client.get("/borrows/user/alice", headers=as_user("boss", "librarian")).status_code == 200


def test_book_history_is_for_librarians(client, as_user, loans_out):
    assert client.get("/borrows/book/1", headers=as_user("alice")).status_code == 403
    assert len(client.get("/borrows/book/1", headers=as_user("boss", "librarian")).json) == 2


def test_active_counts_for_some_or_all_books(client, loans_out):
    assert client.get("/borrows/active-counts?book_id=1&book_id=2&book_id=3").json == {
        "counts": {"1": 2, "2": 0, "3": 0}, "holds_waiting": {"1": 0, "2": 0, "3": 0}}
    assert client.get("/borrows/active-counts").json == {"counts": {"1": 2}, "holds_waiting": {}}


@pytest.mark.parametrize("query", ["book_id=abc", "book_id=0", "&".join(f"book_id={i}" for i in range(1, 102))])
def test_active_counts_validates_ids(client, query):
    assert client.get(f"/borrows/active-counts?{query}").status_code == 400
