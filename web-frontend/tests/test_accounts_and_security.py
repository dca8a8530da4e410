import re
from html import unescape
from types import SimpleNamespace

import pytest
from flask import url_for

from web_frontend import create_app
from web_frontend.forms import SignupForm
from web_frontend.views.common import apply_service_errors

from .conftest import BOOKS, BORROWS, USERS, account, csrf_token, json_body, listing


def test_login_starts_a_session_and_follows_a_safe_next(csrf_client, services, tokens):
    services.post(f"{USERS}/login", json={"message": "Login successful", "token": tokens.token("alice"),
                                          "user": {"username": "alice", "first_name": "Alice"}})
    token = csrf_token(csrf_client)

    response = csrf_client.post("/login", data={"username": "alice", "password": "pw-123456", "next": "/my/borrows",
                                           "csrf_token": token})

    assert response.status_code == 302 and response.headers["Location"] == "/my/borrows"
    assert json_body(services.calls[-1]) == {"username": "alice", "password": "pw-123456"}


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"])
def test_login_never_redirects_off_site(csrf_client, services, tokens, target):
    services.post(f"{USERS}/login", json={"message": "ok", "token": tokens.token("alice"),
                                          "user": {"username": "alice", "first_name": "Alice"}})

    response = csrf_client.post("/login", data={"username": "alice", "password": "pw-123456", "next": target,
                                           "csrf_token": csrf_token(csrf_client)})

    assert response.headers["Location"] == "/"


def test_wrong_password_keeps_the_username_not_the_password(csrf_client, services):
    services.post(f"{USERS}/login", status=401, json={"message": "Invalid username or password"})

    response = csrf_client.post("/login", data={"username": "alice", "password": "wrong-pass",
                                           "csrf_token": csrf_token(csrf_client)})

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Invalid username or password" in html
    assert 'value="alice"' in html and "wrong-pass" not in html


def test_signup_shows_the_services_field_errors(csrf_client, services):
    services.post(f"{USERS}/register", status=409, json={
        "message": "That username is taken", "errors": {"username": "That username is taken"}})

    response = csrf_client.post("/signup", data={"username": "alice", "first_name": "Alice", "last_name": "L",
                                            "password": "pw-123456", "confirm": "pw-123456",
                                            "csrf_token": csrf_token(csrf_client, "/signup")})

    html = response.get_data(as_text=True)
    assert 'id="username-error"' in html and "That username is taken" in html
    assert 'value="Alice"' in html


def test_posts_without_a_csrf_token_are_refused(csrf_client):
    response = csrf_client.post("/login", data={"username": "alice", "password": "pw-123456"})

    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)


def test_an_expired_session_is_sent_to_log_in_with_a_message(client, services, tokens):
    from datetime import datetime, timedelta, timezone

    with client.session_transaction() as session:
        session["token"] = tokens.token("alice", exp=datetime.now(timezone.utc) - timedelta(minutes=1))
        session["_user_id"] = "alice"

    response = client.get("/my/borrows")

    assert response.status_code == 302 and "/login?next=%2Fmy%2Fborrows" in response.headers["Location"]
    assert "Your session has expired" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_backend_401_logs_the_user_out(client, services, log_in_as):
    log_in_as("alice")
    services.get(f"{BORROWS}/borrows", status=401, json={"message": "Token expired; log in again"})

    response = client.get("/my/borrows")

    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]
    with client.session_transaction() as session:
        assert "token" not in session


def test_logout_is_a_post_and_clears_the_session(client, log_in_as):
    log_in_as("alice")
    assert client.get("/logout").status_code == 405

    client.post("/logout")

    with client.session_transaction() as session:
        assert "token" not in session


def test_librarian_pages_need_a_librarian(client, log_in_as):
    assert "/login" in client.get("/manage/users").headers["Location"]
    log_in_as("alice", "patron")

    response = client.get("/manage/users")

    assert response.status_code == 403
    assert "This page is not for you" in response.get_data(as_text=True)


