"""Who may do what, endpoint by endpoint, against the running system.

Roles: a visitor (no token), patron A acting on A's own data, patron B acting on A's data, a
librarian (acting on A's data), and tokens of a user since deactivated and of one since deleted.
Each row gives the status every role must get; any other status fails the test.
"""

import base64
import hashlib
import hmac
import json
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt
import pytest
import requests

from library_common.testing import register_patron
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROLES = ("visitor", "patron_a", "patron_b", "librarian", "deactivated", "deleted")
PASSWORD = "matrix-password"


@dataclass
class World:
    """Everything the rows refer to, made once through the APIs."""

    tokens: dict
    usernames: dict  # role -> username
    victim: str  # patron A's username
    places: dict  # role -> {placeholder: value} for the rows' paths and bodies


def register(stack, prefix):
    """A patron signed up and approved, so it may borrow."""
    return stack.approve(register_patron(stack.users, prefix, PASSWORD))


@pytest.fixture(scope="module")
def world(stack):
    librarian = stack.login(*stack.librarian)

    def add_book(title, copies=1):
        response = requests.post(f"{stack.books}/books", headers=librarian, timeout=10,
                                 json={"title": title, "author": "M. Atrix", "genre": "Matrix", "copies": copies})
        response.raise_for_status()
        return response.json()["id"]

    def barcode_of(book_id):
        return requests.get(f"{stack.books}/books/{book_id}/items", timeout=10).json()[0]["barcode"]

    patron_a, patron_b, lender = register(stack, "alice"), register(stack, "bob"), register(stack, "lender")
    deactivated, deleted = register(stack, "gone"), register(stack, "erased")
    tokens = {"visitor": {}, "librarian": librarian}
    for role, username in (("patron_a", patron_a), ("patron_b", patron_b), ("deactivated", deactivated),
                           ("deleted", deleted)):
        tokens[role] = stack.login(username, PASSWORD)
    lender_token = stack.login(lender, PASSWORD)

    def lend(title, to=tokens["patron_a"]):
        book_id = add_book(title)
        loan = requests.post(f"{stack.borrows}/borrowbook", json={"book_id": book_id}, headers=to, timeout=10)
        loan.raise_for_status()
        return loan.json()["id"], book_id

    def due_tomorrow(title):
        """A loan to A due tomorrow (lent at the desk with a due date of its own), so a renewal gives more time."""
        book_id = add_book(title)
        tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).date().isoformat()
        loan = requests.post(f"{stack.borrows}/checkout", headers=librarian, timeout=10, json={
            "barcode": barcode_of(book_id), "username": patron_a, "override_reason": "Due tomorrow, to renew",
            "due_date": tomorrow})
        loan.raise_for_status()
        return loan.json()["id"]

    def held_by_a(title):
        """A book lent to someone else, with patron A waiting for it: the hold's id."""
        _loan, book_id = lend(title, to=lender_token)
        hold = requests.post(f"{stack.borrows}/holds", json={"book_id": book_id}, headers=tokens["patron_a"],
                             timeout=10)
        hold.raise_for_status()
        return hold.json()["id"]

    def notice_of_a():
        """A hold of A's made ready (the lender's copy checked in at the desk: a return on the web would wait for
        that scan): the notice notification-service makes of it."""
        _loan, book_id = lend("Held by A, made ready", to=lender_token)
        requests.post(f"{stack.borrows}/holds", json={"book_id": book_id}, headers=tokens["patron_a"],
                      timeout=10).raise_for_status()
        requests.post(f"{stack.borrows}/checkin", json={"barcode": barcode_of(book_id)}, headers=librarian,
                      timeout=10).raise_for_status()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = requests.get(f"{stack.notifications}/notifications", headers=tokens["patron_a"], timeout=10)
            if found.json():
                return found.json()[0]["id"]
            time.sleep(0.5)
        raise AssertionError("notification-service made no notice of A's ready hold within a minute")

    def an_import(until):
        """A small CSV imported as the librarian, taken by books-service's worker to `until` (staged, committed)."""
        created = requests.post(f"{stack.books}/imports", headers=librarian, timeout=10, files=csv_upload())
        created.raise_for_status()
        import_id = created.json()["id"]
        for step in ("staged", "committed")[:("staged", "committed").index(until) + 1]:
            if step == "committed":
                requests.post(f"{stack.books}/imports/{import_id}/commit", json={}, headers=librarian,
                              timeout=10).raise_for_status()
            deadline = time.monotonic() + 60
            while requests.get(f"{stack.books}/imports/{import_id}", headers=librarian,
                               timeout=10).json()["status"] != step:
                assert time.monotonic() < deadline, f"import {import_id} never became {step}"
                time.sleep(0.3)
        return import_id

    notice = notice_of_a()
    imports = {"import": an_import("staged"), "stage_me": an_import("staged"), "commit_me": an_import("staged"),
               "revert_me": an_import("committed"), "discard_me": an_import("staged")}
    places = {}
    for role in ROLES:
        loan, loan_book = lend(f"On loan to A, to return, for {role}")
        places[role] = {
            "victim": patron_a, "loan": due_tomorrow(f"On loan to A, to renew, for {role}"), "loan_book": loan_book,
            "returnable": lend(f"On loan to A, to return by id, for {role}")[0],
            "lent_item": barcode_of(lend(f"On loan to A, to check in, for {role}")[1]),
            "book": add_book(f"To borrow for {role}"), "spare": add_book(f"To delete for {role}"),
            "desk_item": barcode_of(add_book(f"To check out at the desk for {role}")),
            "spare_item": barcode_of(add_book(f"With a copy to remove for {role}", copies=2)),
            "all_out": lend(f"Every copy out, to hold for {role}", to=lender_token)[1],
            "hold": held_by_a(f"Held by A, to look at, for {role}"),
            "cancellable": held_by_a(f"Held by A, to cancel, for {role}"),
            "stranger": f"nobody-{role.replace('_', '-')}-{uuid.uuid4().hex[:4]}",
            "notice": notice, **imports,
            # cells of the circulation rules matrix: staff × every type (saved), child × dvd (never saved)
            "rule_category": "staff", "rule_type": "*", "unruled_category": "child", "unruled_type": "dvd",
            "no_closure": 999999,
        }
    shelf_book = add_book("On the shelf", copies=3)
    for role in ROLES:
        places[role] |= {"shelf": shelf_book, "shelf_item": barcode_of(shelf_book)}
    for username in (deactivated, deleted):
        requests.patch(f"{stack.users}/users/{username}", json={"active": False}, headers=librarian,
                       timeout=10).raise_for_status()
    requests.delete(f"{stack.users}/users/{deleted}", headers=librarian, timeout=10).raise_for_status()
    stack.wait_for_account_changes()
    genres = [requests.post(f"{stack.books}/genres", headers=librarian, timeout=10, json={"name": name}).json()["id"]
              for name in ("Matrix To Merge", "Matrix Kept", "Matrix Empty")]
    requests.post(f"{stack.users}/patron-categories", headers=librarian, timeout=10,
                  json={"code": "matrix-spare", "name": "Matrix spare"}).raise_for_status()
    victim_card = requests.get(f"{stack.users}/users/{patron_a}", headers=librarian, timeout=10).json()["card_number"]
    desk_patron = f"desk-{uuid.uuid4().hex[:8]}"  # registered without an address: no password until the desk gives one
    requests.post(f"{stack.users}/users", headers=librarian, timeout=10,
                  json={"username": desk_patron, "first_name": "D", "last_name": "Esk"}).raise_for_status()
    for role in ROLES:
        places[role] |= {"genre": genres[0], "genre_into": genres[1], "empty_genre": genres[2],
                         "victim_card": victim_card, "desk_patron": desk_patron, "category": "matrix",
                         "spare_category": "matrix-spare"}
    for code in ("matrix-renamed", "matrix-spare"):
        requests.post(f"{stack.books}/item-types", headers=librarian, timeout=10,
                      json={"code": code, "name": code.title()}).raise_for_status()
    for role in ROLES:
        places[role] |= {"item_type": "matrix-renamed", "spare_item_type": "matrix-spare"}
    return World(tokens=tokens, victim=patron_a, places=places,
                 usernames={"patron_a": patron_a, "patron_b": patron_b, "deactivated": deactivated,
                            "deleted": deleted})


