"""Reading records out of an uploaded file: CSV (a header row naming the columns, or none) and MARC 21 (binary,
MARC-8 or UTF-8, or MARCXML, read with pymarc). Each record comes out as plain fields (title, author, isbn, year,
genre, language, copies, description, subjects, cover_url, original_title, popularity) with the raw text as the
file had it, and notes on what the reader itself mended (`_notes`); imports.py checks and files them like any book
a librarian types in.
"""

import csv
import io
import itertools
import re
import unicodedata

import pymarc
import pymarc.exceptions
from stdnum import isbn as stdnum_isbn

from library_common.search_text import first_author, writes_surname_first

FIELDS = ("title", "author", "isbn", "isbn13", "year", "genre", "language", "copies", "description", "subjects",
          "cover_url", "original_title", "popularity")
REQUIRED = ("title", "author")

# Column names as spreadsheets and other systems write them (folded: lower case, words joined by "_").
COLUMN_NAMES = {
    "title": ("title", "book_title", "title_statement"),
    "author": ("author", "authors", "author_name", "author_s", "creator", "main_author", "by"),
    "isbn": ("isbn", "isbn10", "isbn_10", "isbn_number", "ean"),
    "isbn13": ("isbn13", "isbn_13"),
    "year": ("year", "published_year", "publication_year", "original_publication_year", "pub_year",
             "year_published", "date_published", "published", "publication_date"),
    "genre": ("genre", "genres", "category", "categories", "shelf"),
    "language": ("language", "language_code", "lang", "languages"),
    "copies": ("copies", "number_of_copies", "quantity", "qty", "items"),
    "description": ("description", "summary", "abstract", "blurb", "synopsis"),
    "subjects": ("subjects", "subject", "subject_headings", "keywords", "tags"),
    "cover_url": ("cover_url", "cover", "cover_image", "cover_image_url", "image_url"),
    "original_title": ("original_title", "uniform_title", "title_original"),
    # how many readers wanted the book: goodbooks' ratings_count, a library system's loans or checkouts
    "popularity": ("popularity", "ratings_count", "number_of_ratings", "loans", "checkouts", "circulation_count"),
}
RECOGNISED = {name: field for field, names in COLUMN_NAMES.items() for name in names}


def column_key(name):
    """'Original Publication Year' -> 'original_publication_year': how a header is compared."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", folded).strip("_")


def guess_mapping(columns):
    """{column: field} for the columns recognised by name (the first column wins a field named twice)."""
    mapping, taken = {}, set()
    for column in columns:
        field = RECOGNISED.get(column_key(column))
        if field and field not in taken:
            mapping[column], taken = field, taken | {field}
    return mapping


class UnreadableFile(ValueError):
    """The file is not the format it was said to be (the reason is for the librarian)."""


def decode_text(content):
    """A CSV's text: UTF-8 (a byte-order mark allowed), else Windows-1252, as spreadsheets save."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("The file is neither UTF-8 nor Windows-1252 text")


def _csv_reader(content):
    """A reader of the CSV file's rows, in the dialect sniffed from its start (comma, semicolon or tab)."""
    text = decode_text(content)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return csv.reader(io.StringIO(text), dialect), dialect


def csv_columns(content, header=True):
    """The columns of a CSV file and the reader's dialect: the names its header row gives them or, when its first
    row is a record (`header` false), "Column 1", "Column 2"... as many as the widest of its first rows."""
    reader, dialect = _csv_reader(content)
    try:
        first = next(reader, None)
        if not header:
            widest = max((len(row) for row in itertools.islice(_rows(reader), 100)), default=0)
            return [f"Column {number}" for number in range(1, max(widest, len(first or ())) + 1)], dialect
    except csv.Error as error:
        raise UnreadableFile(f"The file is not CSV: {error}") from error
    if not first or not any(name.strip() for name in first):
        raise UnreadableFile("The file has no header row naming its columns")
    return [name.strip() for name in first], dialect


