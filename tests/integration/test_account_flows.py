"""The account flows through the running system's pages, up to the link: the test finds the event that asked
for each link and has user-service make the link as notification-service does when it mails it
(`stack.link_token`), and follows it through the pages as the reader would."""

import re
import json
import uuid

import pytest
import requests

from library_common.testing import register_patron

pytestmark = pytest.mark.integration
PASSWORD = "first-password"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CONFIRMED = '<span class="badge badge-in">confirmed</span>'


class Reader:
    """A browser without JavaScript: a cookie jar that sends the pages' forms with their CSRF token."""

    def __init__(self, stack):
        self.web = stack.web
        self.session = requests.Session()

    def get(self, path):
        return self.session.get(self.web + path, timeout=10)

    def submit(self, form_page, action, fields):
        """Open `form_page`, then send `fields` to `action` with the page's token; the answer, redirects followed."""
        token = CSRF.search(self.get(form_page).text).group(1)
        return self.session.post(self.web + action, data={**fields, "csrf_token": token}, timeout=10)

    def log_in(self, username, password):
        return self.submit("/login", "/login", {"username": username, "password": password})

    def log_out(self):
        return self.submit("/", "/logout", {})


def test_sign_up_confirm_the_address_forget_the_password_and_choose_another(stack):
    username = f"reader-{uuid.uuid4().hex[:6]}"
    address = f"{username}@example.org"
    reader = Reader(stack)

    signed_up = reader.submit("/signup", "/signup", {
        "username": username, "first_name": "Rita", "last_name": "Reader", "email": address,
        "password": PASSWORD, "confirm": PASSWORD})
    assert f"We have sent a link to {address}" in signed_up.text
    assert "not confirmed yet" in reader.get("/account").text

    token = stack.link_token("account.email_verification_requested", username)
    verification = f"/account/verify?token={token}"
    assert "Confirm my address" in reader.get(verification).text
    confirmed = reader.submit(verification, "/account/verify", {"token": token})
    assert f"Thank you: {address} is confirmed" in confirmed.text
    assert CONFIRMED in reader.get("/account").text

    reader.log_out()
    asked = reader.submit("/forgot-password", "/forgot-password", {"username_or_email": address.upper()})
    assert "If an account matches, we have sent a link to its e-mail address" in asked.text

    token = stack.link_token("account.password_reset_requested", username)
    reset_page = f"/reset-password?token={token}"
    chosen = reader.submit(reset_page, "/reset-password", {"token": token, "password": "second-password",
                                                           "confirm": "second-password"})
    assert "Your new password is set: log in with it." in chosen.text

    assert "Invalid username or password" in reader.log_in(username, PASSWORD).text
    assert f"Signed in as <strong>{username}</strong>" in reader.log_in(username, "second-password").text

    again = Reader(stack).get(reset_page)  # a used link says so at once, instead of showing the form
    assert again.status_code == 400 and "This link has expired or was already used" in again.text
    assert 'name="password"' not in again.text
    assert f"Signed in as <strong>{username}</strong>" in Reader(stack).log_in(username, "second-password").text


def test_forgot_password_answers_the_same_for_nobody_and_sends_nothing(stack):
    reader = Reader(stack)

    answer = reader.submit("/forgot-password", "/forgot-password", {"username_or_email": "nobody@example.org"})

    assert answer.status_code == 200 and "If an account matches, we have sent a link to its e-mail address" in \
        answer.text


def test_an_unconfirmed_address_gets_no_reset_link(stack):
    username = register_patron(stack.users, "unsure", PASSWORD, with_email=True)

    Reader(stack).submit("/forgot-password", "/forgot-password", {"username_or_email": username})

    with pytest.raises(AssertionError, match="no account.password_reset_requested"):
        stack.link_token("account.password_reset_requested", username, timeout=1)


def test_a_patron_registered_at_the_desk_chooses_a_password_through_the_welcome_link(stack):
    username = f"walkin-{uuid.uuid4().hex[:6]}"
    librarian = Reader(stack)
    librarian.log_in(*stack.librarian)

    registered = librarian.submit("/manage/patrons/new", "/manage/patrons/new", {
        "username": username, "first_name": "Walter", "last_name": "Kin", "email": f"{username}@example.org"})
    assert f"We have e-mailed {username} a link to choose a password." in registered.text
    assert "not confirmed yet" in registered.text  # the patron's page, with the address

    patron = Reader(stack)
    token = stack.link_token("account.password_reset_requested", username)
    patron.submit(f"/reset-password?token={token}", "/reset-password", {
        "token": token, "password": "walters-own", "confirm": "walters-own"})

    assert f"Signed in as <strong>{username}</strong>" in patron.log_in(username, "walters-own").text
    assert CONFIRMED in patron.get("/account").text  # the welcome link proved the address
    reset = librarian.submit(f"/manage/users/{username}", f"/manage/users/{username}/password-reset", {})
    assert f"We have e-mailed {username} a link to choose a new password." in reset.text


def test_the_event_log_holds_no_link_and_librarians_cannot_read_it(stack):
    """Else a librarian (or anyone who reads the log) could have a patron sent a reset link, read it, and take
    the account over."""
    username = register_patron(stack.users, "private", PASSWORD, with_email=True)
    token = stack.link_token("account.email_verification_requested", username)
    notifier, librarian = stack.service_headers(), stack.login(*stack.librarian)

    cursor, seen = "", []
    while True:
        page = requests.get(f"{stack.users}/events", params={"after": cursor, "limit": 500}, headers=notifier,
                            timeout=10).json()
        seen += [json.dumps(event) for event in page["events"] if event["subject"] == username]
        if not page["events"]:
            break
        cursor = page["next"]
    assert seen and not any(token in event or "@example.org" in event for event in seen)
    assert requests.get(f"{stack.users}/events", headers=librarian, timeout=10).status_code == 403
