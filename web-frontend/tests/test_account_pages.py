"""The account page (names, e-mail address, password, reading history), "forgot password", the pages the mailed
links open, and the librarians' side: registering a patron at the desk, reset links, deactivation."""

import re

import pytest

from .conftest import BORROWS, NOTIFICATIONS, USERS, account, json_body, patron

EXPIRED = "This link has expired or was already used"
RESET_ANSWER = {"message": "If an account matches, we have sent a link to its e-mail address"}


@pytest.fixture
def alice_at_home(client, log_in_as, services):
    """alice, logged in, with her account and her circulation settings as the services give them."""
    def arrange(**fields):
        log_in_as("alice")
        services.get(f"{USERS}/users/alice", json=account(**fields))
        services.get(f"{BORROWS}/patrons/alice", json=patron())
        services.get(f"{NOTIFICATIONS}/preferences", json=PREFERENCES)

    return arrange


PREFERENCES = [
    {"kind": "hold_ready", "label": "A book you reserved is ready", "channels": "both", "in_app_required": True,
     "email_required": False},
    {"kind": "due_soon", "label": "Loans due soon", "channels": "email", "in_app_required": False,
     "email_required": False},
    {"kind": "account", "label": "Changes to your account", "channels": "both", "in_app_required": False,
     "email_required": True},
]


def flashes(client):
    with client.session_transaction() as session:
        return session.get("_flashes", [])


def test_the_header_links_to_the_account_page(client, alice_at_home):
    alice_at_home()

    assert '<a href="/account">Account</a>' in client.get("/account").get_data(as_text=True)


def test_the_account_page_needs_a_login(client):
    response = client.get("/account")

    assert response.status_code == 302 and "/login?next=%2Faccount" in response.headers["Location"]


def test_the_account_page_shows_names_address_password_history_and_notifications(client, alice_at_home):
    alice_at_home(email="alice@example.org")

    response = client.get("/account")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="names-first_name" required type="text" value="Alice"' in html
    assert "alice@example.org" in html and "not confirmed yet" in html and "Send the link again" in html
    assert 'name="email-email" type="email" value="alice@example.org"' in html  # optional: not required
    assert 'id="password-current_password"' in html and 'id="email-current_password"' in html
    assert 'id="keep_history" name="keep_history">' in html
    assert '<section id="notifications"' in html and 'action="/notifications/preferences"' in html


def test_your_notification_choices_are_ticked_and_a_required_one_cannot_be_mail_only(client, alice_at_home):
    alice_at_home()

    html = client.get("/account").get_data(as_text=True)

    def radio(element_id):
        return " ".join(re.search(rf'<input type="radio" id="{element_id}"[^>]*>', html).group(0).split())

    assert radio("pref-due_soon-email").endswith("checked aria-label=\"Loans due soon: E-mail only\">")
    assert "checked" not in radio("pref-due_soon-both")
    assert " disabled " in radio("pref-hold_ready-email") and " checked " in radio("pref-hold_ready-both") + " "
    assert " disabled " in radio("pref-account-in_app") and " checked " in radio("pref-account-both") + " "
    assert "disabled" not in radio("pref-account-email")
    assert "Changes to your account <small class=\"hint\">(always e-mailed too)</small>" in html


def test_the_account_page_says_when_notification_choices_cannot_be_had(client, log_in_as, services):
    log_in_as("alice")
    services.get(f"{USERS}/users/alice", json=account())
    services.get(f"{BORROWS}/patrons/alice", json=patron())
    services.get(f"{NOTIFICATIONS}/preferences", status=503, json={"message": "down"})

    html = client.get("/account").get_data(as_text=True)

    assert "The notification service is unavailable right now" in html and "Your name" in html


@pytest.mark.parametrize("fields, says", [
    ({"email": "alice@example.org", "email_verified": True}, "confirmed"),
    ({}, "You have no e-mail address with us"),
])
def test_the_account_page_says_where_the_address_stands(client, alice_at_home, fields, says):
    alice_at_home(**fields)

    html = client.get("/account").get_data(as_text=True)

    assert says in html and "Send the link again" not in html


def test_the_reading_history_setting_is_on_the_account_page_and_brings_you_back(client, alice_at_home, services):
    alice_at_home()
    services.put(f"{BORROWS}/patrons/alice/settings", json={"username": "alice", "keep_history": True})

    response = client.post("/my/history/settings", data={"keep_history": "on"})

    assert response.headers["Location"] == "/account#history"


