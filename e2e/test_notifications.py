"""What the library tells its readers, through the whole chain: user-service and borrow-service record events,
notification-service's worker turns them into notices and mails them over SMTP to the development mail catcher,
and the links in the mail work in the browser."""

import re
import time

import requests
from playwright.sync_api import expect

from .conftest import PASSWORD, log_in, screenshot
from .test_holds import lend_the_only_copy


def mail_to(stack, address, subject_starts, timeout=30):
    """The newest mail to `address` whose subject starts so, with its text and links (waits for it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in requests.get(f"{stack.mailbox}/messages", timeout=10).json():
            if message["to"] == address and message["subject"].startswith(subject_starts):
                return requests.get(f"{stack.mailbox}/messages/{message['id']}", timeout=10).json()
        time.sleep(0.5)
    raise AssertionError(f"no mail “{subject_starts}…” to {address} within {timeout} s")


def link_in(mail, path):
    return next(link for link in mail["links"] if link.split("?")[0].endswith(path))


def test_sign_up_confirm_from_the_mail_hold_and_hear_the_copy_is_ready(browser, base_url, stack, unique, add_book,
                                                                          named_patron):
    book, barcode = lend_the_only_copy(stack, add_book, unique, named_patron, f"Eagerly Awaited {unique}")
    username, address = f"mailed-{unique}", f"mailed-{unique}@example.org"
    reader = browser.new_context(base_url=base_url).new_page()

    reader.goto("/signup")
    reader.get_by_label("Username").fill(username)
    reader.get_by_label("First name").fill("Mina")
    reader.get_by_label("Last name").fill("Mailer")
    reader.get_by_label("E-mail address (optional)").fill(address)
    reader.get_by_label("Password", exact=True).fill(PASSWORD)
    reader.get_by_label("Repeat password").fill(PASSWORD)
    reader.get_by_role("button", name="Sign up").click()
    expect(reader.get_by_text("Welcome, Mina!")).to_be_visible()

    confirmation = mail_to(stack, address, "Please confirm your e-mail address")
    assert "Dear Mina," in confirmation["text"]
    reader.goto(link_in(confirmation, "/account/verify"))
    reader.get_by_role("button", name="Confirm my address").click()
    expect(reader.get_by_text(f"Thank you: {address} is confirmed as your e-mail address.")).to_be_visible()

    reader.goto(f"/books/{book['id']}")
    reader.get_by_role("button", name="Place a hold").click()
    expect(reader.get_by_text(re.compile(r"You are 1st in line"))).to_be_visible()
    librarian = stack.login(*stack.librarian)
    requests.post(f"{stack.borrows}/checkin", json={"barcode": barcode}, headers=librarian,
                  timeout=10).raise_for_status()

    ready = mail_to(stack, address, f"Ready for you: “Eagerly Awaited {unique}”")
    assert "is waiting for you on the hold shelf" in ready["text"]
    assert any(link.endswith(f"/books/{book['id']}") for link in ready["links"])
    badge = reader.get_by_label("1 unread")
    for _attempt in range(20):  # the header's count is asked for as each page loads
        reader.goto("/")
        if badge.count():
            break
        time.sleep(0.5)
    expect(badge).to_be_visible()
    reader.get_by_role("link", name=re.compile("^Notifications")).click()
    notice = reader.locator(".notice").first
    expect(notice).to_contain_text(f"Ready for you: “Eagerly Awaited {unique}”")
    screenshot(reader, "notifications")
    reader.get_by_role("button", name=re.compile("^Mark “")).click()
    expect(reader.get_by_role("button", name=re.compile("^Mark “"))).to_have_count(0)
    expect(reader.get_by_label("1 unread")).to_have_count(0)
    notice.get_by_role("link", name="Open").click()
    expect(reader.get_by_text(re.compile(r"Ready for you until \d+ \w{3}"))).to_be_visible()


def test_forgotten_password_reset_through_the_mailed_link_once(browser, base_url, stack, unique):
    username, address = f"forgetful-{unique}", f"forgetful-{unique}@example.org"
    requests.post(f"{stack.users}/register", timeout=10, json={
        "username": username, "password": PASSWORD, "first_name": "Fred", "last_name": "Forgetful",
        "email": address}).raise_for_status()
    page = browser.new_context(base_url=base_url).new_page()
    page.goto(link_in(mail_to(stack, address, "Please confirm your e-mail address"), "/account/verify"))
    page.get_by_role("button", name="Confirm my address").click()

    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Username or e-mail address").fill(address.upper())
    page.get_by_role("button", name=re.compile("Send")).click()
    expect(page.get_by_text(re.compile("If an account matches, we have sent a link"))).to_be_visible()
    reset = link_in(mail_to(stack, address, "Reset your library password"), "/reset-password")
    page.goto(reset)
    page.get_by_label("New password", exact=True).fill("a-brand-new-password")
    page.get_by_label(re.compile("Repeat")).fill("a-brand-new-password")
    page.get_by_role("button", name="Save my new password").click()
    expect(page.get_by_text("Your new password is set: log in with it.")).to_be_visible()
    log_in(page, username, "a-brand-new-password")
    changed = mail_to(stack, address, "Your password was changed")

    page.goto(reset)  # the link worked once: opened again, it says so instead of offering the form
    expect(page.get_by_role("alert")).to_contain_text("This link has expired or was already used")
    expect(page.get_by_label("New password", exact=True)).to_have_count(0)
    assert "If this was not you" in changed["text"]
