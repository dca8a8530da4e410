"""The import's rules as plain functions: what a record's ISBN, year and copies really are, how text is put on
one line, how columns are recognised, how MARC names read, and that no file, however broken, raises anything
but UnreadableFile."""

import random

import pytest

from books_service import import_formats
from books_service.imports import guess_format, on_one_line, plausible_year, recover_isbn, whole_number


@pytest.mark.parametrize("isbn10, isbn13, expected", [
    ("439023483", "9.78043902348e+12", "9780439023481"),  # leading zero lost: the check digit agrees
    ("0439023483", None, "9780439023481"),
    ("0-439-02348-3", None, "9780439023481"),
    (None, "978-0-439-02348-1", "9780439023481"),
    ("043902348X", "9780439023481", "9780439023481"),  # a wrong ISBN-10 beside a good ISBN-13: the 13
    (None, "9.78043902348e+12", None),  # digits lost: never guessed
    ("12345", None, None),
    ("", "", None),
])
def test_the_isbn_a_record_really_has(isbn10, isbn13, expected):
    assert recover_isbn(isbn10, isbn13, []) == expected


def test_an_isbn_that_cannot_be_read_is_noted():
    notes = []
    recover_isbn("12345", None, notes)
    assert notes == ["ISBN '12345' is not a valid ISBN: left out"]


@pytest.mark.parametrize("text, expected", [("2008.0", 2008), ("c1999.", 1999), ("[1971?]", 1971), ("1450", 1450),
                                            ("-720.0", None), ("1200", None), ("9999", None), ("soon", None),
                                            ("", None)])
def test_the_publication_year(text, expected):
    assert plausible_year(text, []) == expected


@pytest.mark.parametrize("text, expected", [("3", 3), ("3.0", 3), (" 2 ", 2), ("-1", -1), ("1e9", 10**9),
                                            ("inf", None), ("-Infinity", None), ("1e400", None), ("nan", None),
                                            ("2.5", None), ("three", None)])
def test_a_count_is_a_whole_number_or_nothing(text, expected):
    assert whole_number(text) == expected


def test_text_is_put_on_one_line_with_a_note_only_when_it_was_not():
    notes = []

    assert on_one_line("Title", "Dune\r\nBcc: x", notes) == "Dune Bcc: x"
    assert on_one_line("Title", "Dune  Messiah", notes) == "Dune  Messiah"
    assert notes == ["Title 'Dune\\r\\nBcc: x' put on one line"]


def test_columns_are_recognised_by_their_usual_names():
    columns = ["Book Title", "Authors", "ISBN13", "Original Publication Year", "average_rating", "Title"]

    assert import_formats.guess_mapping(columns) == {"Book Title": "title", "Authors": "author", "ISBN13": "isbn13",
                                                     "Original Publication Year": "year"}


@pytest.mark.parametrize("filename, start, expected", [("a.mrc", b"x", "marc"), ("a.xml", b"x", "marc"),
                                                       ("a.CSV", b"00123", "csv"), ("upload", b"00123nam", "marc"),
                                                       ("upload", b"  <?xml", "marc"), ("upload", b"title", "csv")])
def test_the_format_from_the_name_or_the_start(filename, start, expected):
    assert guess_format(filename, start) == expected


@pytest.mark.parametrize("heading, name", [
    ("Tolkien, J. R. R. (John Ronald Reuel), 1892-1973.", "J. R. R. Tolkien"),
    ("García Márquez, Gabriel, 1927-2014.", "Gabriel García Márquez"),
    ("Homer.", "Homer"),
    ("Austen, Jane,", "Jane Austen"),
])
def test_marc_names_as_people_read_them(heading, name):
    assert import_formats._person(heading) == name


def garbage(seed):
    rng = random.Random(seed)
    starts = [b"", b"00000", b"title,author\n", b"<record", b"\xef\xbb\xbf", b"99999nam"]
    return rng.choice(starts) + bytes(rng.randrange(256) for _ in range(rng.randrange(2000)))


@pytest.mark.parametrize("seed", range(60))
def test_no_file_raises_anything_but_unreadable_file(seed):
    content = garbage(seed)
    try:
        if content[:5].isdigit() or content.lstrip()[:1] == b"<":
            list(import_formats.marc_records(content))
        else:
            columns, _dialect = import_formats.csv_columns(content)
            list(import_formats.csv_records(content, {columns[0]: "title"}))
    except import_formats.UnreadableFile:
        pass