def test_the_account_page_still_works_when_the_loans_service_does_not(client, log_in_as, services):
    log_in_as("alice")
    services.get(f"{USERS}/users/alice", json=account())

    html = client.get("/account").get_data(as_text=True)

    assert "The loans service is unavailable right now" in html and "Your name" in html


def test_changing_your_name(client, alice_at_home, services):
    alice_at_home()
    changed = services.patch(f"{USERS}/users/alice", json=account(first_name="Alicia"))

    response = client.post("/account/names", data={"names-first_name": "Alicia", "names-last_name": "Liddell"})

    assert response.status_code == 302
    assert json_body(changed.calls[0]) == {"first_name": "Alicia", "last_name": "Liddell"}
    assert ("success", "Your name is saved.") in flashes(client)


def test_a_new_address_is_sent_with_your_password_and_waits_for_its_link(client, alice_at_home, services):
    alice_at_home(email="old@example.org", email_verified=True)
    changed = services.patch(f"{USERS}/users/alice", json=account(email="new@example.org"))

    response = client.post("/account/email", data={"email-email": " new@example.org ",
                                                   "email-current_password": "correct horse"})

    assert response.headers["Location"] == "/account#email"
    assert json_body(changed.calls[0]) == {"email": "new@example.org", "current_password": "correct horse"}
    assert ("success", "We have sent a link to new@example.org: open it to confirm your address.") in flashes(client)


def test_an_empty_address_removes_it(client, alice_at_home, services):
    alice_at_home(email="old@example.org")
    changed = services.patch(f"{USERS}/users/alice", json=account())

    client.post("/account/email", data={"email-email": "", "email-current_password": "correct horse"})

    assert json_body(changed.calls[0])["email"] is None
    assert ("success", "Your e-mail address is removed.") in flashes(client)


@pytest.mark.parametrize("status, body, field", [
    (400, {"message": "Current password is incorrect", "errors": {"current_password": "Incorrect password"}},
     "email-current_password-error"),
    (409, {"message": "Another account already uses this e-mail address",
           "errors": {"email": "Another account already uses this e-mail address"}}, "email-email-error"),
])
def test_a_refused_address_is_explained_next_to_the_form_and_kept(client, alice_at_home, services, status, body,
                                                                  field):
    alice_at_home()
    services.patch(f"{USERS}/users/alice", status=status, json=body)

    response = client.post("/account/email", data={"email-email": "taken@example.org",
                                                   "email-current_password": "a guess"})

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}"' in html and 'value="taken@example.org"' in html and "a guess" not in html


def test_the_same_address_again_changes_nothing(client, alice_at_home, services):
    alice_at_home(email="alice@example.org")

    client.post("/account/email", data={"email-email": "alice@example.org", "email-current_password": "x"})

    assert [call.request.method for call in services.calls] == ["GET"]
    assert ("info", "That is your address already.") in flashes(client)


def test_asking_for_the_verification_link_again(client, alice_at_home, services):
    alice_at_home(email="alice@example.org")
    sent = services.post(f"{USERS}/users/alice/email-verifications", status=202,
                         json={"message": "We have sent a new link to alice@example.org"})

    response = client.post("/account/email/verification")

    assert response.headers["Location"] == "/account#email" and len(sent.calls) == 1
    assert ("success", "We have sent a new link to alice@example.org: open it to confirm your address.") in \
        flashes(client)


def test_changing_your_password_keeps_you_logged_in_here(client, alice_at_home, services, tokens):
    alice_at_home()
    with client.session_transaction() as session:
        old_token = session["token"]
    changed = services.patch(f"{USERS}/users/alice", json=account())
    fresh = tokens.token("alice", jti="fresh")
    login = services.post(f"{USERS}/login", json={"message": "ok", "token": fresh, "user": account()})

    response = client.post("/account/password", data={
        "password-current_password": "correct horse", "password-password": "a new password",
        "password-confirm": "a new password"})

    assert response.headers["Location"] == "/account"
    assert json_body(changed.calls[0]) == {"password": "a new password", "current_password": "correct horse"}
    assert json_body(login.calls[0]) == {"username": "alice", "password": "a new password"}
    with client.session_transaction() as session:
        assert session["token"] == fresh != old_token
    assert ("success", "Your password is changed, and you are logged out on your other devices.") in flashes(client)