def first_row(content):
    """The cells of the file's first row, as written."""
    reader, _dialect = _csv_reader(content)
    return [cell.strip() for cell in next(_rows(reader), [])]


def looks_like_a_record(cells):
    """Whether a first row read as column names is more likely a record: none of its cells is a column name we
    know, and one holds what names never are: an ISBN, a year, a number."""
    if any(column_key(cell) in RECOGNISED for cell in cells):
        return False
    return any(_is_a_value(cell) for cell in cells)


def _is_a_value(cell):
    compact = re.sub(r"[\s-]", "", cell)
    return bool(re.fullmatch(r"\d+(?:[.,]\d+)?", compact)) or stdnum_isbn.is_valid(compact)


def guess_mapping_by_content(rows, columns):
    """{column: field} for the columns of a file without a header that can be told by what they hold: every
    filled cell of the first rows an ISBN, or a publication year. The title and author cannot be told apart."""
    mapping = {}
    for index, column in enumerate(columns):
        cells = [row[index].strip() for row in rows if index < len(row) and row[index].strip()]
        if not cells:
            continue
        if "isbn" not in mapping.values() and all(stdnum_isbn.is_valid(cell) for cell in cells):
            mapping[column] = "isbn"
        elif "year" not in mapping.values() and all(re.fullmatch(r"1[4-9]\d\d|20\d\d", cell) for cell in cells):
            mapping[column] = "year"
    return mapping


def csv_rows(content, header=True):
    """The data rows of a CSV file, each a list of cells: after the header row, or from the first when `header`
    is false."""
    reader, _dialect = _csv_reader(content)
    rows = _rows(reader)
    if header:
        next(rows, None)
    return rows


def csv_records(content, mapping, header=True):
    """(record number, {field: text}) for each data row, through `mapping` {column: field}; the rows start after
    the header row, or at the first when `header` is false."""
    columns, _dialect = csv_columns(content, header)
    positions = [(index, mapping[name]) for index, name in enumerate(columns) if mapping.get(name)]
    author_at = next((index for index, field in positions if field == "author"), None)
    # A file either writes its authors "Surname, Given" or as lists of names: a first pass over the author column
    # says which, since one cell alone often cannot ("García Márquez, Gabriel").
    surname_first = author_at is not None and writes_surname_first(
        row[author_at] for row in csv_rows(content, header) if author_at < len(row))
    for number, row in enumerate(csv_rows(content, header), start=1):
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        fields = {field: row[index].strip() for index, field in positions if index < len(row) and row[index].strip()}
        if "author" in fields:
            written = fields["author"]
            fields["author"] = first_author(written, surname_first)  # "J.K. Rowling, Mary GrandPré": the author
            if fields["author"] != written:
                fields["_notes"] = [f"Author {fields['author']!r}: the first of {written!r}"]
        yield number, fields


def _rows(reader):
    try:
        yield from reader
    except csv.Error as error:  # a quote never closed, say: the rest of the file cannot be read
        raise UnreadableFile(f"The file stops being CSV at line {reader.line_num}: {error}") from error


# ---- MARC 21 -----------------------------------------------------------------------------------------------

_DATES = re.compile(r",?\s*(?:b\.|d\.|ca\.)?\s*\d{3,4}\??-(?:\d{3,4})?\??\.?$")  # ", 1892-1973."


def _clean(text):
    """A subfield without the ISBD punctuation that ends it (" /", " :", ";", ","), or its final full stop
    unless that ends an initial ("J. R. R.")."""
    text = re.sub(r"\s+", " ", text or "").strip().rstrip(" /:;,=").strip()
    if text.endswith(".") and not re.search(r"(^|[\s.])[A-Z]\.$", text):
        text = text[:-1].rstrip()
    return text


