"""Log out ends this session and Log out everywhere every one, the other devices told why (issue 12, finding 4;
issue 20); rate limits are said inline (finding 5)."""

import time

import pytest
import responses
from markupsafe import escape

from library_common import deps
from library_common.auth import SESSION_ENDED, TokenVerifier
from library_common.testing import TEST_AUDIENCE, TEST_ISSUER, StaticKeyResolver

from .conftest import BOOKS, BORROWS, USERS, account, csrf_token, listing, make_app, patron


@pytest.fixture
def checked_app(tokens):
    """The frontend with its real account check in front of the test keys."""
    app = make_app(tokens, WTF_CSRF_ENABLED=False)
    with app.app_context():
        account_check = deps.AppDeps.current().account_check
    deps.replace(app, token_verifier=TokenVerifier(StaticKeyResolver({tokens.kid: tokens.private_key.public_key()}),
                                                   TEST_ISSUER, TEST_AUDIENCE, account_check))
    return app


def logged_in(app, tokens, username="alice"):
    client = app.test_client()
    token = tokens.token(username)
    with client.session_transaction() as session:
        session["token"], session["_user_id"], session["_fresh"] = token, username, True
    return client, token


def test_logout_ends_the_session_at_user_service_and_a_saved_cookie_lands_on_the_login_page(
        checked_app, tokens, services):
    services.post(f"{USERS}/logout", status=204)
    services.get(f"{USERS}/me", status=401, json={"message": "This account was deactivated, deleted or changed"})
    browser, token = logged_in(checked_app, tokens)
    saved_cookie = browser.get_cookie("session").value

    response = browser.post("/logout")

    assert response.status_code == 302
    assert services.calls[-1].request.url == f"{USERS}/logout"
    assert services.calls[-1].request.headers["Authorization"] == f"Bearer {token}"
    thief = checked_app.test_client()
    thief.set_cookie("session", saved_cookie)
    replayed = thief.get("/my/borrows")
    assert replayed.status_code == 302 and "/login?next=" in replayed.headers["Location"]


@pytest.mark.parametrize("path, htmx", [("/my/borrows", False), ("/my/borrows/history", True)])
def test_a_session_logged_out_elsewhere_is_refused_within_a_second(checked_app, tokens, services, path, htmx):
    """Issue 13, finding 18: logged out on another device, or through another process of the frontend (which
    this one hears nothing of): a copy of the session cookie, however young its token, is refused within a
    second, on a page and on an htmx fragment."""
    services.get(f"{USERS}/me", json=account())
    services.get(f"{BORROWS}/borrows", **listing([]))
    services.get(f"{BORROWS}/holds", **listing([]))
    services.get(f"{BORROWS}/patrons/alice", json=patron())
    saved_copy, _token = logged_in(checked_app, tokens)
    headers = {"HX-Request": "true"} if htmx else {}
    assert saved_copy.get(path, headers=headers).status_code == 200

    services.replace(responses.GET, f"{USERS}/me", status=401, json={"message": "This account was ... changed"})
    time.sleep(1.05)
    refused = saved_copy.get(path, headers=headers)

    if htmx:
        assert refused.status_code == 401 and refused.headers["HX-Redirect"].startswith("/login?next=")
    else:
        assert refused.status_code == 302 and "/login?next=" in refused.headers["Location"]


def test_anonymous_pages_ask_user_service_nothing(checked_app, services):
    services.get(f"{BOOKS}/books", **listing([]))

    assert checked_app.test_client().get("/").status_code == 200
    assert not [call for call in services.calls if call.request.url.startswith(USERS)]


def test_logout_says_so_when_other_sessions_could_not_be_ended(checked_app, tokens, services):
    browser, _token = logged_in(checked_app, tokens)
    services.get(f"{BOOKS}/books", **listing([]))

    html = browser.post("/logout", follow_redirects=True).get_data(as_text=True)

    assert "could not be reached to end the session" in html
    with browser.session_transaction() as session:
        assert "token" not in session