def test_when_logging_in_again_fails_after_a_password_change_you_are_asked_to(client, alice_at_home, services):
    alice_at_home()
    services.patch(f"{USERS}/users/alice", json=account())
    services.post(f"{USERS}/login", status=429, json={"message": "Too many failed attempts", "retry_after": 5})

    response = client.post("/account/password", data={
        "password-current_password": "correct horse", "password-password": "a new password",
        "password-confirm": "a new password"})

    assert response.headers["Location"] == "/login?next=/account"
    with client.session_transaction() as session:
        assert "token" not in session


def test_new_passwords_that_differ_are_caught_before_asking(client, alice_at_home, services):
    alice_at_home()

    response = client.post("/account/password", data={
        "password-current_password": "correct horse", "password-password": "a new password",
        "password-confirm": "another password"})

    assert response.status_code == 400 and "The passwords differ" in response.get_data(as_text=True)
    assert all(call.request.method == "GET" for call in services.calls)


def test_signing_up_with_an_address_sends_it_and_says_a_link_is_coming(client, services, tokens):
    registered = services.post(f"{USERS}/register", status=201, json={"message": "ok", "data": account()})
    services.post(f"{USERS}/login", json={"message": "ok", "token": tokens.token("alice"), "user": account()})

    client.post("/signup", data={"username": "alice", "first_name": "Alice", "last_name": "Liddell",
                                 "email": "alice@example.org", "password": "pw-123456", "confirm": "pw-123456"})

    assert json_body(registered.calls[0])["email"] == "alice@example.org"
    assert any("We have sent a link to alice@example.org" in message for _category, message in flashes(client))


def test_signing_up_without_an_address_sends_none(client, services, tokens):
    registered = services.post(f"{USERS}/register", status=201, json={"message": "ok", "data": account()})
    services.post(f"{USERS}/login", json={"message": "ok", "token": tokens.token("alice"), "user": account()})

    client.post("/signup", data={"username": "alice", "first_name": "Alice", "last_name": "Liddell", "email": "",
                                 "password": "pw-123456", "confirm": "pw-123456"})

    assert "email" not in json_body(registered.calls[0])


# ---- the pages mailed links open ------------------------------------------------------------------------------


def test_the_verification_link_opens_a_page_whose_button_confirms(client, services):
    verified = services.post(f"{USERS}/email-verifications", json=account(email="alice@example.org",
                                                                          email_verified=True))

    page = client.get("/account/verify?token=abc.def.ghi", follow_redirects=True)

    assert page.status_code == 200 and len(services.calls) == 0  # opening it (as mail scanners do) changes nothing
    assert 'name="token" type="hidden" value="abc.def.ghi"' in page.get_data(as_text=True)
    response = client.post("/account/verify", data={"token": "abc.def.ghi"})
    assert response.status_code == 302 and json_body(verified.calls[0]) == {"token": "abc.def.ghi"}
    assert ("success", "Thank you: alice@example.org is confirmed as your e-mail address.") in flashes(client)
    with client.session_transaction() as session:
        assert "abc.def.ghi" not in session.values()  # used: the session stops carrying it


@pytest.mark.parametrize("path", ["/account/verify", "/reset-password"])
def test_a_mailed_links_token_leaves_the_address_before_the_page_loads(client, path):
    """Issue 13, finding 6: the token never stays in the address bar, the history or a Referer; the page that
    loads without it shows the form from the session, and tells no other site where it is."""
    arrival = client.get(f"{path}?token=abc.def.ghi")
    page = client.get(path)

    assert arrival.status_code == 303 and arrival.headers["Location"] == path
    assert arrival.headers["Referrer-Policy"] == page.headers["Referrer-Policy"] == "no-referrer"
    assert page.status_code == 200 and 'name="token" type="hidden" value="abc.def.ghi"' in page.get_data(as_text=True)