# (service, method, path, body, expected: visitor, patron A, patron B on A's data, librarian, deactivated, deleted)
# In paths and bodies (World.places, one set per role): {victim} is patron A, {victim_card} A's library card (until
# the row that replaces it), {desk_patron} an account registered at the desk without a password or an address,
# {category} the patron category the POST row adds and {spare_category} an empty one to delete;
# {book} a book of the role's own,
# {loan} / {loan_book} / {returnable} / {lent_item} A's loans (and the barcode of one) set aside for it, {spare}
# a book without loans, {shelf} / {shelf_item} a book everyone reads, {desk_item} a free copy, {spare_item} a
# copy to remove, {all_out} a book whose copies are all out, {hold} / {cancellable} holds of A's, {stranger}
# a username nobody has, {notice} a notice of A's in the app, {import} / {stage_me} / {commit_me} / {discard_me}
# staged imports and {revert_me} a committed one, {item_type} an item type to rename and {spare_item_type} one to
# delete, {genre} / {genre_into} genres to merge and {empty_genre} one without books to delete. Rows run in order;
# the role change comes last because it rightly invalidates patron A's token.
MATRIX = [
    ("books", "GET", "/books", None, (200, 200, 200, 200, 200, 200)),
    ("books", "GET", "/books/{shelf}", None, (200, 200, 200, 200, 200, 200)),
    ("books", "GET", "/genres", None, (200, 200, 200, 200, 200, 200)),
    ("books", "POST", "/books", {"title": "New", "author": "N. Ew", "genre": "New"}, (401, 403, 403, 201, 401, 401)),
    ("books", "PATCH", "/books/{shelf}", {"description": "Checked"}, (401, 403, 403, 200, 401, 401)),
    ("books", "PUT", "/books/{shelf}", {"title": "On the shelf", "author": "M. Atrix", "genre": "Matrix",
                                        "copies": 3}, (401, 403, 403, 200, 401, 401)),
    ("books", "DELETE", "/books/{spare}", None, (401, 403, 403, 204, 401, 401)),
    ("books", "GET", "/books/{shelf}/items", None, (200, 200, 200, 200, 200, 200)),
    ("books", "GET", "/books/{shelf}/cover", None, (404, 404, 404, 404, 404, 404)),  # anyone; it has no cover
    ("books", "POST", "/books/{shelf}/items", {}, (401, 403, 403, 201, 401, 401)),
    ("books", "GET", "/items/{shelf_item}", None, (200, 200, 200, 200, 200, 200)),
    ("books", "PATCH", "/items/{shelf_item}", {"status": "available"}, (401, 403, 403, 200, 401, 401)),
    # a copy on loan is still described (its shelf details ask nothing of circulation)
    ("books", "PATCH", "/items/{lent_item}", {"call_number": "823 MAT", "shelf_location": "Matrix shelf"},
     (401, 403, 403, 200, 401, 401)),
    ("books", "DELETE", "/items/{spare_item}", None, (401, 403, 403, 204, 401, 401)),
    ("books", "GET", "/books/facets?q=shelf", None, (200, 200, 200, 200, 200, 200)),
    ("books", "GET", "/books/suggestions?q=shelf", None, (200, 200, 200, 200, 200, 200)),
    ("books", "POST", "/genres", {"name": "Matrix Poetry"}, (401, 403, 403, 201, 401, 401)),
    ("books", "PATCH", "/genres/{genre}", {"name": "Matrix Renamed"}, (401, 403, 403, 200, 401, 401)),
    ("books", "POST", "/genres/{genre}/merge", {"into": "{genre_into}"}, (401, 403, 403, 200, 401, 401)),
    ("books", "DELETE", "/genres/{empty_genre}", None, (401, 403, 403, 204, 401, 401)),
    ("books", "GET", "/item-types", None, (200, 200, 200, 200, 200, 200)),
    ("books", "POST", "/item-types", {"code": "matrix-kit", "name": "Matrix kit"}, (401, 403, 403, 201, 401, 401)),
    ("books", "PATCH", "/item-types/{item_type}", {"name": "Matrix Renamed"}, (401, 403, 403, 200, 401, 401)),
    ("books", "DELETE", "/item-types/{spare_item_type}", None, (401, 403, 403, 204, 401, 401)),
    ("books", "POST", "/imports", "csv-upload", (401, 403, 403, 202, 401, 401)),
    ("books", "GET", "/imports", None, (401, 403, 403, 200, 401, 401)),
    ("books", "GET", "/imports/{import}", None, (401, 403, 403, 200, 401, 401)),
    ("books", "GET", "/imports/{import}/records", None, (401, 403, 403, 200, 401, 401)),
    ("books", "POST", "/imports/{stage_me}/staging", {"copies": 2}, (401, 403, 403, 202, 401, 401)),
    ("books", "POST", "/imports/{commit_me}/commit", {}, (401, 403, 403, 202, 401, 401)),
    ("books", "POST", "/imports/{revert_me}/revert", None, (401, 403, 403, 202, 401, 401)),
    ("books", "DELETE", "/imports/{discard_me}", None, (401, 403, 403, 204, 401, 401)),
    ("borrows", "GET", "/circulation/books?book_id={shelf}", None, (401, 403, 403, 200, 401, 401)),
    ("users", "POST", "/register", "fresh-registration", (201, 201, 201, 201, 201, 201)),
    ("users", "POST", "/login", {"username": "{stranger}", "password": "no-such-password"}, (401,) * 6),
    ("users", "GET", "/.well-known/jwks.json", None, (200, 200, 200, 200, 200, 200)),
    ("users", "POST", "/service-tokens", {"service": "notification-service", "secret": "wrong"}, (401,) * 6),
    # The event feeds, contacts and mailed links are for services alone (see SERVICES_LET_IN)
    ("users", "GET", "/events", None, (401, 403, 403, 403, 401, 401)),
    ("borrows", "GET", "/events", None, (401, 403, 403, 403, 401, 401)),
    ("users", "GET", "/contacts/{victim}", None, (401, 403, 403, 403, 401, 401)),
    ("users", "POST", "/mailed-links", {"event_id": 1}, (401, 403, 403, 403, 401, 401)),
    ("users", "GET", "/docs", None, (200, 200, 200, 200, 200, 200)),
    ("books", "GET", "/docs", None, (200, 200, 200, 200, 200, 200)),
    ("borrows", "GET", "/docs", None, (200, 200, 200, 200, 200, 200)),
    ("books", "GET", "/docs/vendor/swagger-ui-bundle.js", None, (200, 200, 200, 200, 200, 200)),
    ("users", "GET", "/me", None, (401, 200, 200, 200, 401, 401)),
    ("users", "GET", "/users", None, (401, 403, 403, 200, 401, 401)),
    ("users", "GET", "/users/{victim}", None, (401, 200, 403, 200, 401, 401)),
    ("users", "PATCH", "/users/{victim}", {"first_name": "Alice"}, (401, 200, 403, 200, 401, 401)),
    ("users", "DELETE", "/users/{victim}", None, (401, 403, 403, 409, 401, 401)),
    ("users", "POST", "/users", "fresh-desk-registration", (401, 403, 403, 201, 401, 401)),
    # Links from mailed e-mails: anyone may use one (the token is the proof); patron A has no address (409).
    ("users", "POST", "/email-verifications", {"token": "not.a.link"}, (400,) * 6),
    ("users", "POST", "/users/{victim}/email-verifications", None, (401, 409, 403, 403, 401, 401)),
    ("users", "POST", "/password-resets", {"username_or_email": "{victim}"}, (202,) * 6),
    ("users", "POST", "/password-resets/check", {"token": "not.a.link"}, (400,) * 6),
    ("users", "POST", "/password-resets/confirm", {"token": "not.a.link", "password": PASSWORD}, (400,) * 6),
    ("users", "POST", "/users/{victim}/password-reset", None, (401, 403, 403, 409, 401, 401)),
    ("users", "POST", "/users/{victim}/approval", None, (401, 403, 403, 200, 401, 401)),
    # Patron categories: everyone with a token reads them (the services too, see SERVICES_LET_IN); librarians
    # keep them, and alone set an account's category, card expiry and contact details
    ("users", "GET", "/patron-categories", None, (401, 200, 200, 200, 401, 401)),
    ("users", "POST", "/patron-categories", {"code": "matrix", "name": "Matrix"}, (401, 403, 403, 201, 401, 401)),
    ("users", "PATCH", "/patron-categories/{category}", {"name": "Matrix renamed"}, (401, 403, 403, 200, 401, 401)),
    ("users", "DELETE", "/patron-categories/{spare_category}", None, (401, 403, 403, 204, 401, 401)),
    ("users", "PATCH", "/users/{victim}", {"category": "child"}, (401, 403, 403, 200, 401, 401)),
    ("users", "PATCH", "/users/{victim}", {"staff_note": "Checked"}, (401, 403, 403, 200, 401, 401)),
    ("users", "PATCH", "/users/{victim}", {"card_expires_on": "2030-01-31"}, (401, 403, 403, 200, 401, 401)),
    # Library cards: the desk's lookup, renewal and replacement (after which A's old card is refused), a first
    # password for a patron no mailed link can reach (shown to the librarian once)
    ("users", "GET", "/cards/{victim_card}", None, (401, 403, 403, 200, 401, 401)),
    ("users", "POST", "/users/{victim}/card/renewal", None, (401, 403, 403, 200, 401, 401)),
    ("users", "POST", "/users/{victim}/card", None, (401, 403, 403, 200, 401, 401)),
    ("users", "GET", "/cards/{victim_card}", None, (401, 403, 403, 409, 401, 401)),
    ("users", "POST", "/users/{desk_patron}/desk-password", None, (401, 403, 403, 201, 401, 401)),
    ("borrows", "GET", "/borrows/active-counts?book_id={shelf}", None, (200, 200, 200, 200, 200, 200)),
    ("borrows", "GET", "/borrows?username={victim}", None, (401, 200, 403, 200, 401, 401)),
    ("borrows", "GET", "/borrows/user/{victim}", None, (401, 200, 403, 200, 401, 401)),
    ("borrows", "GET", "/borrows/book/{loan_book}", None, (401, 403, 403, 200, 401, 401)),
    ("borrows", "POST", "/borrowbook", {"book_id": "{book}", "username": "{victim}"}, (401, 201, 403, 201, 401, 401)),
    ("borrows", "POST", "/return", {"book_id": "{loan_book}", "username": "{victim}"}, (401, 200, 403, 200, 401, 401)),
    ("borrows", "POST", "/borrows/{loan}/renew", None, (401, 200, 403, 200, 401, 401)),
    ("borrows", "POST", "/borrows/{returnable}/return", None, (401, 200, 403, 200, 401, 401)),
    ("borrows", "POST", "/checkout", {"barcode": "{desk_item}", "username": "{victim}"},
     (401, 403, 403, 201, 401, 401)),
    ("borrows", "POST", "/checkin", {"barcode": "{lent_item}"}, (401, 403, 403, 200, 401, 401)),
    ("borrows", "GET", "/circulation/books/{shelf}", None, (401, 403, 403, 200, 401, 401)),
    ("borrows", "POST", "/holds", {"book_id": "{all_out}", "username": "{victim}"}, (401, 201, 403, 201, 401, 401)),
    ("borrows", "GET", "/holds?username={victim}", None, (401, 200, 403, 200, 401, 401)),
    ("borrows", "GET", "/holds/{hold}", None, (401, 200, 403, 200, 401, 401)),
    ("borrows", "POST", "/holds/{cancellable}/cancel", None, (401, 200, 403, 200, 401, 401)),
    ("borrows", "PATCH", "/holds/{hold}", {"not_needed_after": "2099-01-01"}, (401, 200, 403, 200, 401, 401)),
    # patron A's hold is alone in its line: a librarian is let in, and told it is first already
    ("borrows", "POST", "/holds/{hold}/move", {"direction": "up", "reason": "Matrix"}, (401, 403, 403, 409, 401, 401)),
    ("borrows", "GET", "/patrons/{victim}", None, (401, 200, 403, 200, 401, 401)),
    ("borrows", "GET", "/patrons/{victim}/settings", None, (401, 200, 403, 200, 401, 401)),
    ("borrows", "PUT", "/patrons/{victim}/settings", {"keep_history": True}, (401, 200, 403, 403, 401, 401)),
    ("borrows", "DELETE", "/patrons/{victim}/history", None, (401, 204, 403, 403, 401, 401)),
    ("borrows", "POST", "/patrons/{stranger}/close", None, (401, 403, 403, 200, 401, 401)),
    # the library's policy: anyone logged in reads the rules, anyone the calendar; librarians change them
    ("borrows", "GET", "/circulation-rules", None, (401, 200, 200, 200, 401, 401)),
    ("borrows", "PUT", "/circulation-rules/{rule_category}/{rule_type}",
     {"loan_days": 28, "max_renewals": 3, "max_loans": 20, "holdable": True, "hold_pickup_days": 7},
     (401, 403, 403, 200, 401, 401)),
    ("borrows", "DELETE", "/circulation-rules/{unruled_category}/{unruled_type}", None,
     (401, 403, 403, 404, 401, 401)),  # none saved there
    ("borrows", "GET", "/calendar", None, (200, 200, 200, 200, 200, 200)),
    ("borrows", "POST", "/calendar/closures", {"day": "2099-12-25", "reason": "Matrix Day"},
     (401, 403, 403, 201, 401, 401)),
    ("borrows", "DELETE", "/calendar/closures/{no_closure}", None, (401, 403, 403, 404, 401, 401)),
    # the audit trail of each service: librarians alone read it (services too are refused), nobody changes it
    ("books", "GET", "/audit", None, (401, 403, 403, 200, 401, 401)),
    ("users", "GET", "/audit", None, (401, 403, 403, 200, 401, 401)),
    ("borrows", "GET", "/audit", None, (401, 403, 403, 200, 401, 401)),
    ("borrows", "GET", "/holds/pull-list", None, (401, 403, 403, 200, 401, 401)),
    # notification-service: everyone logged in has their own notices and choices; another's are not found
    ("notifications", "GET", "/notifications", None, (401, 200, 200, 200, 401, 401)),
    ("notifications", "GET", "/notifications/unread-count", None, (401, 200, 200, 200, 401, 401)),
    ("notifications", "POST", "/notifications/{notice}/read", None, (401, 200, 404, 404, 401, 401)),
    ("notifications", "POST", "/notifications/read", None, (401, 200, 200, 200, 401, 401)),
    ("notifications", "GET", "/preferences", None, (401, 200, 200, 200, 401, 401)),
    ("notifications", "PUT", "/preferences", {"choices": {"due_soon": "both"}}, (401, 200, 200, 200, 401, 401)),
    ("notifications", "GET", "/notices/failed", None, (401, 403, 403, 200, 401, 401)),
    ("notifications", "POST", "/notices/{notice}/retry", None, (401, 403, 403, 404, 401, 401)),  # it did not fail
    ("users", "PATCH", "/users/{victim}", {"role": "librarian"}, (401, 403, 403, 200, 401, 401)),
]
INTEGER_PLACES = {"book", "loan_book", "all_out", "genre_into"}
# Logging out ends the caller's own session, or all of them: each role logs out with a token of its own, made for
# this row (the deactivated and deleted keep their old ones), after every row above.
LOGOUT = ("users", "POST", "/logout", None, (401, 204, 204, 204, 401, 401))
LOGOUT_EVERYWHERE = ("users", "POST", "/logout/everywhere", None, (401, 204, 204, 204, 401, 401))


