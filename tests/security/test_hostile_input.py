"""Hostile input at every endpoint and form of the running system: never a 5xx, always a clear JSON error
(or page), and whatever is stored comes back exactly as typed and is shown escaped."""

import re
import uuid
from urllib.parse import quote, urlencode

import pytest
import requests

from library_common.testing import register_patron

HOSTILE_TEXT = {
    "sql": "'; DROP TABLE books; --",
    "html": "<script>alert('pwned')</script>",
    "template": "{{7*7}} {% raw %} ${7*7}",
    "rtl override": "\u202eelif.exe\u202c",
    "emoji": "👩‍🚀📚🏳️‍🌈",
    "combining marks": "Zo\u0308e\u0301\u0301\u0301",
    "zero width": "a\u200bb\u200dc\ufeff",
    "nul byte": "nul\x00byte",
    "lone surrogate": "\ud800alone",
    "huge": "x" * 20_000,
    "blank": "   ",
    "format string": "%s%s%s%n",
    "path": "../../../../etc/passwd",
}
NOT_AN_OBJECT = ["[]", "[1, 2]", '"text"', "null", "1", "true"]


def assert_clear_error_or_success(response):
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code == 414:  # a request line over 8 KB: gunicorn answers before the app (documented)
        return
    if response.status_code >= 400:
        assert response.headers["Content-Type"].startswith("application/json"), response.text[:200]
        assert response.json()["message"]


@pytest.fixture(scope="module")
def librarian(stack):
    return stack.login(*stack.librarian)


@pytest.fixture(scope="module")
def patron(stack):
    username = stack.approve(register_patron(stack.users, "hostile", "hostile-password"))
    return username, stack.login(username, "hostile-password")


def json_endpoints(stack, librarian, patron):
    """(method, url, a valid body, the text fields to attack, headers)."""
    username, patron_headers = patron
    return [
        ("POST", f"{stack.users}/register", {"username": f"u{uuid.uuid4().hex[:6]}", "password": "long-password",
                                              "first_name": "A", "last_name": "B"},
         ["username", "password", "first_name", "last_name", "email"], {}),
        ("POST", f"{stack.users}/users", {"username": f"d{uuid.uuid4().hex[:6]}", "first_name": "A", "last_name": "B"},
         ["username", "first_name", "last_name", "email"], librarian),
        ("POST", f"{stack.users}/email-verifications", {"token": "not.a.link"}, ["token"], {}),
        ("POST", f"{stack.users}/password-resets", {"username_or_email": "nobody-here"}, ["username_or_email"], {}),
        ("POST", f"{stack.users}/password-resets/confirm", {"token": "not.a.link", "password": "long-password"},
         ["token", "password"], {}),
        ("POST", f"{stack.users}/login", {"username": "nobody-here", "password": "whatever"}, ["username", "password"],
         {"X-Forwarded-For": "198.51.100.200"}),
        ("PATCH", f"{stack.users}/users/{username}", {"first_name": "A"}, ["first_name", "last_name"], patron_headers),
        ("PATCH", f"{stack.users}/users/{username}", {"email": "h@example.org", "current_password": "hostile-password"},
         ["email", "current_password"], patron_headers),
        ("PATCH", f"{stack.users}/users/{username}", {"staff_note": "N"},
         ["phone", "postal_address", "staff_note", "category", "card_expires_on"], librarian),
        ("POST", f"{stack.users}/patron-categories", {"code": f"h{uuid.uuid4().hex[:6]}", "name": "H"},
         ["code", "name"], librarian),
        ("PATCH", f"{stack.users}/patron-categories/staff", {"name": "Staff"}, ["name"], librarian),
        ("POST", f"{stack.books}/books", {"title": "T", "author": "A", "genre": "G"},
         ["title", "author", "genre", "isbn", "description", "language"], librarian),
        ("POST", f"{stack.books}/genres", {"name": "G"}, ["name"], librarian),
        ("POST", f"{stack.books}/item-types", {"code": f"h{uuid.uuid4().hex[:6]}", "name": "H"}, ["code", "name"],
         librarian),
        ("POST", f"{stack.borrows}/borrowbook", {"book_id": 1, "username": username}, ["username"], librarian),
        ("POST", f"{stack.borrows}/return", {"book_id": 1}, ["username"], patron_headers),
    ]


