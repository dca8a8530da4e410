"""Holds in the browser: a patron joins the line, the librarian checks the copy in by barcode and sees the
hold slip, the patron finds it ready and borrows it; a hold nobody collects expires by itself."""

import re
import time

import requests
from playwright.sync_api import expect

from .conftest import PASSWORD, log_in, screenshot


def lend_the_only_copy(stack, add_book, unique, named_patron, title):
    """A one-copy book, lent (through the API) to another patron; returns the book and its barcode."""
    book = add_book(title)
    borrower = named_patron(prefix="holder")
    headers = stack.login(borrower, PASSWORD)
    requests.post(f"{stack.borrows}/borrowbook", json={"book_id": book["id"]}, headers=headers,
                  timeout=10).raise_for_status()
    barcode = requests.get(f"{stack.books}/books/{book['id']}/items", timeout=10).json()[0]["barcode"]
    return book, barcode


def test_a_hold_from_the_line_to_the_hold_shelf_to_a_loan(browser, base_url, stack, unique, add_book, named_patron):
    book, barcode = lend_the_only_copy(stack, add_book, unique, named_patron, f"Much Wanted {unique}")
    patron = named_patron()
    reader = browser.new_context(base_url=base_url).new_page()
    desk = browser.new_context(base_url=base_url).new_page()

    log_in(reader, patron)
    reader.goto(f"/books/{book['id']}")
    expect(reader.get_by_text("All copies out")).to_be_visible()
    expect(reader.get_by_text("Nobody is waiting yet: you would be next.")).to_be_visible()
    expect(reader.get_by_role("button", name="Borrow")).to_have_count(0)
    reader.get_by_role("button", name="Place a hold").click()
    expect(reader.get_by_text(re.compile(r"You are 1st in line — expected around \d+ \w{3}"))).to_be_visible()
    screenshot(reader, "book-hold")

    log_in(desk, stack.librarian[0], stack.librarian[1])
    desk.get_by_role("link", name="Loans desk").click()
    desk.get_by_label("Barcode").fill(barcode)
    desk.get_by_label("Barcode").press("Enter")
    slip = desk.locator(".slip")
    expect(slip).to_contain_text(f"Much Wanted {unique}")
    expect(slip).to_contain_text(re.compile(f"Hold shelf for {patron}, pickup by"))
    expect(desk.get_by_label("Barcode")).to_be_focused()
    screenshot(desk, "desk-hold-slip")
    desk.get_by_role("link", name="Hold shelf", exact=True).click()
    expect(desk.get_by_role("row", name=re.compile(f"{patron}.*Much Wanted {unique}"))).to_be_visible()

    reader.reload()
    expect(reader.get_by_text(re.compile(r"Ready for you until \d+ \w{3}"))).to_be_visible()
    reader.get_by_role("button", name="Borrow").click()
    expect(reader.get_by_text("Borrowed!")).to_be_visible()
    expect(reader.get_by_text(re.compile(r"You have this — due \d+ \w{3}"))).to_be_visible()
    reader.get_by_role("link", name="My borrows", exact=True).click()
    expect(reader.get_by_role("row", name=re.compile(f"Much Wanted {unique}"))).to_contain_text("2 renewals left")
    expect(reader.get_by_text("You are not waiting for any book.")).to_be_visible()


def test_an_uncollected_hold_expires_by_itself(browser, base_url, stack, unique, add_book, named_patron):
    from conftest import HOLD_PICKUP_SECONDS

    book, barcode = lend_the_only_copy(stack, add_book, unique, named_patron, f"Left Behind {unique}")
    patron = named_patron()
    reader = browser.new_context(base_url=base_url).new_page()
    log_in(reader, patron)
    reader.goto(f"/books/{book['id']}")
    reader.get_by_role("button", name="Place a hold").click()
    expect(reader.get_by_text(re.compile("You are 1st in line"))).to_be_visible()
    librarian = stack.login(*stack.librarian)
    slip = requests.post(f"{stack.borrows}/checkin", json={"barcode": barcode}, headers=librarian, timeout=10).json()
    assert slip["route"] == "hold_shelf" and slip["hold"]["username"] == patron

    reader.goto("/my/borrows")
    expect(reader.get_by_text(re.compile("Ready for you until"))).to_be_visible()
    deadline = time.monotonic() + HOLD_PICKUP_SECONDS + 30  # the pickup window, then the worker's next round
    while time.monotonic() < deadline:
        reader.reload()
        if reader.get_by_text("You are not waiting for any book.").count():
            break
        time.sleep(2)
    expect(reader.get_by_text("You are not waiting for any book.")).to_be_visible()

    hold = requests.get(f"{stack.borrows}/holds", params={"username": patron}, headers=librarian, timeout=10).json()[0]
    assert hold["status"] == "expired"
    desk = browser.new_context(base_url=base_url).new_page()
    log_in(desk, stack.librarian[0], stack.librarian[1])
    desk.goto("/manage/holds")
    expect(desk.get_by_role("row", name=re.compile(f"{barcode}.*Left Behind {unique}.*{patron}"))).to_be_visible()
    reader.goto(f"/books/{book['id']}")
    expect(reader.get_by_role("button", name="Borrow")).to_be_visible()  # back on the shelf, free for anyone
