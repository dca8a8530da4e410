"""axe-core finds no serious or critical problem on any page."""

import time

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe

from .conftest import log_in, screenshot

AXE = Axe()


def serious_violations(page):
    results = AXE.run(page)
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")]


@pytest.fixture
def sample_book(add_book, unique):
    return add_book(f"Accessible Book {unique}", isbn=None, description="A book for checking the pages.")


VISITOR_PAGES = {"catalogue": "/", "login": "/login", "sign-up": "/signup", "not-found": "/no-such-page",
                 "search-with-facets": "/?q=accessible&genre=Testing",
                 "forgot-password": "/forgot-password", "reset-password": "/reset-password?token=abc",
                 "reset-password-without-token": "/reset-password", "verify-email": "/account/verify?token=abc"}
LIBRARIAN_PAGES = {"add-book": "/manage/books/new", "loans-desk-page": "/manage/loans", "users-page": "/manage/users",
                   "genres-page": "/manage/genres", "register-patron": "/manage/patrons/new",
                   "item-types-page": "/manage/item-types", "patron-categories": "/manage/patron-categories",
                   "policy-page": "/manage/policy", "activity-page": "/manage/activity"}


def test_visitor_pages(page, sample_book):
    for name, path in {**VISITOR_PAGES, "book-page": f"/books/{sample_book['id']}"}.items():
        page.goto(path)
        assert serious_violations(page) == [], name
        if name == "catalogue":
            screenshot(page, "catalogue")


def test_patron_pages(page, patron, sample_book):
    log_in(page, patron)
    page.goto(f"/books/{sample_book['id']}")
    page.get_by_role("button", name="Borrow").click()
    page.get_by_text("Borrowed!").wait_for()
    assert serious_violations(page) == []
    page.goto("/my/borrows")
    assert serious_violations(page) == []
    page.goto("/account")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Change my password").click()  # empty: every field explains itself
    page.get_by_text("This field is required.").first.wait_for()
    assert serious_violations(page) == []


def a_headerless_import(stack, unique):
    """An import whose first row looks like a record, staged: the page offers to read it as one."""
    librarian = stack.login(*stack.librarian)
    created = requests.post(f"{stack.books}/imports", headers=librarian, timeout=10, files={
        "file": (f"a11y-{unique}.csv", f"Accessible Import {unique},Ina Porter,1971\n".encode(), "text/csv")})
    created.raise_for_status()
    deadline = time.monotonic() + 60
    while requests.get(f"{stack.books}/imports/{created.json()['id']}", headers=librarian,
                       timeout=10).json()["status"] != "staged":
        assert time.monotonic() < deadline, "the import was never staged"
        time.sleep(0.3)
    return created.json()["id"]


def test_librarian_pages(page, stack, sample_book, patron, unique):
    log_in(page, *stack.librarian)
    barcode = requests.get(f"{stack.books}/books/{sample_book['id']}/items", timeout=10).json()[0]["barcode"]
    into = requests.post(f"{stack.books}/genres", headers=stack.login(*stack.librarian), timeout=10,
                         json={"name": f"Accessible Genre {unique}"}).json()
    genre = next(listed for listed in requests.get(f"{stack.books}/genres", timeout=10).json()
                 if listed["genre"] == sample_book["genre"])
    import_id = a_headerless_import(stack, unique)
    for name, path in {**LIBRARIAN_PAGES, "edit-book": f"/manage/books/{sample_book['id']}/edit",
                       "book-page-with-copies": f"/books/{sample_book['id']}",
                       "copy-page": f"/manage/items/{barcode}/edit",
                       "delete-book": f"/manage/books/{sample_book['id']}/delete",
                       "patron-page": f"/manage/users/{patron}",
                       "activity-filtered": f"/manage/activity?object_type=book&object_id={sample_book['id']}"
                                            "&since=2026-01-01&until=2026-01-02x",  # a date that makes no sense
                       "deactivate-patron": f"/manage/users/{patron}/deactivate",
                       "library-card": f"/manage/users/{patron}/card",
                       "replace-card": f"/manage/users/{patron}/card/replacement",
                       "merge-genre": f"/manage/genres/{genre['id']}/merge?into={into['id']}",
                       "import-first-row": f"/manage/imports/{import_id}",
                       "discard-import": f"/manage/imports/{import_id}/discard"}.items():
        page.goto(path)
        assert serious_violations(page) == [], name
