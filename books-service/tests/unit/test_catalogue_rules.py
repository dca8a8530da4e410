"""The catalogue's rules that need no database."""

import pytest

from books_service.catalogue import count_availability, normalise_isbn, prefix_tsquery
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
    ("hitch", "hitch:*"),
    ("Hitch  ADAMS", "hitch:* & adams:*"),
    ("978-0-330-25864-7", "9780330258647:*"),
    ("l'étranger", "l:* & étranger:*"),
    ("!!! ???", None),
])
def test_searches_become_prefix_queries(text, expected):
    assert prefix_tsquery(text) == expected


def test_availability_is_copies_minus_those_out_and_unknown_when_those_are():
    books = [Book(id=1, copies=2), Book(id=2, copies=1), Book(id=3, copies=1)]

    count_availability(books, Counts(out={1: 1, 2: 1}, holds_waiting={2: 3}))
    assert [(book.available_copies, book.available, book.holds_waiting) for book in books] == [
        (1, True, 0), (0, False, 3), (1, True, 0)]

    count_availability(books, None)
    assert [(book.available_copies, book.available, book.holds_waiting) for book in books] == [(None, None, None)] * 3
