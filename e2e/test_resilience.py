"""With borrow-service stopped the catalogue still works and says what it does not know."""

import re

from playwright.sync_api import expect

from .conftest import log_in


def test_catalogue_survives_borrow_service_down_and_recovers(page, stack, unique, add_book, patron):
    title = f"Resilient {unique}"
    book = add_book(title)
    log_in(page, patron)

    with stack.service_stopped("borrows"):
        page.goto(f"/?q={unique}")
        expect(page.get_by_role("link", name=title)).to_be_visible()
        expect(page.get_by_text("Availability unknown")).to_be_visible()
        page.goto(f"/books/{book['id']}")
        expect(page.get_by_text("Availability unknown")).to_be_visible()
        page.get_by_role("button", name="Borrow").click()
        expect(page.get_by_text(re.compile("Borrowing is unavailable right now"))).to_be_visible(timeout=15_000)

    # A request the frozen service had already received may complete once it resumes, so the
    # book may now be on loan to this patron: either way the pages know again, and work.
    page.goto(f"/books/{book['id']}")
    expect(page.get_by_text(re.compile("1 of 1 available|All copies out"))).to_be_visible(timeout=15_000)
    page.get_by_role("link", name="My borrows", exact=True).click()
    return_button = page.get_by_role("button", name=f"Return {title}")
    if return_button.count():
        return_button.click()
        expect(page.get_by_role("row", name=re.compile(title)).first).to_contain_text("Returned")
    page.goto(f"/books/{book['id']}")
    page.get_by_role("button", name="Borrow").click()
    expect(page.get_by_text("Borrowed!")).to_be_visible()
