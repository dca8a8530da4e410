"""Accounts that cannot be hijacked, locked out or flooded (issue 12), against the running system."""

import re
import threading
import time
import uuid

import requests

from library_common.testing import register_patron

PASSWORD = "defended-password"


def register(stack, prefix):
    """A patron signed up and approved, so it may borrow."""
    return stack.approve(register_patron(stack.users, prefix, PASSWORD))


def address():
    """A client address of its own (the test speaks for it as the frontend would: X-Forwarded-For)."""
    number = uuid.uuid4().int
    return f"198.18.{number % 250}.{number // 250 % 250 + 1}"


def log_in(stack, username, password, client):
    return requests.post(f"{stack.users}/login", json={"username": username, "password": password},
                         headers={"X-Forwarded-For": client}, timeout=10)


# ---- finding 1: a deleted user's loans never pass to whoever registers the name next -----------------------


def test_a_deleted_accounts_name_and_loans_stay_its_own(stack):
    librarian = stack.login(*stack.librarian)
    book = requests.post(f"{stack.books}/books", headers=librarian, timeout=10, json={
        "title": "Left behind", "author": "D. Parted", "genre": "Matrix"}).json()
    username = register(stack, "leaver")
    patron = stack.login(username, PASSWORD)
    loan = requests.post(f"{stack.borrows}/borrowbook", json={"book_id": book["id"]}, headers=patron, timeout=10).json()
    requests.patch(f"{stack.users}/users/{username}", json={"active": False}, headers=librarian,
                   timeout=10).raise_for_status()

    refused = requests.delete(f"{stack.users}/users/{username}", headers=librarian, timeout=10)
    assert refused.status_code == 409 and "on loan" in refused.json()["message"]

    checked_in = requests.post(f"{stack.borrows}/borrows/{loan['id']}/return", headers=librarian, timeout=10)
    assert checked_in.status_code == 200
    assert requests.delete(f"{stack.users}/users/{username}", headers=librarian, timeout=10).status_code == 204

    newcomer = requests.post(f"{stack.users}/register", timeout=10, json={
        "username": username.upper(), "password": "a-newcomers-password", "first_name": "New", "last_name": "Comer"})
    assert newcomer.status_code == 409
    assert log_in(stack, username, PASSWORD, address()).status_code == 401
    history = requests.get(f"{stack.borrows}/borrows", params={"username": username}, headers=librarian, timeout=10)
    assert [(old["id"], old["returned"]) for old in history.json()] == [(loan["id"], True)]


# ---- finding 2: nobody can lock an account out of login ----------------------------------------------------


def test_an_attacker_elsewhere_cannot_lock_the_owner_out(stack):
    username = register(stack, "owner")
    attacker, owner = address(), address()
    for _ in range(12):
        log_in(stack, username, "a wrong guess", attacker)

    blocked = log_in(stack, username, PASSWORD, attacker)

    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
    assert log_in(stack, username, PASSWORD, owner).status_code == 200


def test_sixteen_simultaneous_guesses_check_at_most_five_passwords(stack):
    username, attacker = register(stack, "target"), address()
    start = threading.Barrier(16)
    statuses = []

    def guess(number):
        start.wait()
        statuses.append(log_in(stack, username, f"guess number {number}", attacker).status_code)

    threads = [threading.Thread(target=guess, args=(number,)) for number in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses.count(401) <= 5  # passwords actually checked; the rest had to wait
    assert statuses.count(429) >= 11


# ---- finding 3: a caller cannot pick its own address -------------------------------------------------------


def test_through_the_web_pages_a_forged_address_changes_nothing(stack):
    """The frontend trusts no proxy here: X-Forwarded-For sent to it is ignored, not passed on."""
    username = register(stack, "spoofed")
    session = requests.Session()
    statuses = []
    for number in range(7):
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                          session.get(f"{stack.web}/login", timeout=10).text).group(1)
        page = session.post(f"{stack.web}/login", timeout=10, headers={"X-Forwarded-For": f"192.0.2.{number}"},
                            data={"username": username, "password": "a wrong guess", "csrf_token": token})
        statuses.append("Too many failed attempts" in page.text)

    assert statuses == [False] * 5 + [True] * 2


# ---- finding 4: logging out, or changing the password, ends what came before -------------------------------


