"""The catalogue's rules that need no database."""

import pytest

from books_service.catalogue import count_availability, normalise_isbn, normalise_language, query_words
from books_service.models import Book
from books_service.neighbours import Counts


@pytest.mark.parametrize("raw", ["0-330-25864-8", "0330258648", "978-0-330-25864-7", "9780330258647"])
def test_isbns_are_stored_as_isbn_13(raw):
    assert normalise_isbn(raw) == "9780330258647"


@pytest.mark.parametrize("raw", ["0330258649", "978033025864", "hello", ""])
def test_invalid_isbns_are_refused(raw):
    with pytest.raises(ValueError, match="Not a valid ISBN"):
        normalise_isbn(raw)


@pytest.mark.parametrize("text, expected", [
    ("hitch", ["hitch"]),
    ("Hitch  ADAMS", ["hitch", "adams"]),
    ("García Márquez", ["garcia", "marquez"]),
    ("978-0-330-25864-7", ["9780330258647"]),
    ("0-330-25864-8", ["9780330258647"]),  # ISBN-10: searched as the ISBN-13 the catalogue stores
    ("330258648", ["9780330258647"]),  # an ISBN-10 that lost its leading zero (spreadsheets do that)
    ("033025864", ["033025864"]),  # not an ISBN: a word like any other
    ("l'étranger", ["l", "etranger"]),
    ("!!! ???", []),
])
def test_searches_become_folded_words(text, expected):
    assert query_words(text) == expected


@pytest.mark.parametrize("raw, code", [("en", "en"), ("eng", "en"), ("en-US", "en"), ("FRE", "fr"), ("fra", "fr"),
                                       ("ger", "de"), ("haw", "haw")])
def test_languages_are_stored_as_iso_639_1_where_there_is_one(raw, code):
    assert normalise_language(raw) == code


@pytest.mark.parametrize("raw", ["zz", "english", "e", ""])
def test_unknown_languages_are_refused(raw):
    with pytest.raises(ValueError, match="ISO 639"):
        normalise_language(raw)


def test_availability_is_copies_minus_those_out_and_unknown_when_those_are():
    books = [Book(id=1, copies=2), Book(id=2, copies=1), Book(id=3, copies=1)]

    count_availability(books, Counts(out={1: 1, 2: 1}, holds_waiting={2: 3}))
    assert [(book.available_copies, book.available, book.holds_waiting) for book in books] == [
        (1, True, 0), (0, False, 3), (1, True, 0)]

    count_availability(books, None)
    assert [(book.available_copies, book.available, book.holds_waiting) for book in books] == [(None, None, None)] * 3



def test_long_searches_cost_a_bounded_number_of_corrections():
    from books_service.spelling import Vocabulary

    vocabulary = Vocabulary(refresh_seconds=60)
    words = {f"word{letter}{other}": 2 for letter in "abcdefghij" for other in "abcdefghij"}
    vocabulary._current = lambda: (sorted(words), words)  # the catalogue's words, without a database

    typed = [f"wrd{letter}x" for letter in "abcdefghijklmnop"]  # 16 unknown words, each with many neighbours
    found = vocabulary.corrections(typed)

    assert 0 < len(found) <= 12
    assert all(search[8:] == typed[8:] for search in found)  # words after the eighth are kept as typed
