"""The librarian: add a book (with a mistake first), edit it, and delete it only once it is back."""

import re

import requests
from playwright.sync_api import expect

from .conftest import log_in, screenshot


def test_add_edit_and_delete_a_book(page, stack, unique):
    log_in(page, stack.librarian[0], stack.librarian[1])
    page.get_by_role("link", name="Add book").click()
    page.get_by_label("Title").fill(f"Librarian's Pick {unique}")
    page.get_by_label("Author").fill("Ursula K. Le Guin")
    page.get_by_label("Genre").fill("Fantasy")
    page.get_by_label("ISBN").fill("978-0-000-00000-1")
    page.get_by_label("Copies").fill("1")
    page.get_by_role("button", name="Add book").click()

    expect(page.get_by_text("Not a valid ISBN-10 or ISBN-13")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value(f"Librarian's Pick {unique}")
    screenshot(page, "add-book-error")

    page.get_by_label("ISBN").fill("")
    page.get_by_role("button", name="Add book").click()
    expect(page.locator(".message-success")).to_contain_text(f"Added: Librarian's Pick {unique}")
    page.get_by_role("link", name=f"Librarian's Pick {unique}").click()

    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Title").fill(f"Librarian's Choice {unique}")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=f"Librarian's Choice {unique}")).to_be_visible()
    book_url = page.url

    page.get_by_role("button", name="Borrow").click()
    expect(page.get_by_text("Borrowed!")).to_be_visible()
    page.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete this book").click()
    expect(page.get_by_text(re.compile("copies out", re.I)).first).to_be_visible()

    page.get_by_role("link", name="My borrows", exact=True).click()
    page.get_by_role("button", name=f"Return Librarian's Choice {unique}").click()
    expect(page.get_by_role("row", name=re.compile(f"Librarian's Choice {unique}")).first).to_contain_text("Returned")
    page.goto(book_url)
    page.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete this book").click()
    expect(page.get_by_text(f"Deleted “Librarian's Choice {unique}”.")).to_be_visible()
    page.get_by_label("Search").fill(unique)
    expect(page.get_by_text("No books match your search")).to_be_visible()


def test_the_desk_works_by_scanner_and_finds_patrons_by_name(page, stack, unique, add_book, named_patron):
    username = named_patron(last_name=f"Scanwell{unique}")
    book = add_book(f"Desk Copy {unique}")
    barcode = requests.get(f"{stack.books}/books/{book['id']}/items", timeout=10).json()[0]["barcode"]
    log_in(page, stack.librarian[0], stack.librarian[1])
    page.get_by_role("link", name="Loans desk").click()
    page.get_by_role("link", name="Check out", exact=True).click()

    page.get_by_label("Patron", exact=True).fill(f"Scanwell{unique}")  # a name, not the username
    page.get_by_label("Barcode").fill(barcode)
    page.get_by_label("Barcode").press("Enter")  # what a scanner does after typing the code
    expect(page.get_by_text(f"“Desk Copy {unique}”")).to_be_visible()
    expect(page.locator(".slip")).to_contain_text(username)
    expect(page.locator(".slip")).to_contain_text("Due")
    expect(page.get_by_label("Barcode")).to_be_focused()
    expect(page.get_by_label("Barcode")).to_have_value("")
    patron_field = page.get_by_label("Patron", exact=True)
    expect(patron_field).to_have_value(f"Scanwell{unique}")  # the same patron, for the next item

    page.get_by_label("Barcode").fill("NOT-A-BARCODE-HERE")
    page.get_by_label("Barcode").press("Enter")
    expect(page.get_by_text(re.compile("No item with barcode"))).to_be_visible()
    expect(page.get_by_label("Barcode")).to_have_value("NOT-A-BARCODE-HERE")  # kept, to be corrected
    screenshot(page, "loans-desk")

    page.get_by_role("link", name="Check in", exact=True).click()
    page.get_by_label("Barcode").fill(barcode)
    page.get_by_label("Barcode").press("Enter")
    expect(page.locator(".slip")).to_contain_text("Back to the shelf")
    expect(page.get_by_label("Barcode")).to_be_focused()

    page.get_by_role("link", name="Users").click()
    page.get_by_label("Find a user").fill(username)
    page.get_by_role("button", name="Find").click()
    screenshot(page, "users")
    page.get_by_role("link", name=username).click()
    expect(page.get_by_text("0 of 40 books on loan")).to_be_visible()
    page.get_by_role("link", name=f"Every loan of {username}").click()
    expect(page.get_by_role("heading", name=f"Loans of {username}")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(f"Desk Copy {unique}"))).to_be_visible()


def test_genres_are_a_controlled_list(page, stack, unique, add_book):
    add_book(f"Dune {unique}", genre=f"Science Fiction {unique}")
    add_book(f"Solaris {unique}", genre=f"Sci-Fi {unique}")
    log_in(page, stack.librarian[0], stack.librarian[1])

    page.get_by_role("link", name="Add book").click()
    page.get_by_label("Title").fill(f"Foundation {unique}")
    page.get_by_label("Author").fill("Isaac Asimov")
    page.get_by_label("Genre").fill(f"science  fiction {unique}")
    page.get_by_role("button", name="Add book").click()
    expect(page.get_by_text(f"Filed under the existing genre “Science Fiction {unique}”.")).to_be_visible()

    page.get_by_role("link", name="Genres").click()

    def row_of(genre):  # by its own link: every other row's merge list may show this genre's name too
        return page.get_by_role("row").filter(has=page.get_by_role("link", name=genre, exact=True))

    row = row_of(f"Sci-Fi {unique}")
    row.get_by_label(f"New name for Sci-Fi {unique}").fill(f"SF {unique}")
    row.get_by_role("button", name="Rename").click()
    expect(page.get_by_text(f"Renamed to “SF {unique}” (1 book).")).to_be_visible()

    row = row_of(f"SF {unique}")
    row.get_by_label(f"Merge SF {unique} into").select_option(label=f"Science Fiction {unique}")
    row.get_by_role("button", name="Merge…").click()  # asks first, on a page of its own
    expect(page.get_by_role("heading", name=f"Merge “SF {unique}” into “Science Fiction {unique}”?")).to_be_visible()
    page.get_by_role("button", name="Merge", exact=True).click()
    expect(page.get_by_text(f"Merged: “Science Fiction {unique}” now has 3 books.")).to_be_visible()
    expect(row_of(f"SF {unique}")).to_have_count(0)
    screenshot(page, "genres")