def browser_logged_in(stack, username):
    session = requests.Session()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      session.get(f"{stack.web}/login", timeout=10).text).group(1)
    response = session.post(f"{stack.web}/login", timeout=10, allow_redirects=False,
                            data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return session


def test_logging_out_on_the_pages_ends_that_session_and_log_out_everywhere_the_rest(stack):
    username = register(stack, "leaving")
    api_token = stack.login(username, PASSWORD)
    browser = browser_logged_in(stack, username)
    saved_cookie = browser.cookies.get("session")
    assert browser.get(f"{stack.web}/my/borrows", timeout=10, allow_redirects=False).status_code == 200

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', browser.get(f"{stack.web}/", timeout=10).text).group(1)
    browser.post(f"{stack.web}/logout", data={"csrf_token": csrf}, timeout=10)

    time.sleep(1)  # the frontend's SESSION_CHECK_SECONDS, in whichever of its processes answers
    for headers, refusal, to_login in (({}, 302, "Location"), ({"HX-Request": "true"}, 401, "HX-Redirect")):
        thief = requests.Session()  # a copy of the cookie, on a page and on an htmx fragment
        thief.cookies.set("session", saved_cookie)
        replayed = thief.get(f"{stack.web}/my/borrows", headers=headers, timeout=10, allow_redirects=False)
        assert replayed.status_code == refusal and "/login?next=" in replayed.headers[to_login]
    assert requests.get(f"{stack.users}/me", headers=api_token, timeout=10).status_code == 200  # another session

    browser = browser_logged_in(stack, username)
    account_page = browser.get(f"{stack.web}/account", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', account_page).group(1)
    browser.post(f"{stack.web}/logout/everywhere", data={"csrf_token": csrf}, timeout=10)

    refused = requests.get(f"{stack.users}/me", headers=api_token, timeout=10)
    assert refused.status_code == 401 and "Log out everywhere" in refused.json()["message"]
    stack.wait_for_account_changes()
    assert requests.get(f"{stack.borrows}/borrows", headers=api_token, timeout=10).status_code == 401


def test_a_password_change_ends_the_sessions_before_it(stack):
    username = register(stack, "changer")
    stolen = stack.login(username, PASSWORD)

    changed = requests.patch(f"{stack.users}/users/{username}", headers=stolen, timeout=10,
                             json={"password": "a brand new password", "current_password": PASSWORD})

    assert changed.status_code == 200
    assert requests.get(f"{stack.users}/me", headers=stolen, timeout=10).status_code == 401
    stack.wait_for_account_changes()
    assert requests.get(f"{stack.borrows}/borrows", headers=stolen, timeout=10).status_code == 401
    assert stack.login(username, "a brand new password")


# ---- finding 7: librarians cannot lend to deactivated accounts ---------------------------------------------


def test_librarians_cannot_lend_to_a_deactivated_account(stack):
    librarian = stack.login(*stack.librarian)
    username = register(stack, "inactive")
    requests.patch(f"{stack.users}/users/{username}", json={"active": False}, headers=librarian,
                   timeout=10).raise_for_status()
    book = requests.post(f"{stack.books}/books", headers=librarian, timeout=10, json={
        "title": "Not for lending", "author": "D. Activated", "genre": "Matrix"}).json()

    response = requests.post(f"{stack.borrows}/borrowbook", json={"book_id": book["id"], "username": username},
                             headers=librarian, timeout=10)

    assert response.status_code == 409 and "deactivated" in response.json()["message"]


# ---- finding 8: a sign-up cannot take the collection out of circulation before it is approved --------------


def a_sign_up_and_two_books(stack, prefix):
    """A fresh sign-up with an address (its token, issued while provisional), a book on the shelf, and a book
    whose only copy an approved patron has (to hold)."""
    librarian = stack.login(*stack.librarian)
    on_shelf, all_out = (requests.post(f"{stack.books}/books", headers=librarian, timeout=10, json={
        "title": title, "author": "P. Ending", "genre": "Matrix"}).json()["id"] for title in (
        f"On the shelf for {prefix}", f"Every copy out for {prefix}"))
    requests.post(f"{stack.borrows}/borrowbook", json={"book_id": all_out}, timeout=10,
                  headers=stack.login(register(stack, "holder"), PASSWORD)).raise_for_status()
    username = register_patron(stack.users, prefix, PASSWORD, with_email=True)
    return username, stack.login(username, PASSWORD), on_shelf, all_out


def borrow(stack, book_id, headers, **body):
    return requests.post(f"{stack.borrows}/borrowbook", json={"book_id": book_id, **body}, headers=headers, timeout=10)


def test_a_sign_up_holds_but_borrows_only_once_its_address_is_confirmed(stack):
    username, patron, on_shelf, all_out = a_sign_up_and_two_books(stack, "newcomer")
    librarian = stack.login(*stack.librarian)

    refused = borrow(stack, on_shelf, patron)
    assert refused.status_code == 409 and refused.json()["message"] == (
        "Your account is waiting for approval: confirm your e-mail address (the link we sent you, or add an address "
        "on your Account page), or ask at the desk")
    assert borrow(stack, on_shelf, librarian, username=username).status_code == 409  # nor through the desk
    held = requests.post(f"{stack.borrows}/holds", json={"book_id": all_out}, headers=patron, timeout=10)
    assert held.status_code == 201

    token = stack.link_token("account.email_verification_requested", username)
    confirmed = requests.post(f"{stack.users}/email-verifications", json={"token": token}, timeout=10)
    assert confirmed.json()["provisional"] is False

    assert borrow(stack, on_shelf, patron).status_code == 201  # the token from before the confirmation


def test_a_sign_up_borrows_once_a_librarian_approves_it(stack):
    username, patron, on_shelf, _all_out = a_sign_up_and_two_books(stack, "approved")
    librarian = stack.login(*stack.librarian)
    assert borrow(stack, on_shelf, patron).status_code == 409

    approved = requests.post(f"{stack.users}/users/{username}/approval", headers=librarian, timeout=10)

    assert approved.status_code == 200 and approved.json()["provisional"] is False
    assert borrow(stack, on_shelf, patron).status_code == 201  # the token issued while provisional


def test_https_through_a_trusted_proxy_gets_hsts(stack):
    over_https = requests.get(f"{stack.books}/health", headers={"X-Forwarded-Proto": "https"}, timeout=10)

    assert over_https.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in requests.get(f"{stack.books}/health", timeout=10).headers


def test_without_a_proxy_configured_the_frontend_believes_no_forwarded_scheme(stack):
    """The frontend has no TRUSTED_PROXIES here: X-Forwarded-Proto is anybody's claim, even from this machine
    (gunicorn's own default would believe it from loopback)."""
    claimed = requests.get(f"{stack.web}/login", headers={"X-Forwarded-Proto": "https"}, timeout=10)

    assert "Strict-Transport-Security" not in claimed.headers
    assert "Secure" not in claimed.headers.get("Set-Cookie", "")
