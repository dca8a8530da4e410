"""Who may see what, racing for the last copy, and sessions that go bad."""

import re

from flask import Flask
from playwright.sync_api import expect

from .conftest import PASSWORD, log_in, screenshot


def test_two_patrons_race_for_the_last_copy(browser, base_url, stack, unique, add_book):
    import requests

    book = add_book(f"Last Copy {unique}")
    pages = []
    for number in (1, 2):
        username = f"racer{number}-{unique}"
        requests.post(f"{stack.users}/register", timeout=10, json={
            "username": username, "password": PASSWORD, "first_name": "Racer", "last_name": str(number)})
        stack.approve(username)
        page = browser.new_context(base_url=base_url).new_page()
        log_in(page, username)
        page.goto(f"/books/{book['id']}")
        pages.append(page)

    for page in pages:  # both requests are in flight before either answer arrives
        page.get_by_role("button", name="Borrow").click(no_wait_after=True)
    for page in pages:
        expect(page.locator("#borrow-panel .message")).to_be_visible()

    outcomes = sorted(page.locator("#borrow-panel .message").inner_text() for page in pages)
    assert outcomes[0].startswith("Borrowed!")
    assert outcomes[1] == "No copy of this book is free right now: place a hold to be next"
    for page in pages:
        page.context.close()


def test_patrons_get_403_on_librarian_pages_and_others_loans(page, patron):
    log_in(page, patron)
    for path in ("/manage/books/new", "/manage/loans", "/manage/users", "/manage/users/librarian/borrows"):
        response = page.goto(path)
        assert response.status == 403, path
        expect(page.get_by_role("heading", name="This page is not for you")).to_be_visible()


def test_visitors_are_sent_to_log_in_and_come_back(page, patron):
    page.goto("/my/borrows")

    expect(page).to_have_url(re.compile(r"/login\?next=%2Fmy%2Fborrows"))
    page.get_by_label("Username").fill(patron)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/my/borrows$"))


def test_a_login_link_to_another_site_stays_here(page, patron):
    page.goto("/login?next=https://evil.example/phish")
    page.get_by_label("Username").fill(patron)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/$"))


def _session_cookie(page):
    return next(cookie for cookie in page.context.cookies() if cookie["name"] == "session")


def test_a_tampered_session_cookie_means_logged_out_not_an_error(page, patron):
    log_in(page, patron)
    cookie = _session_cookie(page)
    page.context.add_cookies([{**cookie, "value": cookie["value"][:-4] + "AAAA"}])

    page.goto("/my/borrows")

    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_a_token_the_services_reject_sends_the_user_to_log_in(page, stack, patron):
    """A validly signed session whose token user-service never issued (as good as expired)."""
    log_in(page, patron)
    signer = Flask(__name__)
    signer.secret_key = stack.frontend_secret
    bogus = ("eyJhbGciOiJSUzI1NiIsImtpZCI6Im5vLXN1Y2gta2V5IiwidHlwIjoiSldUIn0."
             "eyJzdWIiOiJzb21lb25lIn0.c2lnbmF0dXJl")
    value = signer.session_interface.get_signing_serializer(signer).dumps(
        {"token": bogus, "_user_id": patron, "_fresh": True})
    page.context.add_cookies([{**_session_cookie(page), "value": value}])

    page.goto("/my/borrows")

    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.get_by_text("Your session has expired. Please log in again.")).to_be_visible()


def test_log_out_ends_this_device_and_log_out_everywhere_tells_the_others_why(browser, base_url, patron):
    laptop, phone, library_computer = (browser.new_context(base_url=base_url).new_page() for _ in range(3))
    for page in (laptop, phone, library_computer):
        log_in(page, patron)

    laptop.get_by_role("button", name="Log out", exact=True).click()
    expect(laptop.get_by_text("You have logged out.")).to_be_visible()
    phone.goto("/my/borrows")
    expect(phone.get_by_text(f"Signed in as {patron}")).to_be_visible()  # the other devices go on

    phone.goto("/account")
    phone.get_by_role("button", name="Log out everywhere").click()
    expect(phone.get_by_text("You have logged out everywhere")).to_be_visible()
    screenshot(phone, "logged-out-everywhere")

    library_computer.wait_for_timeout(1100)  # the frontend's SESSION_CHECK_SECONDS
    library_computer.goto("/my/borrows")
    expect(library_computer).to_have_url(re.compile(r"/login\?next="))
    expect(library_computer.get_by_text("Log out everywhere was chosen on another device")).to_be_visible()
    screenshot(library_computer, "told-why-logged-out")
    for page in (laptop, phone, library_computer):
        page.context.close()