def fill(template, world, role):
    values = world.places[role]
    if isinstance(template, str):
        return template.format(**values)
    if isinstance(template, dict):
        return {key: int(fill(v, world, role)) if isinstance(v, str) and v.strip("{}") in INTEGER_PLACES
                else fill(v, world, role) for key, v in template.items()}
    return template


def csv_upload():
    return {"file": ("matrix.csv", f"title,author\nMatrix {uuid.uuid4().hex[:6]},M. Atrix\n".encode(), "text/csv")}


def body_for(template, world, role):
    if template == "csv-upload":
        return None
    if template == "fresh-registration":
        return {"username": f"new-{uuid.uuid4().hex[:8]}", "password": PASSWORD, "first_name": "N", "last_name": "U"}
    if template == "fresh-desk-registration":
        return {"username": f"desk-{uuid.uuid4().hex[:8]}", "first_name": "D", "last_name": "Esk",
                "email": f"desk-{uuid.uuid4().hex[:8]}@example.org"}
    return fill(template, world, role)


@pytest.mark.parametrize("service, method, path, body, expected", MATRIX,
                         ids=[f"{m} {s}{p}" + (f" {json.dumps(b)[:30]}" if isinstance(b, dict) else "")
                              for s, m, p, b, _ in MATRIX])
