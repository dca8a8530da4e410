"""The search that forgives, in a browser: typos corrected, accents ignored, facets added and removed
(with and without JavaScript), titles and authors suggested as you type, covers that never break (a book
without one shows its initials)."""

import re

import pytest
from playwright.sync_api import expect
from stdnum import ean

from .conftest import screenshot


@pytest.fixture
def word(unique):
    """A made-up word of letters only, so its typos are corrected to it and to nothing else in the shared catalogue."""
    return "".join("bcdfghjklmnpqrstvwxz"[int(digit, 16) % 20] + "aeiou"[int(digit, 16) % 5] for digit in unique)


@pytest.fixture
def shelf(add_book, word):
    return {
        "voyage": add_book(f"The {word.title()} Voyage", author="Émilie Brontë", genre=f"Sea {word}",
                           published_year=1925, language="fr"),
        "atlas": add_book(f"Atlas of {word.title()}", author="Gabriel García Márquez", genre=f"Maps {word}",
                          published_year=1987),
        "tales": add_book(f"{word.title()} Tales", author="Gabriel García Márquez", genre=f"Maps {word}",
                          published_year=1982),
    }


def typo_of(word):
    return word[:3] + word[4:]  # one letter left out


def test_a_typo_shows_the_corrected_results_at_once(page, shelf, word):
    page.goto("/")
    page.get_by_label("Search").fill(typo_of(word))

    expect(page.get_by_text(f"No books match “{typo_of(word)}”. Showing results for {word}.")).to_be_visible()
    expect(page.get_by_role("link", name=f"The {word.title()} Voyage")).to_be_visible()
    expect(page.get_by_text("3 books")).to_be_visible()
    screenshot(page, "search-typo")


def test_a_search_with_few_results_offers_did_you_mean(page, add_book, shelf, word):
    add_book(f"A Note on {typo_of(word).title()}", author="Sam Spell", genre=f"Maps {word}")
    for volume in range(7):  # the word ten times as common as its typo: then it is offered
        add_book(f"{word.title()} Almanac {volume}", genre=f"Maps {word}")

    page.goto(f"/?q={typo_of(word)}")
    expect(page.get_by_role("link", name=f"A Note on {typo_of(word).title()}")).to_be_visible()
    page.get_by_role("link", name=word, exact=True).click()

    expect(page).to_have_url(re.compile(rf"q={word}"))
    expect(page.get_by_text("10 books")).to_be_visible()


@pytest.mark.parametrize("query, titles", [
    ("bronte {word}", ["The {Word} Voyage"]),
    ("garcia marquez {word}", ["Atlas of {Word}", "{Word} Tales"]),
    ("GARCÍA {word} atlas", ["Atlas of {Word}"])])
def test_accents_never_matter(page, shelf, word, query, titles):
    page.goto("/")
    page.get_by_label("Search").fill(query.format(word=word))

    expect(page.locator(".book-card h2")).to_have_text([title.format(Word=word.title()) for title in titles])


def facets_round_trip(page, word):
    """Search, add the genre and decade facets, remove one by its chip, then the other by its facet link."""
    page.goto(f"/?q={word}")
    expect(page.get_by_text("3 books")).to_be_visible()
    facets = page.get_by_role("complementary", name="Refine the results")
    facets.get_by_role("link", name=re.compile(f"^Maps {word}")).click()
    expect(page.get_by_text("2 books")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"genre=Maps(\+|%20){word}"))
    facets.get_by_role("link", name=re.compile("^1980s")).click()
    expect(page.get_by_text("2 books")).to_be_visible()
    expect(page).to_have_url(re.compile("decade=1980"))
    facets.get_by_role("link", name=re.compile("^French")).wait_for(state="detached")  # no French book left

    page.get_by_role("link", name=re.compile(f"Remove filter Genre: Maps {word}")).click()
    expect(page).not_to_have_url(re.compile("genre="))
    expect(page.get_by_text("2 books")).to_be_visible()
    facets.get_by_role("link", name=re.compile("^1980s")).click()  # in use: its link removes it
    expect(page.get_by_text("3 books")).to_be_visible()
    expect(page).not_to_have_url(re.compile("decade="))


def test_facets_add_and_remove_filters(page, shelf, word):
    facets_round_trip(page, word)
    page.goto(f"/?q={word}&genre=Maps+{word}")
    screenshot(page, "search-facets")


def test_facets_without_javascript(browser, base_url, shelf, word):
    context = browser.new_context(java_script_enabled=False, base_url=base_url)
    try:
        facets_round_trip(context.new_page(), word)
    finally:
        context.close()


def test_a_new_search_keeps_the_facets_chosen(page, shelf, word):
    page.goto(f"/?q={word}&genre=Maps+{word}")
    page.get_by_label("Search").fill(f"{word} tales")

    expect(page.get_by_text("1 book", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(rf"genre=Maps(\+|%20){word}"))
    expect(page).to_have_url(re.compile(rf"q={word}(\+|%20)tales"))


def test_the_search_box_suggests_titles_and_authors(page, shelf, word):
    page.goto("/")
    page.get_by_label("Search").press_sequentially(word[:5], delay=30)

    options = page.locator("#search-suggestions option")
    expect(options.first).to_be_attached()
    expect(page.locator(f'#search-suggestions option[value="Atlas of {word.title()}"]')).to_be_attached()
    expect(page).not_to_have_url(re.compile("suggestions"))  # the address follows the results only


def test_a_book_without_a_cover_shows_its_placeholder_and_no_image(page, add_book, unique, word):
    isbn = "978" + str(int(unique, 16) % 10**9).zfill(9)
    isbn += ean.calc_check_digit(isbn)
    book = add_book(f"Atlas of {word.title()}", isbn=isbn)  # an ISBN, but no cover_url: nobody is asked for one
    page.goto(f"/books/{book['id']}")

    cover = page.locator(".cover")
    expect(cover).to_contain_text("AO")  # the title's initials
    expect(cover.locator("img")).to_have_count(0)  # no image, so never a broken one


@pytest.mark.parametrize("javascript", [True, False])
def test_on_a_phone_the_filters_open_from_a_button_above_the_results(browser, base_url, shelf, word, javascript):
    context = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844},
                                  java_script_enabled=javascript)
    try:
        page = context.new_page()
        page.goto(f"/?q={word}")
        facets = page.get_by_role("complementary", name="Refine the results")
        expect(page.get_by_text("3 books")).to_be_visible()
        expect(facets).to_be_hidden()

        page.get_by_role("link", name="Filters").click()
        expect(facets).to_be_visible()
        assert facets.bounding_box()["y"] < page.locator(".book-card").first.bounding_box()["y"]  # above them
        if javascript:
            screenshot(page, "search-filters-phone")
        facets.get_by_role("link", name=re.compile(f"^Maps {word}")).click()

        expect(page.get_by_text("2 books")).to_be_visible()
        expect(page.get_by_role("link", name="Filters (1 in use)")).to_be_visible()
    finally:
        context.close()
