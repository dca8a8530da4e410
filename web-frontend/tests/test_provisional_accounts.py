"""An account registered online and not approved yet (provisional) is told why it cannot borrow and what to do,
instead of a Borrow button that fails; librarians find such accounts on the Users page and approve them."""

import pytest

from .conftest import BOOKS, BORROWS, USERS, account, book, listing, patron


@pytest.mark.parametrize("awaiting, says", [
    ("email_confirmation", "Confirm your e-mail address to borrow:"),
    ("librarian_approval", "Your account is waiting for approval:"),
])
def test_a_provisional_patron_is_told_why_instead_of_a_borrow_button(client, services, log_in_as, awaiting, says):
    log_in_as("alice")
    services.get(f"{BOOKS}/books/1", json=book())
    services.get(f"{BORROWS}/patrons/alice", json=patron(provisional=True, awaiting=awaiting, may_borrow=False))

    html = client.get("/books/1").get_data(as_text=True)

    assert says in html and "You can place holds already." in html
    assert ">Borrow</button>" not in html


def test_a_provisional_patron_may_still_place_a_hold(client, services, log_in_as):
    log_in_as("alice")
    services.get(f"{BOOKS}/books/1", json=book(available=False, available_copies=0))
    services.get(f"{BORROWS}/patrons/alice", json=patron(provisional=True, awaiting="email_confirmation",
                                                         may_borrow=False))

    html = client.get("/books/1").get_data(as_text=True)

    assert ">Place a hold</button>" in html


def test_my_borrows_says_the_account_waits_for_approval(client, services, log_in_as):
    log_in_as("alice")
    services.get(f"{BORROWS}/borrows", **listing([]))
    services.get(f"{BORROWS}/holds", **listing([]))
    services.get(f"{BORROWS}/patrons/alice", json=patron(provisional=True, awaiting="email_confirmation",
                                                         may_borrow=False))

    html = client.get("/my/borrows").get_data(as_text=True)

    assert "Confirm your e-mail address to borrow:" in html


def test_librarians_see_and_filter_the_accounts_waiting_for_approval(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.get(f"{USERS}/users", **listing([account(provisional=True, awaiting="email_confirmation")]))

    html = client.get("/manage/users?provisional=true").get_data(as_text=True)

    assert "waiting for approval</span>" in html
    assert 'name="provisional" value="true" checked' in html
    assert services.calls[-1].request.params["provisional"] == "true"


def test_librarians_approve_on_the_patron_s_page(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.get(f"{USERS}/users/alice", json=account(provisional=True, awaiting="email_confirmation"))
    services.get(f"{BORROWS}/patrons/alice", json=patron(provisional=True, awaiting="email_confirmation"))
    services.get(f"{BORROWS}/borrows", **listing([]))
    services.get(f"{BORROWS}/holds", **listing([]))
    services.post(f"{USERS}/users/alice/approval", json=account())

    page = client.get("/manage/users/alice").get_data(as_text=True)
    approved = client.post("/manage/users/alice/approval")

    assert 'action="/manage/users/alice/approval"' in page and "Registered online, no e-mail address yet:" in page
    assert approved.status_code == 302 and approved.headers["Location"] == "/manage/users/alice"
    with client.session_transaction() as session:
        assert ("success", "alice is approved: they can borrow now.") in session["_flashes"]


@pytest.mark.parametrize("user, email, told", [
    ({"first_name": "Nora", "provisional": True, "awaiting": "email_confirmation"}, "nora@example.org",
     "Welcome, Nora! You can place holds now. We have sent a link to nora@example.org: open it to confirm your "
     "address. Once it is confirmed you can borrow too."),
    ({"first_name": "Omar", "provisional": True, "awaiting": "email_confirmation"}, None,
     "Welcome, Omar! You can place holds now. To borrow, add an e-mail address on your account and confirm it, "
     "or ask at the desk."),
    ({"first_name": "Ida", "provisional": True, "awaiting": "librarian_approval"}, None,
     "Welcome, Ida! You can place holds now, and borrow once a librarian has approved your account (ask at the "
     "desk)."),
    ({"first_name": "Sam", "provisional": False, "awaiting": None}, None, "Welcome, Sam! Your account is ready."),
])
def test_a_new_reader_is_told_what_lets_them_borrow(user, email, told):
    from web_frontend.views.account import welcome

    assert welcome(user, email) == told