def test_each_role_gets_exactly_the_expected_status(stack, world, service, method, path, body, expected):
    outcomes = {}
    for role in ROLES:
        response = requests.request(method, stack.url[service] + fill(path, world, role),
                                    json=body_for(body, world, role), headers=world.tokens[role], timeout=10,
                                    files=csv_upload() if body == "csv-upload" else None)
        outcomes[role] = response.status_code
        if response.status_code >= 400:
            assert response.headers["Content-Type"].startswith("application/json")
            assert response.json()["message"]
    assert outcomes == dict(zip(ROLES, expected, strict=True))


# A service's token acts for nobody: it gets what a visitor gets (a refusal for want of a token becomes 403: the
# token is good, its holder is not let in), except where its scopes let it: (books-service, notification-service).
SERVICES_LET_IN = {
    ("users", "GET", "/events"): (403, 200),
    ("borrows", "GET", "/events"): (403, 200),
    ("users", "GET", "/contacts/{victim}"): (403, 200),
    ("users", "POST", "/mailed-links"): (403, 404),  # event 1 asked for no link (a registration)
    ("users", "GET", "/patron-categories"): (200, 200),  # what every service may know of an account's category
    ("borrows", "GET", "/circulation/books?book_id={shelf}"): (200, 403),
    ("borrows", "GET", "/circulation/books/{shelf}"): (200, 403),
}
API_SERVICES = ("books", "users", "borrows", "notifications")