def test_a_used_link_opened_again_still_says_so(client, services):
    services.post(f"{USERS}/password-resets/confirm", status=400, json={"message": EXPIRED})
    client.get("/reset-password?token=abc.def.ghi")

    response = client.post("/reset-password", data={"token": "abc.def.ghi", "password": "a new password",
                                                    "confirm": "a new password"})

    assert response.status_code == 400 and EXPIRED in response.get_data(as_text=True)
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("refusal", [
    {"message": EXPIRED},
    {"message": "Invalid input", "errors": {"token": "This link is incomplete or not one we sent"}},
])
def test_a_refused_verification_link_says_why_and_where_to_get_another(client, services, refusal):
    services.post(f"{USERS}/email-verifications", status=400, json=refusal)

    response = client.post("/account/verify", data={"token": "abc"})

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert refusal.get("errors", {}).get("token", refusal["message"]) in html and "Log in</a> to ask for a new link" \
        in html


def test_a_verification_link_without_its_token(client):
    response = client.get("/account/verify")

    assert response.status_code == 400 and "This link is incomplete" in response.get_data(as_text=True)


def test_forgot_password_gives_the_same_friendly_answer(client, services):
    asked = services.post(f"{USERS}/password-resets", status=202, json=RESET_ANSWER)

    response = client.post("/forgot-password", data={"username_or_email": " alice@example.org "})

    assert response.headers["Location"] == "/login"
    assert json_body(asked.calls[0]) == {"username_or_email": "alice@example.org"}
    [(category, message)] = flashes(client)
    assert category == "success" and message.startswith(
        "If an account matches, we have sent a link to its e-mail address.")


def test_forgot_password_says_when_to_try_again(client, services):
    services.post(f"{USERS}/password-resets", status=429, headers={"Retry-After": "600"}, json={
        "message": "Too many password reset requests from your address; try again in 10 minutes",
        "retry_after": 600})

    response = client.post("/forgot-password", data={"username_or_email": "alice"})

    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "try again in 10 minutes" in html and 'value="alice"' in html


def test_the_login_page_links_to_forgot_password(client):
    assert 'href="/forgot-password"' in client.get("/login").get_data(as_text=True)


def test_the_reset_link_opens_a_form_that_sets_the_password(client, services):
    confirmed = services.post(f"{USERS}/password-resets/confirm", json=account())

    page = client.get("/reset-password?token=abc.def.ghi", follow_redirects=True)
    response = client.post("/reset-password", data={"token": "abc.def.ghi", "password": "a new password",
                                                    "confirm": "a new password"})

    assert page.status_code == 200 and 'value="abc.def.ghi"' in page.get_data(as_text=True)
    assert response.headers["Location"] == "/login"
    assert json_body(confirmed.calls[0]) == {"token": "abc.def.ghi", "password": "a new password"}
    assert ("success", "Your new password is set: log in with it.") in flashes(client)


def test_a_used_or_expired_reset_link_says_so_instead_of_showing_the_form(client, services):
    checked = services.post(f"{USERS}/password-resets/check", status=400, json={"message": EXPIRED})

    response = client.get("/reset-password?token=abc.def.ghi", follow_redirects=True)

    html = response.get_data(as_text=True)
    assert response.status_code == 400 and EXPIRED in html and 'href="/forgot-password"' in html
    assert 'name="password"' not in html and "Save my new password" not in html
    assert json_body(checked.calls[0]) == {"token": "abc.def.ghi"}


def test_a_good_reset_link_shows_the_form(client, services):
    services.post(f"{USERS}/password-resets/check", json={"message": "This link can still set a password"})

    html = client.get("/reset-password?token=abc.def.ghi", follow_redirects=True).get_data(as_text=True)

    assert 'name="password"' in html and EXPIRED not in html


@pytest.mark.parametrize("status", [429, 503])
def test_when_the_link_cannot_be_checked_the_form_is_shown_all_the_same(client, services, status):
    services.post(f"{USERS}/password-resets/check", status=status, json={"message": "Busy"})

    response = client.get("/reset-password?token=abc.def.ghi", follow_redirects=True)

    assert response.status_code == 200 and 'name="password"' in response.get_data(as_text=True)


def test_a_refused_reset_link_offers_a_new_one(client, services):
    services.post(f"{USERS}/password-resets/confirm", status=400, json={"message": EXPIRED})

    response = client.post("/reset-password", data={"token": "abc", "password": "a new password",
                                                    "confirm": "a new password"})

    html = response.get_data(as_text=True)
    assert response.status_code == 400 and EXPIRED in html and 'href="/forgot-password"' in html


