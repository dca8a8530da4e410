"""The Activity page, as a librarian sees it against the running system: a change made on a book's page shows in
words on the Activity page and on the book's own page, and its CSV holds it."""

import csv
import io

from playwright.sync_api import expect

from .conftest import log_in, screenshot


def test_a_title_changed_shows_on_the_activity_page_and_the_book_s_page(page, stack, unique, add_book):
    book = add_book(f"Dun {unique}")
    log_in(page, stack.librarian[0], stack.librarian[1])
    page.goto(f"/books/{book['id']}")
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Title").fill(f"Dune {unique}")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=f"Dune {unique}")).to_be_visible()

    page.get_by_role("link", name="Activity", exact=True).click()
    entry = page.locator(".activity-entry", has_text=f"changed the title of Dune {unique}").first
    expect(entry).to_contain_text(f"from Dun {unique} to Dune {unique}")
    expect(entry).to_contain_text(stack.librarian[0])
    expect(entry.locator("table.changes")).to_contain_text(f"Dun {unique}")
    screenshot(page, "activity")

    page.get_by_label("Which one").fill(f"book:{book['id']}")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".activity-entry")).to_have_count(2)  # added (through the API), then renamed
    expect(page.locator(".activity-entry").last).to_contain_text(f"added the book Dun {unique}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download these as CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert [row["action"] for row in rows] == ["book.updated", "book.created"]
    assert rows[0]["service"] == "books-service" and rows[0]["actor"] == stack.librarian[0]

    entry.get_by_role("link", name=f"Dune {unique}").click()
    recent = page.locator("#activity")
    expect(recent).to_contain_text(f"changed the title of Dune {unique}")
    recent.get_by_role("link", name="All the activity on this book").click()
    expect(page.get_by_label("Which one")).to_have_value(str(book["id"]))
    expect(page.locator(".activity-entry")).to_have_count(2)