def as_a_service_gets(row):
    service, method, path, _body, expected = row
    if (service, method, path) in SERVICES_LET_IN:
        return SERVICES_LET_IN[service, method, path]
    visitor, people = expected[0], expected[1:]
    refused_for_want_of_a_token = visitor == 401 and any(status != 401 for status in people)
    return (403, 403) if refused_for_want_of_a_token else (visitor, visitor)


@pytest.mark.parametrize("row", [row for row in MATRIX if row[0] in API_SERVICES],
                         ids=[f"{m} {s}{p}" for s, m, p, _b, _e in MATRIX if s in API_SERVICES])
def test_each_services_token_gets_exactly_what_its_scopes_allow(stack, world, service_tokens, row):
    service, method, path, body, _expected = row
    outcomes = tuple(requests.request(method, stack.url[service] + fill(path, world, "visitor"),
                                      json=body_for(body, world, "visitor"), headers=headers, timeout=10,
                                      files=csv_upload() if body == "csv-upload" else None).status_code
                     for headers in service_tokens)
    assert outcomes == as_a_service_gets(row)


@pytest.fixture(scope="module")
def service_tokens(stack):
    """(books-service's headers, notification-service's): asked once, as the services do (it is rate-limited)."""
    from conftest import BOOKS_SERVICE
    return stack.service_headers(BOOKS_SERVICE), stack.service_headers()