@pytest.mark.parametrize("kind", HOSTILE_TEXT)
def test_hostile_text_in_every_json_field(stack, librarian, patron, kind):
    for method, url, valid, fields, headers in json_endpoints(stack, librarian, patron):
        for field in fields:
            response = requests.request(method, url, json={**valid, field: HOSTILE_TEXT[kind]}, headers=headers,
                                        timeout=10)
            assert_clear_error_or_success(response)


def test_structurally_hostile_bodies_everywhere(stack, librarian, patron):
    deep = "[" * 50_000 + "]" * 50_000
    for method, url, _valid, _fields, headers in json_endpoints(stack, librarian, patron):
        json_headers = {**headers, "Content-Type": "application/json"}
        for body in [*NOT_AN_OBJECT, deep, "{not json", '{"a": 1e999999}', '{"title": "\\ud800"}']:
            response = requests.request(method, url, data=body, headers=json_headers, timeout=10)
            assert_clear_error_or_success(response)
            assert response.status_code in (400, 401, 403, 404, 409, 429), (url, body[:20], response.status_code)
        oversized = requests.request(method, url, data="x" * (2 * 1024 * 1024), headers=json_headers, timeout=30)
        assert oversized.status_code == 413
        wrong_type = requests.request(method, url, data="title=x", timeout=10,
                                      headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})
        assert wrong_type.status_code in (401, 403, 415), url


@pytest.mark.parametrize("number", [0, -1, 2**31, 2**63, 10**30, 1.5, "1", None])
def test_impossible_ids_in_bodies_and_paths(stack, librarian, number):
    borrow = requests.post(f"{stack.borrows}/borrowbook", json={"book_id": number}, headers=librarian, timeout=10)
    assert borrow.status_code == 400 and "book_id" in borrow.json()["errors"]
    for url in (f"{stack.books}/books/{number}", f"{stack.borrows}/borrows/book/{number}"):
        response = requests.get(url, headers=librarian, timeout=10)
        assert_clear_error_or_success(response)
        assert response.status_code in (200, 404)  # "1" is a real id; the rest cannot exist


@pytest.mark.parametrize("query", ["page=0", "page=-3", "per_page=0", "per_page=-1", "per_page=101",
                                   "page=99999999999999999999", "page=abc"])
def test_bad_pagination_on_every_list(stack, librarian, query):
    for url in (f"{stack.books}/books", f"{stack.users}/users", f"{stack.borrows}/borrows"):
        response = requests.get(f"{url}?{query}", headers=librarian, timeout=10)
        assert response.status_code == 400, (url, query)
        assert response.json()["message"]


