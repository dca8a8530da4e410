"""An account registered online is provisional until user-service approves it (its address confirmed, or a
librarian's approval): it may place holds, but neither it nor the desk can borrow for it; user-service is asked
on every loan, so an approval counts at once, whatever the token says."""

import pytest

from .conftest import barcode


@pytest.fixture
def newcomer(neighbours):
    """alice, signed up online with an address she has not confirmed yet."""
    neighbours.provisional["alice"] = "email_confirmation"
    neighbours.copies[1] = neighbours.copies[2] = 1
    return "alice"


def test_a_provisional_account_cannot_borrow_until_approved(borrow, neighbours, newcomer):
    refused = borrow(1, "alice")

    assert refused.status_code == 409
    assert refused.json["message"] == ("Your account is waiting for approval: confirm your e-mail address (the link "
                                       "we sent you, or add an address on your Account page), or ask at the desk")
    del neighbours.provisional["alice"]  # confirmed: the same token now borrows
    assert borrow(1, "alice").status_code == 201


def test_where_only_a_librarian_approves_the_message_says_so(borrow, neighbours, newcomer):
    neighbours.provisional["alice"] = "librarian_approval"

    assert borrow(1, "alice").json["message"] == "Your account is waiting for a librarian's approval: ask at the desk"


def test_the_desk_cannot_lend_to_a_provisional_account_either(borrow, desk, neighbours, newcomer):
    by_book = borrow(1, "boss", "librarian", username="alice")
    by_barcode = desk.check_out(barcode(1), "ALICE")

    assert by_book.status_code == by_barcode.status_code == 409
    assert by_barcode.json["message"] == ("alice's account is waiting for approval (registered online): approve it "
                                          "on their page to lend to them")


def test_a_provisional_account_places_holds_and_returns(borrow, hold, neighbours, newcomer):
    assert borrow(2, "bob").status_code == 201

    assert hold(2, "alice").status_code == 201


def test_at_a_glance_a_provisional_account_may_hold_but_not_borrow(client, as_user, neighbours, newcomer):
    mine = client.get("/patrons/alice", headers=as_user("alice")).json

    assert (mine["provisional"], mine["awaiting"], mine["may_borrow"], mine["may_hold"]) == (
        True, "email_confirmation", False, True)
    del neighbours.provisional["alice"]
    mine = client.get("/patrons/alice", headers=as_user("alice")).json
    assert (mine["provisional"], mine["awaiting"], mine["may_borrow"]) == (False, None, True)


def test_without_user_service_no_loan_is_guessed(borrow, neighbours, newcomer):
    neighbours.user_service.down = True

    assert borrow(1, "alice").status_code == 503