def test_every_operation_of_every_service_has_a_row(stack):
    """The matrix grows with every endpoint: an operation in a service's OpenAPI document without a row
    here fails (health probes and the documents themselves aside)."""
    unprobed = {"/health", "/ready"}
    rows = {(service, method, re.sub(r"\{[^}]+\}", "{}", path.split("?")[0]))
            for service, method, path, *_ in [*MATRIX, LOGOUT, LOGOUT_EVERYWHERE]}
    missing = []
    for service in ("books", "users", "borrows", "notifications"):
        document = requests.get(f"{stack.url[service]}/openapi.json", timeout=10).json()
        for path, operations in document["paths"].items():
            for method in operations:
                if method in ("get", "post", "put", "patch", "delete") and path not in unprobed:
                    key = (service, method.upper(), re.sub(r"\{[^}]+\}", "{}", path))
                    if key not in rows:
                        missing.append(key)
    assert missing == [], f"add rows to MATRIX for {missing}"
@pytest.mark.parametrize("row", [LOGOUT, LOGOUT_EVERYWHERE], ids=["this session", "everywhere"])
def test_each_role_gets_exactly_the_expected_status_when_logging_out(stack, world, row):
    service, method, path, _body, expected = row
    usernames = {"patron_a": world.victim, "patron_b": world.usernames["patron_b"], "librarian": stack.librarian[0]}
    passwords = {"librarian": stack.librarian[1]}
    logins = {role: stack.login(username, passwords.get(role, PASSWORD)) for role, username in usernames.items()}
    other_devices = {role: stack.login(username, passwords.get(role, PASSWORD)) for role, username in usernames.items()}
    tokens = world.tokens | logins
    outcomes = {}
    for role in ROLES:
        response = requests.request(method, stack.url[service] + path, headers=tokens[role], timeout=10)
        outcomes[role] = response.status_code
        if response.status_code >= 400:
            assert response.json()["message"]
    assert outcomes == dict(zip(ROLES, expected, strict=True))
    for role in ("patron_a", "patron_b", "librarian"):  # ended at once where the sessions are kept
        assert requests.get(f"{stack.users}/me", headers=tokens[role], timeout=10).status_code == 401
        elsewhere = requests.get(f"{stack.users}/me", headers=other_devices[role], timeout=10).status_code
        assert elsewhere == (401 if row is LOGOUT_EVERYWHERE else 200)