def url_encoded(value):
    """Percent-encoded UTF-8 bytes, lone surrogates included (requests refuses to encode those)."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


@pytest.mark.parametrize("kind", HOSTILE_TEXT)
def test_hostile_search_terms(stack, kind):
    value = url_encoded(HOSTILE_TEXT[kind])
    for name in ("q", "genre", "author", "sort", "language", "decade"):
        for path in ("/books", "/books/facets"):
            assert_clear_error_or_success(requests.get(f"{stack.books}{path}?{name}={value}", timeout=10))
    assert_clear_error_or_success(requests.get(f"{stack.books}/books/suggestions?q={value}", timeout=10))
    for path in (f"/?q={value}", f"/?genre={value}&language={value}&decade={value}", f"/suggestions?q={value}"):
        page = requests.get(f"{stack.web}{path}", timeout=10)
        assert page.status_code in (200, 400, 414) and "text/html" in page.headers["Content-Type"]


@pytest.mark.parametrize("kind", HOSTILE_TEXT)
def test_hostile_card_numbers_and_category_codes_in_paths(stack, librarian, kind):
    value = url_encoded(HOSTILE_TEXT[kind])
    for method, path in (("GET", f"/cards/{value}"), ("PATCH", f"/patron-categories/{value}"),
                         ("DELETE", f"/patron-categories/{value}"), ("GET", f"/users?q={value}")):
        response = requests.request(method, f"{stack.users}{path}", headers=librarian, timeout=10,
                                    json={"name": "Renamed"} if method == "PATCH" else None)
        assert_clear_error_or_success(response)
        assert response.status_code in (200, 400, 404, 414), (method, path[:40], response.status_code)


def test_stored_hostile_text_comes_back_as_typed_and_is_shown_escaped(stack, librarian):
    title = f"{HOSTILE_TEXT['html']} {HOSTILE_TEXT['sql']} {HOSTILE_TEXT['rtl override']} {HOSTILE_TEXT['emoji']}"
    created = requests.post(f"{stack.books}/books", headers=librarian, timeout=10, json={
        "title": title, "author": HOSTILE_TEXT["combining marks"], "genre": HOSTILE_TEXT["template"]})
    assert created.status_code == 201
    book = created.json()

    assert requests.get(f"{stack.books}/books/{book['id']}", timeout=10).json()["title"] == title
    page = requests.get(f"{stack.web}/books/{book['id']}", timeout=10).text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in page
    assert "{{7*7}}" in page and "49" not in re.sub(r"\d{4,}", "", page.split("<main", 1)[1][:2000])


def form_body(fields):
    return urlencode({name: value.encode("utf-8", "surrogatepass") for name, value in fields.items()})


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def web_form_session(stack, *credentials):
    session = requests.Session()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      session.get(f"{stack.web}/login", timeout=10).text).group(1)
    if credentials:
        session.post(f"{stack.web}/login", timeout=10, data={
            "username": credentials[0], "password": credentials[1], "csrf_token": token})
    return session, token


@pytest.mark.parametrize("kind", ["html", "nul byte", "lone surrogate", "huge", "rtl override", "sql"])
def test_hostile_text_in_every_form(stack, patron, kind):
    value = HOSTILE_TEXT[kind]
    visitor, token = web_form_session(stack)
    for path, fields in (("/signup", {"username": value, "first_name": value, "last_name": value, "email": value,
                                      "password": value, "confirm": value}),
                         ("/login", {"username": value, "password": value, "next": value}),
                         ("/forgot-password", {"username_or_email": value}),
                         ("/reset-password", {"token": value, "password": value, "confirm": value}),
                         ("/account/verify", {"token": value})):
        response = visitor.post(stack.web + path, data=form_body({**fields, "csrf_token": token}), timeout=10,
                                allow_redirects=False, headers={**FORM, "X-Forwarded-For": "198.51.100.201"})
        assert response.status_code in (200, 302, 400), (path, response.status_code)
        assert "<script>alert" not in response.text
    librarian, token = web_form_session(stack, *stack.librarian)
    page = librarian.get(f"{stack.web}/manage/books/new", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = librarian.post(f"{stack.web}/manage/books/new", timeout=10, allow_redirects=False, headers=FORM,
                              data=form_body({"title": value, "author": value, "genre": value, "isbn": value,
                                              "published_year": value, "copies": value, "description": value,
                                              "csrf_token": token}))
    assert response.status_code in (302, 400)
    assert "<script>alert" not in response.text
    username, _headers = patron
    # the patron page's forms have prefixes (their fields', and their CSRF tokens', names start with it)
    for path, prefix, fields in ((f"/manage/users/{username}/contact", "contact-",
                                  {"phone": value, "postal_address": value, "staff_note": value}),
                                 (f"/manage/users/{username}/card/expiry", "card-", {"card_expires_on": value}),
                                 (f"/manage/users/{username}/category", "category-", {"category": value}),
                                 ("/manage/patron-categories", "", {"code": value, "name": value}),
                                 ("/manage/patron-categories/staff/rename", "", {"name": value})):
        named = {prefix + name: text for name, text in {**fields, "csrf_token": token}.items()}
        response = librarian.post(stack.web + path, timeout=10, allow_redirects=False, headers=FORM,
                                  data=form_body(named))
        assert response.status_code in (302, 400), (path, response.status_code)
        assert "<script>alert" not in response.text
    for path in (f"/manage/users/{username}", "/manage/patron-categories"):
        assert "<script>alert" not in librarian.get(stack.web + path, timeout=10).text
