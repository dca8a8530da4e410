"""The seed's flow, in a browser: sign up, search, borrow, my borrows, return."""

import re
from datetime import datetime, timedelta, timezone

import requests

from playwright.sync_api import expect

from .conftest import PASSWORD, log_in, screenshot


def sign_up(page, username):
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("First name").fill("Sahithi")
    page.get_by_label("Last name").fill("Aekka")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text("Welcome, Sahithi!")).to_be_visible()


def seed_flow(page, stack, unique, add_book, javascript=True):
    title = f"The Hitchhiker's Guide {unique}"
    add_book(title, author="Douglas Adams", genre="Science Fiction", isbn=None)
    sign_up(page, f"sahithi-{unique}")
    stack.approve(f"sahithi-{unique}")  # a sign-up borrows once approved (or its address confirmed)

    page.get_by_label("Search").fill(f"hitch {unique}")
    if not javascript:
        page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name=title)).to_be_visible()
    if javascript:
        expect(page).to_have_url(re.compile(rf"q=hitch(\+|%20){unique}"))  # search as you type updates the URL
    page.get_by_role("link", name=title).click()
    expect(page.get_by_text("1 of 1 available")).to_be_visible()

    page.get_by_role("button", name="Borrow").click()
    expect(page.get_by_text(re.compile("Borrowed|please return it by", re.I)).first).to_be_visible()
    book_url = page.url

    page.get_by_role("link", name="My borrows", exact=True).click()
    row = page.get_by_role("row", name=re.compile(title))
    expect(row).to_be_visible()

    page.goto(book_url)
    expect(page.get_by_text("All copies out")).to_be_visible()

    page.get_by_role("link", name="My borrows", exact=True).click()
    page.get_by_role("button", name=f"Return {title}").click()
    if javascript:
        expect(page.get_by_role("row", name=re.compile(title)).first).to_contain_text("Returned")
    else:
        expect(page.get_by_text("Returned. Thank you!")).to_be_visible()
    page.goto(book_url)
    expect(page.get_by_text("1 of 1 available")).to_be_visible()


def test_seed_flow_in_the_browser(page, stack, unique, add_book):
    seed_flow(page, stack, unique, add_book)
    screenshot(page, "book")


def test_seed_flow_without_javascript(browser, base_url, stack, unique, add_book):
    context = browser.new_context(java_script_enabled=False, base_url=base_url)
    try:
        seed_flow(context.new_page(), stack, unique, add_book, javascript=False)
    finally:
        context.close()


def test_renewing_updates_the_due_date_in_place(page, stack, unique, add_book, patron, librarian_api):
    book = add_book(f"Renewable {unique}")
    # lent at the desk until tomorrow: a renewal counts a loan period from today, so it must give more time
    barcode = requests.get(f"{stack.books}/books/{book['id']}/items", timeout=10).json()[0]["barcode"]
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).date().isoformat()
    requests.post(f"{stack.borrows}/checkout", headers=librarian_api, timeout=10, json={
        "barcode": barcode, "username": patron, "override_reason": "Due tomorrow, to renew",
        "due_date": tomorrow}).raise_for_status()
    log_in(page, patron)
    page.get_by_role("link", name="My borrows", exact=True).click()
    row = page.locator("tr", has_text=f"Renewable {unique}")
    due_before = row.locator("td").nth(2).inner_text()

    page.get_by_role("button", name=f"Renew Renewable {unique}").click()

    expect(row.locator("td").nth(2)).not_to_have_text(due_before)
    screenshot(page, "my-borrows")


def test_sign_up_errors_are_shown_next_to_fields_and_input_is_kept(page):
    page.goto("/signup")
    page.get_by_label("Username").fill("x")
    page.get_by_label("First name").fill("Kept")
    page.get_by_label("Last name").fill("Name")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    expect(page.get_by_text("3 to 32 characters").last).to_be_visible()
    expect(page.get_by_label("First name")).to_have_value("Kept")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    screenshot(page, "sign-up-errors")