def _person(heading):
    """'Tolkien, J. R. R. (John Ronald Reuel), 1892-1973.' -> 'J. R. R. Tolkien': the name as people read it."""
    name = _clean(_DATES.sub("", _clean(re.sub(r"\([^)]*\)", "", heading))))
    surname, comma, given = name.partition(",")
    return f"{given.strip()} {surname.strip()}" if comma and given.strip() else name


def marc_records(content):
    """(record number, {field: text}) for each record of a MARC 21 file (binary, MARC-8 or UTF-8) or MARCXML."""
    if content.lstrip()[:1] == b"<":
        try:
            records = pymarc.parse_xml_to_array(io.BytesIO(content))
        except Exception as error:  # the XML parser's own errors: a file that is not MARCXML
            raise UnreadableFile(f"The file is not MARCXML: {error}") from error
    else:
        if not content[:5].isdigit():
            raise UnreadableFile("The file is not MARC 21: a record starts with its length in five digits")
        records = pymarc.MARCReader(content, to_unicode=True, force_utf8=False, utf8_handling="replace",
                                    permissive=True)
    try:
        for number, record in enumerate(records, start=1):
            if record is None:  # pymarc's permissive reader: a record it could not read
                yield number, {"_problem": "This record could not be read"}
                continue
            yield number, marc_fields(record)
    except pymarc.exceptions.PymarcException as error:
        raise UnreadableFile(f"The file stops being MARC 21: {error}") from error


def marc_fields(record):
    fields = {}
    title = record.get("245")
    if title:
        fields["title"] = ": ".join(_clean(part) for part in title.get_subfields("a", "b") if _clean(part))
    uniform = record.get("240")  # a translation's uniform title: the work's original title ("Étranger")
    if uniform and uniform.get_subfields("a"):
        fields["original_title"] = _clean(uniform.get_subfields("a")[0])
    for tag in ("100", "110", "700", "710"):
        author = record.get(tag)
        if author and author.get_subfields("a"):
            name = author.get_subfields("a")[0]
            fields["author"] = _person(name) if tag in ("100", "700") else _clean(name)
            break
    isbns = [subfield.split()[0] for field in record.get_fields("020") for subfield in field.get_subfields("a")
             if subfield.split()]
    if isbns:
        fields["isbn"] = isbns[0]
    for tag in ("264", "260"):
        for field in record.get_fields(tag):
            year = re.search(r"\d{4}", " ".join(field.get_subfields("c")))
            if year:
                fields["year"] = year.group(0)
                break
        if "year" in fields:
            break
    fixed = record.get("008")
    language = fixed.data[35:38].strip() if fixed is not None and len(fixed.data) >= 38 else ""
    if not language or language in ("|||", "und", "zxx", "mul"):
        language = next((code for field in record.get_fields("041") for code in field.get_subfields("a")), "")
    if language.strip():
        fields["language"] = language.strip()
    subjects = []
    for field in record.get_fields("650"):
        heading = " -- ".join(_clean(part) for part in field.get_subfields("a", "x", "z") if _clean(part))
        if heading and heading not in subjects:
            subjects.append(heading)
    if subjects:
        fields["subjects"] = subjects
        fields["genre"] = subjects[0].split(" -- ")[0]  # the first topic: a candidate the librarian can change
    summary = record.get("520")
    if summary and summary.get_subfields("a"):
        fields["description"] = re.sub(r"\s+", " ", summary.get_subfields("a")[0]).strip()
    cover = next((address for link in record.get_fields("856") for address in link.get_subfields("u")
                  if _is_an_image(link, address)), None)
    if cover:
        fields["cover_url"] = cover.strip()
    return fields


_IMAGE_FILE = re.compile(r"\.(jpe?g|png|gif|webp)$", re.IGNORECASE)


def _is_an_image(link, address):
    """An electronic location (856) that is an image: its $q (format) says so, or its address ends like one."""
    return any(kind.lower().startswith("image/") for kind in link.get_subfields("q")) \
        or _IMAGE_FILE.search(address.split("?", 1)[0].strip()) is not None
