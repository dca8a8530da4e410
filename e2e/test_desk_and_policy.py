"""The desk a newcomer tried, and the library's policy: a row's Check in gives the scanner's slip, a return on
the web waits for the desk's scan before the next reader is told, and the Policy page keeps the calendar."""

import re

import requests
from playwright.sync_api import expect

from .conftest import PASSWORD, log_in, screenshot
from .test_holds import lend_the_only_copy


def hold_for(stack, username, book_id):
    headers = stack.login(username, PASSWORD)
    response = requests.post(f"{stack.borrows}/holds", json={"book_id": book_id}, headers=headers, timeout=10)
    response.raise_for_status()
    return response.json()


def hold_status(stack, hold_id):
    librarian = stack.login(*stack.librarian)
    return requests.get(f"{stack.borrows}/holds/{hold_id}", headers=librarian, timeout=10).json()["status"]


def test_a_row_s_check_in_sends_the_copy_to_the_waiting_reader_and_says_so(page, stack, unique, add_book,
                                                                           named_patron):
    title = f"Row Slip {unique}"
    book, _barcode = lend_the_only_copy(stack, add_book, unique, named_patron, title)
    reader = named_patron(prefix="waiting")
    hold = hold_for(stack, reader, book["id"])
    log_in(page, stack.librarian[0], stack.librarian[1])
    page.get_by_role("link", name="Loans desk").click()
    count = page.locator("#active-count")
    before = int(count.inner_text())

    page.get_by_role("button", name=re.compile(f"^Check in {title} from ")).click()

    row = page.get_by_role("row", name=re.compile(title))
    expect(row).to_contain_text(f"Hold shelf for {reader}, pickup by")
    expect(count).to_have_text(str(before - 1))
    assert page.url.endswith("/manage/loans")  # the librarian stays where they were
    assert hold_status(stack, hold["id"]) == "ready"
    screenshot(page, "desk-row-check-in")


def test_a_web_return_waits_for_the_desk_before_the_next_reader_is_told(page, browser, base_url, stack, unique,
                                                                        add_book, named_patron):
    title = f"In The Bag {unique}"
    book = add_book(title)
    borrower = named_patron(prefix="bagged")
    requests.post(f"{stack.borrows}/borrowbook", json={"book_id": book["id"]}, headers=stack.login(borrower, PASSWORD),
                  timeout=10).raise_for_status()
    barcode = requests.get(f"{stack.books}/books/{book['id']}/items", timeout=10).json()[0]["barcode"]
    reader = named_patron(prefix="next")
    hold = hold_for(stack, reader, book["id"])

    log_in(page, borrower)
    page.get_by_role("link", name="My borrows", exact=True).click()
    page.get_by_role("button", name=f"Return {title}").click()
    expect(page.get_by_role("row", name=re.compile(title)).first).to_contain_text("Returned")
    assert hold_status(stack, hold["id"]) == "waiting"  # the copy is still in the borrower's bag

    desk = browser.new_context(base_url=base_url).new_page()
    log_in(desk, stack.librarian[0], stack.librarian[1])
    desk.get_by_role("link", name="Loans desk").click()
    desk.get_by_label("Barcode").fill(f"  {barcode} ")  # a scanner's stray spaces are trimmed
    desk.get_by_label("Barcode").press("Enter")
    expect(desk.locator(".slip")).to_contain_text(f"Hold shelf for {reader}")
    assert hold_status(stack, hold["id"]) == "ready"


def test_the_policy_page_closes_the_library_and_opens_it_again(page, stack, unique):
    log_in(page, stack.librarian[0], stack.librarian[1])
    page.get_by_role("link", name="Policy").click()
    expect(page.get_by_role("heading", name="Circulation rules")).to_be_visible()
    expect(page.get_by_text("The library's settings (LOAN_DAYS, …)")).to_be_visible()

    page.get_by_label("Closed on").fill("2098-12-25")
    page.get_by_label("Reason").fill(f"Winter break {unique}")
    page.get_by_role("button", name="Close on these days").click()
    closed = "Closed on 25 Dec 2098: due dates and pickup deadlines from now on skip it."
    expect(page.get_by_text(closed)).to_be_visible()
    closure = page.get_by_role("listitem").filter(has_text=f"Winter break {unique}")
    expect(closure).to_contain_text("25 Dec 2098")
    screenshot(page, "policy")

    closure.get_by_role("button", name=re.compile("^Open again")).click()
    expect(page.get_by_text("Open again on that day.")).to_be_visible()
    expect(page.get_by_text(f"Winter break {unique}")).to_have_count(0)