def test_librarians_see_users_with_role_forms(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.get(f"{USERS}/users", **listing([{"username": "alice", "first_name": "Alice", "last_name": "L",
                                               "role": "patron", "active": True,
                                               "created_at": "2026-11-01T10:00:00+00:00"}]))

    html = client.get("/manage/users").get_data(as_text=True)

    assert "Role of alice" in html and "1 Nov 2026" in html


def test_security_headers(client, services):
    services.get(f"{BOOKS}/books", **listing([]))

    headers = client.get("/").headers

    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "script-src 'self' https://unpkg.com/htmx.org@" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"


PAGE_AND_FRAGMENT = [{}, {"HX-Request": "true", "HX-Target": "results"}]


@pytest.mark.parametrize("htmx", PAGE_AND_FRAGMENT)
def test_nothing_shown_to_a_logged_in_reader_is_stored(client, services, log_in_as, htmx):
    """Issue 13, finding 13: public terminals. Every response for a logged-in session, the catalogue's included."""
    services.get(f"{BOOKS}/books", **listing([]))
    services.get(f"{BORROWS}/borrows", **listing([]))
    services.get(f"{BORROWS}/holds", **listing([]))
    services.get(f"{BORROWS}/patrons/alice", json={"keep_history": False})
    log_in_as("alice")

    for path in ("/", "/my/borrows", "/my/borrows/history", "/no-such-page"):
        assert client.get(path, headers=htmx).headers["Cache-Control"] == "no-store", path
    assert client.post("/books/1/hold", headers=htmx).headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/static/vendor/htmx.min.js").headers.get("Cache-Control", "")


@pytest.mark.parametrize("htmx", PAGE_AND_FRAGMENT)
def test_the_account_forms_are_never_stored_and_the_anonymous_catalogue_stays_cacheable(client, services, htmx):
    services.get(f"{BOOKS}/books", **listing([]))
    services.get(f"{BOOKS}/books/1", json={"message": "Not found"}, status=404)

    for path in ("/login", "/signup", "/forgot-password", "/reset-password", "/account/verify"):
        assert client.get(path, headers=htmx).headers["Cache-Control"] == "no-store", path
    assert client.post("/login", data={}, headers=htmx).headers["Cache-Control"] == "no-store"
    for path in ("/", "/?q=dune", "/books/1"):
        assert "Cache-Control" not in client.get(path, headers=htmx).headers, path


def test_htmx_from_the_cdn_carries_its_integrity_hash(client, services):
    services.get(f"{BOOKS}/books", **listing([]))

    html = client.get("/").get_data(as_text=True)

    assert 'integrity="sha384-' in html and 'crossorigin="anonymous"' in html


def test_session_cookie_flags(csrf_client, services, tokens):
    services.post(f"{USERS}/login", json={"message": "ok", "token": tokens.token("alice"),
                                          "user": {"username": "alice", "first_name": "Alice"}})

    response = csrf_client.post("/login", data={"username": "alice", "password": "pw-123456",
                                           "csrf_token": csrf_token(csrf_client)})

    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_refuses_the_default_secret():
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"APP_ENV": "production"})


def test_the_frontend_tells_user_service_whom_it_logs_in_for(csrf_client, services, tokens):
    services.post(f"{USERS}/login", status=401, json={"message": "Invalid username or password"})

    form = {"username": "alice", "password": "wrong-pass", "csrf_token": csrf_token(csrf_client)}
    csrf_client.post("/login", data=form, environ_base={"REMOTE_ADDR": "203.0.113.50"})

    assert services.calls[-1].request.headers["X-Forwarded-For"] == "203.0.113.50"