# ---- forged tokens, against the real services ------------------------------------------------------------


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def forged_tokens(stack, world):
    real = world.tokens["patron_a"]["Authorization"].split()[1]
    header, payload, signature = real.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    kid = jwt.get_unverified_header(real)["kid"]
    jwk = next(k for k in requests.get(f"{stack.users}/.well-known/jwks.json", timeout=5).json()["keys"]
               if k["kid"] == kid)
    public_pem = jwt.PyJWK(jwk).key.public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    hs_header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    hs_input = f"{hs_header}.{payload}".encode()
    return {
        "alg none": f"{b64(json.dumps({'alg': 'none', 'typ': 'JWT', 'kid': kid}).encode())}.{payload}.",
        "HS256 signed with the public key": f"{hs_header}.{payload}."
                                            + b64(hmac.new(public_pem, hs_input, hashlib.sha256).digest()),
        "role edited": f"{header}.{b64(json.dumps(claims | {'role': 'librarian'}).encode())}.{signature}",
        "unknown kid": jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "not-ours"}),
        "our kid, another key": jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": kid}),
        "wrong issuer": jwt.encode(claims | {"iss": "evil"}, stranger, algorithm="RS256", headers={"kid": kid}),
        "expired": jwt.encode(claims | {"exp": 1}, stranger, algorithm="RS256", headers={"kid": kid}),
    }


@pytest.mark.parametrize("attack", ["alg none", "HS256 signed with the public key", "role edited", "unknown kid",
                                    "our kid, another key", "wrong issuer", "expired"])
@pytest.mark.parametrize("service, path", [("users", "/users"), ("books", "/books"), ("borrows", "/borrows"),
                                           ("notifications", "/notifications")])
def test_forged_tokens_are_refused_by_every_service(stack, forged_tokens, attack, service, path):
    headers = {"Authorization": f"Bearer {forged_tokens[attack]}"}
    method = "POST" if service == "books" else "GET"

    response = requests.request(method, stack.url[service] + path, headers=headers, timeout=10,
                                json={"title": "x", "author": "y", "genre": "z"} if method == "POST" else None)

    assert response.status_code == 401, response.text


# ---- the web frontend ------------------------------------------------------------------------------------


def browser_session(stack, username=None, password=PASSWORD):
    session = requests.Session()
    if username:
        page = session.get(f"{stack.web}/login", timeout=10).text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = session.post(f"{stack.web}/login", timeout=10, allow_redirects=False,
                                data={"username": username, "password": password, "csrf_token": token})
        assert response.status_code == 302, response.text[:500]
    return session


@pytest.fixture(scope="module")
def browsers(stack):
    """A browser session per role, logged in before the deactivation and deletion happen."""
    librarian_token = stack.login(*stack.librarian)
    names = {role: register(stack, role.replace("_", "")) for role in ("patron_a", "patron_b", "deactivated",
                                                                          "deleted")}
    sessions = {"visitor": browser_session(stack), "librarian": browser_session(stack, *stack.librarian)}
    for role, username in names.items():
        sessions[role] = browser_session(stack, username)
    for role in ("deactivated", "deleted"):
        requests.patch(f"{stack.users}/users/{names[role]}", json={"active": False}, headers=librarian_token,
                       timeout=10).raise_for_status()
    requests.delete(f"{stack.users}/users/{names['deleted']}", headers=librarian_token, timeout=10).raise_for_status()
    stack.wait_for_account_changes()
    return sessions, names["patron_a"]