def test_a_refused_new_password_is_explained_next_to_it(client, services):
    services.post(f"{USERS}/password-resets/confirm", status=400, json={
        "message": "Invalid input", "errors": {"password": "Between 8 and 128 characters"}})

    response = client.post("/reset-password", data={"token": "abc", "password": "short", "confirm": "short"})

    html = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="password-error"' in html and "Between 8 and 128" in html
    assert 'href="/forgot-password"' not in html


def test_a_reset_link_without_its_token(client):
    response = client.get("/reset-password")

    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "This link is incomplete" in html and "New password" not in html


def test_every_new_form_carries_a_csrf_token(csrf_client):
    for path in ("/forgot-password", "/reset-password?token=abc", "/account/verify?token=abc"):
        assert 'name="csrf_token"' in csrf_client.get(path, follow_redirects=True).get_data(as_text=True), path


# ---- librarians -----------------------------------------------------------------------------------------------


def test_the_users_page_and_the_desk_link_to_registering_a_patron(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{USERS}/users", json=[], headers={"X-Total-Count": "0"})
    services.get(f"{BORROWS}/borrows", json=[], headers={"X-Total-Count": "0"})

    for page in ("/manage/users", "/manage/loans"):
        assert 'href="/manage/patrons/new"' in client.get(page).get_data(as_text=True), page


@pytest.mark.parametrize("email, news", [
    ("rosa@example.org", "We have e-mailed rosa a link to choose a password."),
    ("", "rosa is registered, and the desk can lend to them now. To use the website they need a password: give "
         "them one below"),
])
def test_registering_a_patron_at_the_desk(client, log_in_as, services, email, news):
    log_in_as("boss", "librarian")
    registered = services.post(f"{USERS}/users", status=201, json=account("rosa", email=email or None))

    response = client.post("/manage/patrons/new", data={"username": "rosa", "first_name": "Rosa",
                                                        "last_name": "Parks", "email": email})

    assert response.headers["Location"] == "/manage/users/rosa"
    assert json_body(registered.calls[0]) == {"username": "rosa", "first_name": "Rosa", "last_name": "Parks"} | (
        {"email": email} if email else {})
    assert any(message.startswith(news) for _category, message in flashes(client))


def test_a_refused_registration_is_explained_next_to_the_form(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.post(f"{USERS}/users", status=409, json={"message": "That username is taken",
                                                      "errors": {"username": "That username is taken"}})

    response = client.post("/manage/patrons/new", data={"username": "rosa", "first_name": "Rosa",
                                                        "last_name": "Parks", "email": ""})

    html = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="username-error"' in html and 'value="Rosa"' in html


@pytest.fixture
def patron_page(client, log_in_as, services):
    def arrange(**fields):
        log_in_as("boss", "librarian")
        services.get(f"{USERS}/users/alice", json=account(**fields))
        services.get(f"{BORROWS}/patrons/alice", json=patron(active_loans=0))
        services.get(f"{BORROWS}/borrows", json=[], headers={"X-Total-Count": "0"})
        services.get(f"{BORROWS}/holds", json=[], headers={"X-Total-Count": "0"})

    return arrange


def test_the_patron_page_shows_the_address_a_reset_button_and_deactivation(client, patron_page):
    patron_page(email="alice@example.org", email_verified=True)

    html = client.get("/manage/users/alice").get_data(as_text=True)

    assert "alice@example.org" in html and "confirmed" in html
    assert "Send a password reset link" in html and 'href="/manage/users/alice/deactivate"' in html


def test_no_reset_button_for_a_patron_without_an_address(client, patron_page):
    patron_page()

    html = client.get("/manage/users/alice").get_data(as_text=True)

    assert "Send a password reset link" not in html and "Without an e-mail address no reset link" in html


def test_a_deactivated_patron_can_be_reactivated(client, patron_page):
    patron_page(active=False)

    html = client.get("/manage/users/alice").get_data(as_text=True)

    assert 'href="/manage/users/alice/reactivate"' in html and "none" in html


def test_a_librarian_sends_a_reset_link_and_sees_no_password(client, patron_page, services):
    patron_page(email="alice@example.org", email_verified=True)
    sent = services.post(f"{USERS}/users/alice/password-reset", status=202,
                         json={"message": "We have e-mailed alice a link to choose a new password"})

    response = client.post("/manage/users/alice/password-reset")

    assert response.headers["Location"] == "/manage/users/alice" and len(sent.calls) == 1
    assert flashes(client) == [("success", "We have e-mailed alice a link to choose a new password.")]


def test_a_reset_link_that_cannot_be_sent_says_why(client, patron_page, services):
    patron_page()
    services.post(f"{USERS}/users/alice/password-reset", status=409,
                  json={"message": "alice has no e-mail address: add one, and we will send the link to it"})

    client.post("/manage/users/alice/password-reset")

    assert flashes(client) == [("error", "No link sent: alice has no e-mail address: add one, and we will send "
                                         "the link to it")]


def test_deactivation_asks_first(client, patron_page, services):
    patron_page()
    changed = services.patch(f"{USERS}/users/alice", json=account(active=False))

    question = client.get("/manage/users/alice/deactivate")
    response = client.post("/manage/users/alice/deactivate")

    assert "Deactivate alice?" in question.get_data(as_text=True)
    assert all(call.request.method == "GET" for call in services.calls[:1])
    assert json_body(changed.calls[0]) == {"active": False}
    assert response.headers["Location"] == "/manage/users/alice"
    assert flashes(client) == [("success", "alice is deactivated: they are logged out everywhere and cannot log in "
                                           "or borrow.")]


def test_reactivation(client, patron_page, services):
    patron_page(active=False)
    changed = services.patch(f"{USERS}/users/alice", json=account())

    client.post("/manage/users/alice/reactivate")

    assert json_body(changed.calls[0]) == {"active": True}
    assert flashes(client) == [("success", "alice is active again: they can log in and borrow.")]


def test_a_librarian_gives_a_patron_an_address(client, patron_page, services):
    patron_page()
    changed = services.patch(f"{USERS}/users/alice", json=account(email="alice@example.org"))

    response = client.post("/manage/users/alice/email", data={"email": "alice@example.org"})

    assert response.headers["Location"] == "/manage/users/alice"
    assert json_body(changed.calls[0]) == {"email": "alice@example.org"}
    assert flashes(client) == [("success", "Saved. We have e-mailed a link to alice@example.org: alice confirms "
                                           "the address by opening it.")]


def test_a_refused_patron_address_is_explained_next_to_it(client, patron_page, services):
    patron_page()
    services.patch(f"{USERS}/users/alice", status=409, json={
        "message": "Another account already uses this e-mail address",
        "errors": {"email": "Another account already uses this e-mail address"}})

    response = client.post("/manage/users/alice/email", data={"email": "taken@example.org"})

    html = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="email-error"' in html and 'value="taken@example.org"' in html


def test_the_signup_page_has_the_optional_address(client):
    html = client.get("/signup").get_data(as_text=True)

    assert 'type="email"' in html and "E-mail address (optional)" in html


def test_sign_up_is_not_offered_while_logged_in(client, log_in_as):
    log_in_as("alice")

    response = client.get("/signup")
    posted = client.post("/signup", data={"username": "alice2", "first_name": "A", "last_name": "B",
                                          "password": "long-enough", "confirm": "long-enough"})

    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert posted.status_code == 302  # nothing registered: no call to user-service was faked, none was made
    with client.session_transaction() as session:
        assert ("info", "You are signed in as alice. To make another account, log out first.") in session["_flashes"]


def test_the_account_page_shows_the_confirmed_address_and_the_one_waiting(client, alice_at_home):
    alice_at_home(email="a@x.org", email_verified=True, pending_email="b@y.org")

    html = client.get("/account").get_data(as_text=True)

    assert "Confirmed: a@x.org; waiting for confirmation: b@y.org" in html
    assert 'action="/account/email/verification"' in html


def test_changing_a_confirmed_address_says_the_old_one_stays_until_the_new_is_confirmed(client, alice_at_home,
                                                                                        services):
    alice_at_home(email="a@x.org", email_verified=True)
    services.patch(f"{USERS}/users/alice", json=account(email="a@x.org", email_verified=True,
                                                        pending_email="b@y.org"))

    client.post("/account/email", data={"email-email": "b@y.org", "email-current_password": "pw-123456"})

    assert ("success", "We have sent a link to b@y.org: open it to make it your address. Until then we keep "
                       "writing to a@x.org.") in flashes(client)