def test_librarians_search_users(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.get(f"{USERS}/users", **listing([]))

    html = client.get("/manage/users?q=ali").get_data(as_text=True)

    assert "q=ali" in services.calls[-1].request.url
    assert "No user matches “ali”." in html and 'value="ali"' in html


def concrete_urls(app, prefix="", methods=("GET", "POST")):
    """Every route of the app (under `prefix`) with sample values for its variables, per method."""
    samples = {"book_id": 1, "loan_id": 1, "hold_id": 1, "notice_id": 1, "message_id": "1-ab", "username": "alice",
               "barcode": "1000000001", "genre_id": 1, "filename": "style.css", "action": "deactivate", "import_id": 1,
               "closure_id": 1, "code": "child"}
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.rule.startswith(prefix):
                url = url_for(rule.endpoint, **{name: samples[name] for name in rule.arguments})
                for method in sorted(set(methods) & rule.methods):
                    yield method, url


def test_every_librarian_page_and_action_needs_a_librarian(app, client, log_in_as):
    routes = list(concrete_urls(app, "/manage"))
    assert len(routes) > 15

    for method, url in routes:
        assert client.open(url, method=method).status_code == 302, (method, url)  # to the login page
    log_in_as("alice", "patron")
    for method, url in routes:
        assert client.open(url, method=method).status_code == 403, (method, url)


def test_every_form_post_needs_a_csrf_token(csrf_client, tokens):
    posts = [url for method, url in concrete_urls(csrf_client.application) if method == "POST"]
    assert len(posts) > 12
    with csrf_client.session_transaction() as session:  # a librarian, or the librarians' pages refuse them first
        session["token"], session["_user_id"] = tokens.token("boss", "librarian"), "boss"

    for url in posts:
        response = csrf_client.post(url, data={"anything": "x"})
        assert response.status_code == 400 and "This form has expired" in response.get_data(as_text=True), url


def test_making_a_librarian_asks_first(client, services, log_in_as):
    log_in_as("boss", "librarian")
    promoted = services.patch(f"{USERS}/users/alice", json=account("alice", role="librarian"))

    asked = client.post("/manage/users/alice/role", data={"role": "librarian"})
    confirmed = client.post("/manage/users/alice/role", data={"role": "librarian", "confirmed": "yes"})

    assert asked.status_code == 200 and "Make alice a librarian?" in asked.get_data(as_text=True)
    assert len(promoted.calls) == 1 and json_body(promoted.calls[0]) == {"role": "librarian"}
    assert confirmed.status_code == 302


def test_making_a_patron_of_a_librarian_needs_no_question(client, services, log_in_as):
    log_in_as("boss", "librarian")
    demoted = services.patch(f"{USERS}/users/carol", json=account("carol", role="patron"))

    response = client.post("/manage/users/carol/role", data={"role": "patron"})

    assert response.status_code == 302 and len(demoted.calls) == 1


def signup_errors(html):
    """Each error shown on the sign-up page, by the field it belongs to (`form` for the form's own)."""
    shown = re.findall(r'<small id="([a-z_]+)-error" class="error">([^<]*)</small>', html)
    alerts = re.findall(r'<div class="message message-error" role="alert">([^<]*)</div>', html)
    return [(name, unescape(text)) for name, text in shown], [unescape(text) for text in alerts]


def test_signup_shows_every_mistake_at_once_and_focuses_the_first(csrf_client, services):
    response = csrf_client.post("/signup", data={"username": "al", "first_name": "", "last_name": "L",
                                                 "password": "short", "confirm": "other",
                                                 "csrf_token": csrf_token(csrf_client, "/signup")})

    html = response.get_data(as_text=True)
    shown, alerts = signup_errors(html)
    assert response.status_code == 400 and not alerts
    assert dict(shown) == {"username": "3 to 32 characters: letters, digits, '.', '_' or '-'",
                           "first_name": "This field is required.",
                           "password": "Between 8 and 128 characters", "confirm": "Passwords differ"}
    assert len(shown) == 4
    assert html.count("autofocus") == 1 and re.search(r'<input[^>]*autofocus[^>]*id="username"', html)
    assert not [call for call in services.calls if call.request.url.endswith("/register")]


@pytest.mark.parametrize("password, message", [("          ", "A password must have something other than spaces "
                                                               "in it"),
                                               ("Alice-x1", "Password must not be the username")])
def test_signup_knows_the_services_password_rules_before_asking(csrf_client, services, password, message):
    response = csrf_client.post("/signup", data={"username": "alice-x1", "first_name": "Alice", "last_name": "L",
                                                 "password": password, "confirm": password,
                                                 "csrf_token": csrf_token(csrf_client, "/signup")})

    shown, _ = signup_errors(response.get_data(as_text=True))
    assert shown == [("password", message)]


def test_signup_shows_each_of_the_services_errors_once(csrf_client, services):
    common = "This password is among the most common ones: choose another"
    services.post(f"{USERS}/register", status=400, json={"message": "Invalid input", "errors": {
        "email": "Not a valid e-mail address", "password": common}})

    response = csrf_client.post("/signup", data={"username": "alice", "first_name": "Alice", "last_name": "L",
                                                 "email": "a@b.c", "password": "Password1", "confirm": "Password1",
                                                 "csrf_token": csrf_token(csrf_client, "/signup")})

    html = response.get_data(as_text=True)
    shown, alerts = signup_errors(html)
    assert sorted(shown) == [("email", "Not a valid e-mail address"), ("password", common)]
    assert not alerts and html.count(common) == 1 and "Invalid input" not in html
    assert html.count("autofocus") == 1 and re.search(r'<input[^>]*autofocus[^>]*id="email"', html)


def test_a_service_error_already_on_the_form_is_not_repeated(client):
    with client.application.test_request_context("/signup", method="POST"):
        form = SignupForm(data={"username": "alice"})
        form.username.errors = ["That username is taken"]
        form.form_errors.append("Try again later")
        apply_service_errors(form, SimpleNamespace(message="Try again later", errors={
            "username": "That username is taken", "role": "Try again later"}))
        assert form.username.errors == ["That username is taken"] and form.form_errors == ["Try again later"]