PAGES = [  # path, expected: visitor, patron A, patron B, librarian, deactivated, deleted (302: to the login page)
    ("/", (200, 200, 200, 200, 200, 200)),
    ("/login", (200, 200, 200, 200, 200, 200)),
    ("/my/borrows", (302, 200, 200, 200, 302, 302)),
    ("/account", (302, 200, 200, 200, 302, 302)),
    ("/forgot-password", (200, 200, 200, 200, 200, 200)),
    ("/reset-password?token=abc", (303, 303, 303, 303, 303, 303)),  # the token moves into the session
    ("/account/verify?token=abc", (303, 303, 303, 303, 303, 303)),
    ("/manage/books/new", (302, 403, 403, 200, 302, 302)),
    ("/manage/loans", (302, 403, 403, 200, 302, 302)),
    ("/manage/users", (302, 403, 403, 200, 302, 302)),
    ("/manage/genres", (302, 403, 403, 200, 302, 302)),
    ("/manage/item-types", (302, 403, 403, 200, 302, 302)),
    ("/manage/patron-categories", (302, 403, 403, 200, 302, 302)),
    ("/manage/users/{victim}/card", (302, 403, 403, 200, 302, 302)),  # the card to print
    ("/manage/users/{victim}/card/replacement", (302, 403, 403, 200, 302, 302)),  # asks first
    ("/manage/policy", (302, 403, 403, 200, 302, 302)),
    ("/suggestions?q=sh", (200, 200, 200, 200, 200, 200)),
    ("/books/999999/cover", (404, 404, 404, 404, 404, 404)),  # anyone's; no such book, no cover
    ("/manage/users/{victim}/borrows", (302, 403, 403, 200, 302, 302)),
    ("/manage/users/{victim}", (302, 403, 403, 200, 302, 302)),
    ("/manage/users/{victim}/deactivate", (302, 403, 403, 200, 302, 302)),
    ("/manage/patrons/new", (302, 403, 403, 200, 302, 302)),
    ("/manage/holds", (302, 403, 403, 200, 302, 302)),
    ("/manage/patrons/suggestions?patron=a", (302, 403, 403, 200, 302, 302)),
    ("/manage/activity", (302, 403, 403, 200, 302, 302)),
    ("/manage/activity?subject={victim}", (302, 403, 403, 200, 302, 302)),
    ("/manage/activity.csv", (302, 403, 403, 200, 302, 302)),  # every part must answer: needs each GET /audit
]


@pytest.mark.parametrize("path, expected", PAGES, ids=[p for p, _ in PAGES])
def test_each_role_gets_exactly_the_expected_page(stack, browsers, path, expected):
    sessions, victim = browsers
    outcomes = {}
    for role in ROLES:
        response = sessions[role].get(stack.web + path.format(victim=victim), timeout=10, allow_redirects=False)
        outcomes[role] = response.status_code
        if response.status_code == 302:
            assert "/login?next=" in response.headers["Location"]
    assert outcomes == dict(zip(ROLES, expected, strict=True))


# Page actions (a POST with the page's CSRF token): path, expected as for PAGES, and where a librarian is sent.
PAGE_ACTIONS = [
    ("/manage/users/{victim}/approval", (302, 403, 403, 302, 302, 302), "/manage/users/{victim}"),
    ("/manage/users/{victim}/card/renewal", (302, 403, 403, 302, 302, 302), "/manage/users/{victim}#card"),
]


@pytest.mark.parametrize("path, expected, librarian_lands_on", PAGE_ACTIONS, ids=[p for p, *_ in PAGE_ACTIONS])
def test_each_role_gets_exactly_the_expected_page_action(stack, browsers, path, expected, librarian_lands_on):
    sessions, victim = browsers
    outcomes = {}
    for role in ROLES:
        page = sessions[role].get(f"{stack.web}/forgot-password", timeout=10).text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = sessions[role].post(stack.web + path.format(victim=victim), data={"csrf_token": token},
                                       timeout=10, allow_redirects=False)
        outcomes[role] = response.status_code
        if response.status_code == 302:
            location = response.headers["Location"]
            assert location == librarian_lands_on.format(victim=victim) if role == "librarian" else \
                "/login?next=" in location
    assert outcomes == dict(zip(ROLES, expected, strict=True))


def test_a_post_without_a_csrf_token_is_refused(stack, browsers):
    sessions, _ = browsers

    for path in ("/logout", "/logout/everywhere", "/books/1/borrow", "/my/borrows/1/renew", "/account/password",
                 "/account/email", "/forgot-password", "/reset-password", "/account/verify"):
        response = sessions["patron_a"].post(stack.web + path, timeout=10, allow_redirects=False)
        assert response.status_code == 400, path
    assert sessions["patron_a"].get(f"{stack.web}/my/borrows", timeout=10, allow_redirects=False).status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "http:evil"])
def test_login_never_sends_anyone_off_site(stack, browsers, target):
    session = requests.Session()
    page = session.get(f"{stack.web}/login", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    response = session.post(f"{stack.web}/login", timeout=10, allow_redirects=False, data={
        "username": stack.librarian[0], "password": stack.librarian[1], "csrf_token": token, "next": target})

    assert response.headers["Location"] == "/"


def test_logging_in_starts_a_new_session(stack):
    session = requests.Session()
    page = session.get(f"{stack.web}/login", timeout=10).text
    before = session.cookies.get("session")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    session.post(f"{stack.web}/login", timeout=10, allow_redirects=False, data={
        "username": stack.librarian[0], "password": stack.librarian[1], "csrf_token": token})

    after = session.cookies.get("session")
    assert after and after != before
    planted = requests.Session()
    planted.cookies.set("session", before)
    assert planted.get(f"{stack.web}/manage/users", timeout=10, allow_redirects=False).status_code == 302


def test_pages_cannot_be_framed(stack):
    headers = requests.get(f"{stack.web}/", timeout=10).headers

    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
