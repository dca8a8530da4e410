"""Bulk import in the browser, as a librarian: upload a CSV, watch it staged (a progress bar moves while the
worker reads it), see why a record cannot be imported, add the rest, find them in the catalogue, revert the
import; and a MARC file."""

import re

import pymarc
from playwright.sync_api import expect

from .conftest import log_in, screenshot

RECORDS = 5000


def a_spreadsheet(unique):
    lines = ["Title,Authors,ISBN,Year,Language"]
    lines += [f"Imported Volume {unique} {number},Ina Porter,,{1950 + number % 70},eng" for number in range(RECORDS)]
    lines.append(f"Nameless {unique},,,2001,eng")  # no author: cannot be imported
    return ("\n".join(lines) + "\n").encode()


def test_a_csv_staged_added_found_and_reverted(page, stack, unique, tmp_path):
    spreadsheet = tmp_path / f"volumes-{unique}.csv"
    spreadsheet.write_bytes(a_spreadsheet(unique))
    log_in(page, *stack.librarian)

    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("File of records").set_input_files(str(spreadsheet))
    page.get_by_label("Copies of each new book").fill("2")
    page.get_by_role("button", name="Upload and look at it").click()
    expect(page.get_by_role("heading", name=f"Import of volumes-{unique}.csv")).to_be_visible()
    if page.locator("progress").count():
        screenshot(page, "import-progress")  # the worker may be done before the page shows

    expect(page.get_by_text("Ready to add")).to_be_visible(timeout=60_000)
    expect(page.get_by_text(f"{RECORDS:,} new · 0 in the catalogue · 1 cannot be imported")).to_be_visible()
    page.get_by_role("link", name="Cannot be imported (1)").click()
    expect(page.get_by_role("row", name=re.compile(f"Nameless {unique}"))).to_contain_text("Author: missing")
    screenshot(page, "import-staged")

    page.get_by_role("button", name="Add to the catalogue").click()
    expect(page.get_by_text("Added", exact=True)).to_be_visible(timeout=60_000)
    expect(page.get_by_text(f"{RECORDS:,} added")).to_be_visible()
    page.goto(f"/?q=imported+volume+{unique}+4999")
    expect(page.get_by_role("link", name=f"Imported Volume {unique} 4999")).to_be_visible()
    expect(page.get_by_text("2 of 2 available")).to_be_visible()

    page.go_back()
    page.goto("/manage/imports")
    page.get_by_role("link", name=f"volumes-{unique}.csv").click()
    page.get_by_role("link", name="Revert this import…").click()
    expect(page.get_by_text(f"This removes the {RECORDS:,} books it added")).to_be_visible()
    page.get_by_role("button", name="Revert the import").click()
    expect(page.get_by_text("Reverted", exact=True)).to_be_visible(timeout=60_000)
    expect(page.get_by_text(f"{RECORDS:,} removed")).to_be_visible()
    page.goto(f"/?q=imported+volume+{unique}")
    expect(page.get_by_text("No books match")).to_be_visible()


def test_a_marc_file_through_the_page(page, stack, unique, tmp_path):
    record = pymarc.Record(force_utf8=True)
    record.add_field(pymarc.Field(tag="100", indicators=["1", " "],
                                  subfields=[pymarc.Subfield("a", "Lagerlöf, Selma, 1858-1940.")]))
    record.add_field(pymarc.Field(tag="245", indicators=["1", "0"], subfields=[
        pymarc.Subfield("a", f"Nils Holgerssons underbara resa {unique} /")]))
    record.add_field(pymarc.Field(tag="650", indicators=[" ", "0"], subfields=[pymarc.Subfield("a", "Geese.")]))
    marc = tmp_path / f"nils-{unique}.mrc"
    marc.write_bytes(record.as_marc())
    log_in(page, *stack.librarian)

    page.goto("/manage/imports")
    page.get_by_label("File of records").set_input_files(str(marc))
    page.get_by_role("button", name="Upload and look at it").click()
    expect(page.get_by_text("Ready to add")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("row", name=re.compile(f"Nils Holgerssons underbara resa {unique}"))).to_contain_text(
        "Selma Lagerlöf")
    page.get_by_role("button", name="Add to the catalogue").click()
    expect(page.get_by_text("Added", exact=True)).to_be_visible(timeout=60_000)

    page.goto(f"/?q=nils+holgersson+{unique}")
    page.get_by_role("link", name=f"Nils Holgerssons underbara resa {unique}").click()
    expect(page.get_by_role("link", name="Geese")).to_be_visible()  # its genre, from the subject heading


def test_a_csv_without_a_header_read_by_place_then_discarded(page, stack, unique, tmp_path):
    headerless = tmp_path / f"no-header-{unique}.csv"
    headerless.write_text(f"Headless Volume {unique},Ina Porter,1971\nAnother Volume {unique},Ina Porter,1972\n")
    log_in(page, *stack.librarian)

    page.goto("/manage/imports")
    page.get_by_label("File of records").set_input_files(str(headerless))
    page.get_by_role("button", name="Upload and look at it").click()
    expect(page.get_by_role("heading", name="Is the first row a record?")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Columns to choose")).to_be_visible()
    page.get_by_role("button", name="Read the first row as a record").click()

    expect(page.get_by_text(f"Headless Volume {unique}", exact=True)).to_be_visible(timeout=60_000)  # its example
    page.get_by_label("Column 1").select_option("title")
    page.get_by_label("Column 2").select_option("author")
    page.get_by_role("button", name="Read the file again with these columns").click()
    expect(page.get_by_text("Ready to add")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("2 new · 0 in the catalogue · 0 cannot be imported")).to_be_visible()

    page.get_by_role("link", name="Discard this import…").click()
    page.get_by_role("button", name="Discard the import").click()
    expect(page.get_by_text(f"The import of no-header-{unique}.csv was discarded")).to_be_visible()
    expect(page.get_by_role("link", name=f"no-header-{unique}.csv")).to_have_count(0)