def test_log_out_everywhere_asks_user_service_to_end_every_session(checked_app, tokens, services):
    services.post(f"{USERS}/logout/everywhere", status=204)
    services.get(f"{USERS}/me", json=account())
    services.get(f"{BOOKS}/books", **listing([]))
    browser, token = logged_in(checked_app, tokens)

    html = browser.post("/logout/everywhere", follow_redirects=True).get_data(as_text=True)

    assert "You have logged out everywhere" in html
    ended = [call for call in services.calls if call.request.url == f"{USERS}/logout/everywhere"]
    assert len(ended) == 1 and ended[0].request.headers["Authorization"] == f"Bearer {token}"
    assert not [call for call in services.calls if call.request.url == f"{USERS}/logout"]


@pytest.mark.parametrize("reason", ["logged_out_everywhere", "password_changed"])
def test_a_device_logged_out_from_elsewhere_is_told_why(checked_app, tokens, services, reason):
    services.get(f"{USERS}/me", status=401, json={"message": SESSION_ENDED[reason]})
    other_device, _token = logged_in(checked_app, tokens)

    html = other_device.get("/my/borrows", follow_redirects=True).get_data(as_text=True)

    assert "Log in" in html and escape(SESSION_ENDED[reason]) in html
    assert "Your session has expired" not in html and "Please log in to continue" not in html  # said once


def test_too_many_sign_ups_is_said_next_to_the_form(csrf_client, services):
    services.post(f"{USERS}/register", status=429, headers={"Retry-After": "1800"}, json={
        "message": "Too many sign-ups from your address; try again in 30 minutes", "retry_after": 1800})

    response = csrf_client.post("/signup", data={"username": "alice", "first_name": "Alice", "last_name": "L",
                                                 "password": "pw-123456", "confirm": "pw-123456",
                                                 "csrf_token": csrf_token(csrf_client, "/signup")})

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Too many sign-ups from your address; try again in 30 minutes" in html
    assert 'value="alice"' in html


def test_too_many_failed_logins_is_said_next_to_the_form(csrf_client, services):
    services.post(f"{USERS}/login", status=429, headers={"Retry-After": "8"},
                  json={"message": "Too many failed attempts; try again in 8 seconds", "retry_after": 8})

    response = csrf_client.post("/login", data={"username": "alice", "password": "pw-123456",
                                                "csrf_token": csrf_token(csrf_client)})

    assert response.status_code == 400
    assert "Too many failed attempts; try again in 8 seconds" in response.get_data(as_text=True)


@pytest.mark.parametrize("htmx", [False, True])
def test_too_many_expensive_searches_is_said_in_the_results(client, services, htmx):
    services.get(f"{BOOKS}/books", status=429, headers={"Retry-After": "40"}, json={
        "message": "Too many searches by relevance or for available books from your address; try again in "
                   "40 seconds", "retry_after": 40})
    headers = {"HX-Request": "true", "HX-Target": "results"} if htmx else {}

    response = client.get("/?q=guide&sort=relevance&available=y", headers=headers)

    assert response.status_code == 200
    assert "try again in 40 seconds" in response.get_data(as_text=True)


def test_behind_a_trusted_https_proxy_the_frontend_passes_on_the_persons_address_and_sends_hsts(tokens, services):
    """Issue 12, finding 3: TRUSTED_PROXIES names the proxy in front; its X-Forwarded-* are believed, nobody else's."""
    services.post(f"{USERS}/login", status=401, json={"message": "Invalid username or password"})
    services.get(f"{BOOKS}/books", **listing([]))
    behind_proxy = make_app(tokens, WTF_CSRF_ENABLED=False, TRUSTED_PROXIES="10.0.0.0/8").test_client()
    proxy = {"REMOTE_ADDR": "10.1.2.3"}
    forwarded = {"X-Forwarded-For": "203.0.113.50", "X-Forwarded-Proto": "https"}

    behind_proxy.post("/login", data={"username": "alice", "password": "pw-123456"}, headers=forwarded,
                      environ_base=proxy)
    page = behind_proxy.get("/", headers=forwarded, environ_base=proxy)
    stranger = behind_proxy.get("/", headers=forwarded, environ_base={"REMOTE_ADDR": "198.51.100.1"})

    assert services.calls[0].request.headers["X-Forwarded-For"] == "203.0.113.50"
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in stranger.headers
