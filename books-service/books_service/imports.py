"""Bulk import, staged the way Koha stages records: nothing in the catalogue changes until a librarian has
seen what a file holds and commits it, and a committed import can be reverted.

- **Staging** reads the file (import_formats), checks each record with the same rules as a book typed in
  (BookInputSchema), recovers what spreadsheets break (ISBN-10s that lost their leading zeros, years as
  "2008.0") and matches each record against the catalogue by ISBN: `new`, `match` (a book with its ISBN is
  there; it is skipped, or given the record's copies) or `invalid`, with the reasons.
- **Commit** files the new books (their genres into the controlled list, their search columns) and their
  items, in batches.
- **Revert** removes the books the import created and the copies it added, except those out on loan or
  waited for (asked of borrow-service under its locks, after taking them out of circulation, as deleting one
  book does).

The work runs in books-service's worker (jobs.py), a batch per transaction, moving `done` as it goes: the
page shows a progress bar, and a worker that dies leaves an import that the next one takes up where it
stopped (each batch marks its records in the transaction that files them).
"""

import itertools
import logging
import re
from contextlib import contextmanager
from datetime import date

import marshmallow as ma
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from stdnum import isbn as stdnum_isbn

from library_common import audit
from library_common.errors import BadRequest, Conflict, DependencyUnavailable, found
from library_common.search_text import book_search_columns
from library_common.text import breaks_the_line, one_line
from library_common.transactions import transaction

from . import import_formats, inventory
from .catalogue import normalise_isbn, normalise_language
from .covers import COVER_URL
from .genres import genre_for_filing, genre_key
from .models import Book, Genre, Import, ImportRecord, Item, db

log = logging.getLogger(__name__)

FORMATS = ("csv", "marc")
ON_MATCH = ("skip", "add_copies")
RUNNING = ("staging", "committing", "reverting")
BATCH = 500
REVERT_BATCH = 100  # books asked of borrow-service at once
DEFAULT_GENRE = "General"
_IMPORT_LOCKS = 0x1A7  # advisory lock space: one worker at a time on an import


class ImportOptions(ma.Schema):
    on_match = ma.fields.String(load_default="skip", validate=ma.validate.OneOf(ON_MATCH))
    # A CSV's first row names its columns (true), or is a record like the others (false: columns by position)
    header = ma.fields.Boolean(load_default=True)
    copies = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100))
    genre = ma.fields.String(load_default=DEFAULT_GENRE, validate=ma.validate.Length(min=1, max=100))


def guess_format(filename, content):
    """'marc' for .mrc/.marc/.xml files or content that starts like MARC (five digits) or XML; else 'csv'."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension in ("mrc", "marc", "xml", "marcxml"):
        return "marc"
    if extension in ("csv", "tsv", "txt"):
        return "csv"
    return "marc" if content[:5].isdigit() or content.lstrip()[:1] == b"<" else "csv"


def create(filename, content, file_format, options, librarian):
    """A new import of `content`, staging (the worker reads it). The file is checked enough to refuse at once
    what is not what it says: an empty file, a CSV whose first row is blank, a MARC file that does not start like
    one."""
    if not content.removeprefix(b"\xef\xbb\xbf").strip():  # nothing but blanks, or a UTF-8 byte-order mark
        empty = "The file is empty: there is nothing to add"
        raise BadRequest(empty, errors={"file": empty})
    file_format = file_format or guess_format(filename, content)
    try:
        if file_format == "csv":
            import_formats.csv_columns(content, options.get("header", True))
        else:
            next(iter(import_formats.marc_records(content[:100000] if content.lstrip()[:1] != b"<" else content)),
                 None)
    except import_formats.UnreadableFile as error:
        raise BadRequest(str(error), errors={"file": str(error)}) from error
    batch = Import(filename=filename[:255] or "upload", format=file_format, content=content, options=options,
                   created_by=librarian, status="staging")
    with transaction():
        db.session.add(batch)
        db.session.flush()
        audit_import("import.created", batch, audit.created(batch, ("filename", "format", "options")))
    return batch


def audit_import(action, batch, changes):
    audit.record(action, batch.id, summary=batch.filename, changes=changes)


def get(import_id):
    return found(db.session.get(Import, import_id), f"No import with id {import_id}")


def list_imports(offset, limit):
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Import))
    return db.session.scalars(sa.select(Import).order_by(Import.id.desc()).offset(offset).limit(limit)).all(), total


def records(import_id, outcome, offset, limit):
    get(import_id)
    statement = sa.select(ImportRecord).where(ImportRecord.import_id == import_id)
    if outcome:
        statement = statement.where(ImportRecord.outcome == outcome)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    return db.session.scalars(statement.order_by(ImportRecord.number).offset(offset).limit(limit)).all(), total


def _move_to(import_id, status, allowed, action, **changes):
    """Set the import's status (and `changes`) if it is in one of `allowed`; 409 otherwise. The librarian's asking
    is the audit trail's `action` (the worker carries it out)."""
    with transaction():
        batch = found(db.session.get(Import, import_id, with_for_update=True), f"No import with id {import_id}")
        if batch.status not in allowed:
            raise Conflict(f"This import is {batch.status}; it can be {_verb(status)} only when it is "
                           f"{' or '.join(allowed)}")
        before = audit.snapshot(batch, ("status", *changes))
        batch.status, batch.done, batch.problem = status, 0, None
        for name, value in changes.items():
            setattr(batch, name, value)
        audit_import(action, batch, audit.changes(before, batch))
    return batch


def _verb(status):
    return {"staging": "staged again", "committing": "committed", "reverting": "reverted"}[status]


def restage(import_id, mapping, options):
    """Stage again with another column mapping (CSV), the first row read as a record or as column names (`header`,
    CSV) or other options, before committing."""
    batch = get(import_id)
    if ("header" in options or mapping is not None) and batch.format != "csv":
        raise BadRequest("Only a CSV file has columns", errors={"mapping" if mapping is not None else "header":
                                                                "Only for CSV files"})
    header_changes = "header" in options and options["header"] != batch.options.get("header", True)
    if mapping is not None:
        columns = batch.columns or []
        if header_changes and batch.content is not None:  # the mapping names the columns the new choice makes
            try:
                columns, _dialect = import_formats.csv_columns(batch.content, options["header"])
            except import_formats.UnreadableFile as error:  # read another way, the file may not be CSV at all
                raise BadRequest(str(error), errors={"header": str(error)}) from error
        unknown = set(mapping) - set(columns)
        if unknown:
            raise BadRequest("The file has no such column", errors={"mapping": f"No column {sorted(unknown)[0]!r}"})
        wrong = {field for field in mapping.values() if field and field not in import_formats.FIELDS}
        if wrong:
            raise BadRequest("Not a field of a book", errors={"mapping": f"No field {sorted(wrong)[0]!r}"})
    new_options = {**batch.options, **options}
    if mapping is not None:
        new_options["mapping"] = mapping
    elif header_changes:  # the old mapping names columns that are no more: staging guesses again
        new_options.pop("mapping", None)
    return _move_to(import_id, "staging", ("staged", "failed"), "import.restaged", options=new_options)


def start_commit(import_id, on_match=None):
    batch = get(import_id)
    options = batch.options | ({"on_match": on_match} if on_match else {})
    if not batch.counts.get("new") and not (options.get("on_match") == "add_copies" and batch.counts.get("match")):
        raise Conflict("Nothing in this import would change the catalogue")
    return _move_to(import_id, "committing", ("staged",), "import.committed", options=options)


def start_revert(import_id):
    return _move_to(import_id, "reverting", ("committed",), "import.reverted")


# An import is discarded (forgotten, with its file and staged records) only before anything of it reached the
# catalogue: once committed it is reverted instead, and stays as the record of what it did and undid.
DISCARDABLE = ("staged", "failed")


def discard(import_id):
    """Forget an import that was never committed. 409 while the worker reads it (staging: discard it once it
    is staged) and once it was committed."""
    with transaction():
        batch = found(db.session.get(Import, import_id, with_for_update=True), f"No import with id {import_id}")
        if batch.status not in DISCARDABLE:
            advice = {"staging": "wait until it is staged", "committed": "revert it instead"}.get(
                batch.status, "only an import that was never committed can be")
            raise Conflict(f"This import is {batch.status}: it cannot be discarded; {advice}")
        audit_import("import.discarded", batch, audit.deleted(batch, ("filename", "status", "counts")))
        db.session.delete(batch)  # its records go with it (ON DELETE CASCADE)


# ---- the worker's part ------------------------------------------------------------------------------------


def work(circulation, service_tokens):
    """Do the work of every running import (staging, committing, reverting) that no other worker is on: new
    ones, and ones whose worker died (its lock went with its connection). Returns the ids worked on."""
    waiting = db.session.scalars(sa.select(Import.id).where(Import.status.in_(RUNNING)).order_by(Import.id)).all()
    db.session.rollback()
    worked = []
    for import_id in waiting:
        with _worked_on_alone(import_id) as mine:
            if mine:
                _work_on(import_id, circulation, service_tokens)
                worked.append(import_id)
    return worked


@contextmanager
def _worked_on_alone(import_id):
    """True while this process holds the import's advisory lock (on a connection of its own: the lock is
    released when the work ends or the process dies)."""
    with db.engine.connect() as connection:
        mine = connection.scalar(sa.text("SELECT pg_try_advisory_lock(:space, :id)"),
                                 {"space": _IMPORT_LOCKS, "id": import_id})
        connection.commit()
        try:
            yield mine
        finally:
            if mine:
                connection.execute(sa.text("SELECT pg_advisory_unlock(:space, :id)"),
                                   {"space": _IMPORT_LOCKS, "id": import_id})
                connection.commit()


def _work_on(import_id, circulation, service_tokens):
    status = db.session.scalar(sa.select(Import.status).where(Import.id == import_id))
    db.session.rollback()
    try:
        if status == "staging":
            stage(import_id)
        elif status == "committing":
            commit(import_id)
        elif status == "reverting":
            revert(import_id, circulation, service_tokens)
    except DependencyUnavailable as error:  # borrow-service away: the revert goes on next time
        db.session.rollback()
        log.warning("import %s waits: %s", import_id, error.message)
        _progress(import_id, problem=f"Waiting: {error.message}. It goes on by itself.")
    except Exception as error:  # a bug or a broken record must not leave it "running" and retried for ever
        db.session.rollback()
        log.exception("import %s failed", import_id)
        with transaction():
            db.session.execute(sa.update(Import).where(Import.id == import_id).values(
                status="failed", problem=f"{type(error).__name__}: {error}"[:2000], updated_at=sa.func.now()))


def _progress(import_id, **values):
    with transaction():
        db.session.execute(sa.update(Import).where(Import.id == import_id).values(updated_at=sa.func.now(),
                                                                                  **values))


# ---- staging ----------------------------------------------------------------------------------------------


# What staging tells the librarian when the file gives it nothing to stage (Import.problem).
NOTHING_TO_ADD = "The file holds no records: there is nothing to add"
FIRST_ROW_IS_A_RECORD = ("The first row looks like a record, not column names: read it as a record (the columns "
                         "are then taken by their place), or say which columns hold the title and author")
SAMPLE_ROWS = 50  # rows looked at to tell a header-less file's ISBN and year columns by what they hold


def stage(import_id):
    batch = db.session.get(Import, import_id)
    options = ImportOptions().load({key: value for key, value in batch.options.items() if key != "mapping"})
    content, file_format, chosen_mapping = batch.content, batch.format, batch.options.get("mapping")
    with transaction():
        db.session.execute(sa.delete(ImportRecord).where(ImportRecord.import_id == import_id))
    nothing = {"new": 0, "match": 0, "invalid": 0}
    try:
        if file_format == "csv":
            header = options["header"]
            columns, _dialect = import_formats.csv_columns(content, header)
            first_rows = [row for row in itertools.islice(import_formats.csv_rows(content, header), SAMPLE_ROWS)
                          if any(cell.strip() for cell in row)]
            if chosen_mapping is not None:
                mapping = chosen_mapping
            elif header:
                mapping = import_formats.guess_mapping(columns)
            else:
                mapping = import_formats.guess_mapping_by_content(first_rows, columns)
            missing = [field for field in import_formats.REQUIRED if field not in mapping.values()]
            sample = [cell.strip()[:100] for cell in first_rows[0]] if first_rows else []
            _progress(import_id, columns=columns, sample=sample, options=batch.options | {"mapping": mapping},
                      total=_count_rows(content, header))
            if header and missing and import_formats.looks_like_a_record(columns):
                _progress(import_id, status="staged", counts=nothing, problem=FIRST_ROW_IS_A_RECORD)
                return
            if not first_rows:
                _progress(import_id, status="staged", counts=nothing, total=0, problem=NOTHING_TO_ADD)
                return
            if missing:
                _progress(import_id, status="staged", counts=nothing, problem=(
                    f"No column was recognised as the book's {' and '.join(missing)}: say which columns hold them"))
                return
            found = import_formats.csv_records(content, mapping, header)
        else:
            _progress(import_id, total=_count_marc(content))
            found = import_formats.marc_records(content)
        counts = {"new": 0, "match": 0, "invalid": 0}
        seen, spellings, chunk = {}, {}, []
        for number, raw in found:
            chunk.append((number, raw))
            if len(chunk) == BATCH:
                _stage_chunk(import_id, chunk, options, seen, spellings, counts)
                chunk = []
        _stage_chunk(import_id, chunk, options, seen, spellings, counts)
    except import_formats.UnreadableFile as error:
        _progress(import_id, status="failed", problem=str(error))
        return
    _progress(import_id, status="staged", counts=counts, total=sum(counts.values()),
              problem=None if sum(counts.values()) else NOTHING_TO_ADD)


def _count_rows(content, header=True):
    return max(0, import_formats.decode_text(content).count("\n") - (1 if header else 0)) or None


def _count_marc(content):
    if content.lstrip()[:1] == b"<":
        return content.count(b"<record") - content.count(b"<records") or None
    return content.count(b"\x1d") or None


def _stage_chunk(import_id, chunk, options, seen, spellings, counts):
    checked = [(number, *check(raw, options)) for number, raw in chunk]
    isbns = [fields["isbn"] for _number, fields, problems in checked if not problems and fields.get("isbn")]
    in_catalogue = dict(db.session.execute(sa.select(Book.isbn, Book.id).where(Book.isbn.in_(isbns))).all()) \
        if isbns else {}
    _file_genres(checked, spellings)
    rows = []
    for number, fields, problems in checked:
        outcome, match, notes = "new", None, fields.pop("_notes", [])
        isbn = fields.get("isbn")
        if problems:
            outcome, notes = "invalid", problems + notes
        elif isbn and isbn in seen:
            outcome, notes = "invalid", [f"The same ISBN as record {seen[isbn]} of this file"] + notes
        elif isbn and isbn in in_catalogue:
            outcome, match = "match", in_catalogue[isbn]
        if isbn and outcome != "invalid":
            seen[isbn] = number
        counts[outcome] += 1
        rows.append({"import_id": import_id, "number": number, "outcome": outcome, "fields": fields,
                     "notes": notes, "match_book_id": match})
    with transaction():
        if rows:
            db.session.execute(sa.insert(ImportRecord), rows)
        db.session.execute(sa.update(Import).where(Import.id == import_id).values(
            done=Import.done + len(rows), updated_at=sa.func.now()))


# Lengths the catalogue keeps (BookInputSchema): longer text from a file is cut, with a note.
GENRE_LENGTH, SUBJECT_LENGTH, MOST_SUBJECTS, DESCRIPTION_LENGTH, TITLE_LENGTH = 100, 100, 20, 5000, 300
MOST_POPULAR = 2**63 - 1  # books.popularity is a bigint


def _file_genres(checked, spellings):
    """Each valid record's genre as the commit will file it (genre_for_filing), with a note when that is another
    spelling: the one in the list ("science fiction": "Science Fiction"), or else the first this file gave.
    `spellings` ({genre key: name}) carries what earlier chunks found."""
    unknown = {genre_key(fields["genre"]) for _number, fields, problems in checked if not problems} - set(spellings)
    if unknown:
        spellings.update(db.session.execute(sa.select(Genre.key, Genre.name).where(Genre.key.in_(unknown))).all())
    for _number, fields, problems in checked:
        if problems:
            continue
        filed = spellings.setdefault(genre_key(fields["genre"]), fields["genre"])
        if filed != fields["genre"]:
            fields["_notes"].append(f"Genre {fields['genre']!r} filed under the existing {filed!r}")
            fields["genre"] = filed


def check(raw, options):
    """(the book's fields, the reasons it cannot be imported) for one record, with notes (fields["_notes"])
    on what was left out or mended: every value the librarian would find changed has its note. The rules are
    a typed-in book's (BookInputSchema)."""
    from .schemas import BookInputSchema  # schemas import the catalogue, which this module's callers load first

    if "_problem" in raw:
        return {"_notes": []}, [raw["_problem"]]
    notes = list(raw.get("_notes", []))  # what the file's reader mended (a list of authors cut to the first)
    book = {"title": on_one_line("Title", raw.get("title", ""), notes),
            "author": on_one_line("Author", raw.get("author", ""), notes),
            "genre": cut("Genre", on_one_line("Genre", raw.get("genre") or options["genre"], notes), GENRE_LENGTH,
                         notes),
            "copies": options["copies"]}
    book["isbn"] = recover_isbn(raw.get("isbn"), raw.get("isbn13"), notes)
    book["published_year"] = plausible_year(raw.get("year"), notes)
    if raw.get("language"):
        book["language"] = plausible_language(raw["language"], notes)
    problems = []
    if raw.get("copies"):
        book["copies"] = whole_number(raw["copies"])
        if book["copies"] is None:
            problems.append(f"Copies: {raw['copies']!r} is not a whole number")
    if raw.get("description"):
        book["description"] = cut("Description", raw["description"], DESCRIPTION_LENGTH, notes)
    book["cover_url"] = plausible_cover_url(raw.get("cover_url"), notes)
    if raw.get("original_title"):
        book["original_title"] = cut("Original title", on_one_line("Original title", raw["original_title"], notes),
                                     TITLE_LENGTH, notes)
    popularity = plausible_popularity(raw.get("popularity"), notes)
    subjects = raw.get("subjects") or []
    if isinstance(subjects, str):
        subjects = [part.strip() for part in re.split(r"[;|]", subjects) if part.strip()]
    if len(subjects) > MOST_SUBJECTS:
        notes.append(f"Subjects after the first {MOST_SUBJECTS} left out ({len(subjects) - MOST_SUBJECTS} of them)")
    book["subjects"] = [cut("Subject", on_one_line("Subject", subject, notes), SUBJECT_LENGTH, notes)
                        for subject in subjects[:MOST_SUBJECTS]]
    given = {key: value for key, value in book.items() if value is not None}
    try:
        loaded = BookInputSchema().load(given)
    except ma.ValidationError as error:
        problems += [f"{_FIELD_NAMES.get(field, field)}: "
                     + ("missing" if field in ("title", "author") and not book[field] else ' '.join(_flat(messages)))
                     for field, messages in sorted(error.messages.items())]
    if problems:
        return {**given, "_notes": notes}, problems
    # popularity is the import's to give (no typed-in book has one): kept beside the book's checked fields
    return {**loaded, **({"popularity": popularity} if popularity else {}), "_notes": notes}, []


def plausible_popularity(text, notes):
    """How many readers wanted the book, from a count ("4780653", "4.78e6"); None (with a note) for anything
    but a whole number from 0 (a book's popularity only ranks searches: a bad cell never fails its record)."""
    if not text:
        return None
    count = whole_number(text)
    if count is None or not 0 <= count <= MOST_POPULAR:
        notes.append(f"Popularity {text!r} is not a count of readers: left out")
        return None
    return count


def cut(label, text, length, notes):
    """`text` within `length` characters, with a note when it was longer."""
    if len(text) <= length:
        return text
    notes.append(f"{label} {text[:40]!r}… cut to {length:,} characters (it had {len(text):,})")
    return text[:length]


def plausible_language(text, notes):
    """An ISO 639 code for the record's language ("eng" and "en" are both English: "en"); None (with a note) for
    anything else. A region the code named ("en-US") is dropped, with a note: the catalogue keeps languages."""
    try:
        code = normalise_language(text)
    except ValueError:
        notes.append(f"Language {text!r} is not an ISO 639 code: left out")
        return None
    if re.search(r"[-_]", text.strip()):
        notes.append(f"Language {text!r} filed as {code!r} (the catalogue keeps the language, not the region)")
    return code


_FIELD_NAMES = {"title": "Title", "original_title": "Original title", "author": "Author", "genre": "Genre",
                "copies": "Copies", "isbn": "ISBN", "published_year": "Year", "description": "Description",
                "subjects": "Subjects"}


def _flat(messages):
    if isinstance(messages, dict):
        return [text for inner in messages.values() for text in _flat(inner)]
    return [str(text) for text in messages] if isinstance(messages, list) else [str(messages)]


def on_one_line(label, text, notes):
    """`text` with its line breaks, tabs and control characters folded into spaces (they would bend a mail
    header or a log line, and a typed-in book may not have them), with a note when that mended it."""
    if not breaks_the_line(text):
        return text
    notes.append(f"{label} {text!r} put on one line")
    return one_line(text)


_EXPONENT_FORM = re.compile(r"\s*\d(\.\d+)?[eE]\+?\d+\s*")  # "9.78043902348e+12"


def recover_isbn(isbn_text, isbn13_text, notes):
    """The record's ISBN-13, from what it gives: an ISBN-10 or -13, hyphens and all; an ISBN-10 whose leading
    zeros a spreadsheet ate ("439023483" is 0439023483: the check digit agrees), with a note. A spreadsheet's
    exponent form ("9.78043902348e+12") has lost digits and is never guessed at. The ISBN-13 column wins when
    both are valid; a column left out while the other is kept says why, unless it was the same ISBN or the
    exponent form (its digits lost, it can say nothing). None (with a note) when nothing is valid."""
    readings = []  # (the text as written, the ISBN-13 it is or None, its leading zeros restored, exponent form)
    for text in (isbn13_text, isbn_text):
        if not text or not text.strip():
            continue
        if _EXPONENT_FORM.fullmatch(text):
            readings.append((text.strip(), None, False, True))
            continue
        written = re.sub(r"[\s-]", "", text)  # (stdnum's compact() pads nine digits itself: an SBN)
        restored = written.isdigit() and 7 <= len(written) < 10
        try:
            isbn = normalise_isbn(written.rjust(10, "0") if restored else stdnum_isbn.compact(text))
        except ValueError:
            isbn = None
        readings.append((text.strip(), isbn, restored, False))
    kept = next((reading for reading in readings if reading[1]), None)
    if kept is None:
        written = next((text for text, _isbn, _restored, exponent in readings if not exponent), None)
        if written is not None:
            notes.append(f"ISBN {written!r} is not a valid ISBN: left out")
        elif readings:
            notes.append(f"ISBN {readings[0][0]!r} is a spreadsheet's exponent form (its digits lost): left out")
        return None
    text, isbn, restored, _exponent = kept
    if restored:
        zeros = 10 - len(re.sub(r"[\s-]", "", text))
        notes.append(f"ISBN {text!r} read as {stdnum_isbn.to_isbn10(isbn)}: a spreadsheet had dropped its leading "
                     f"{'zero' if zeros == 1 else f'{zeros} zeros'} (the check digit agrees)")
    for other, other_isbn, _restored, exponent in readings:
        if other is text or exponent or other_isbn == isbn:
            continue
        notes.append(f"ISBN {other!r} is not a valid ISBN: left out (the other, {isbn}, is kept)" if other_isbn is None
                     else f"ISBN {other!r} left out: the record's other ISBN, {isbn}, is kept")
    return isbn


def plausible_cover_url(text, notes):
    """The record's cover address when it is an http or https one; None (with a note) otherwise: a book is
    worth importing without its cover."""
    if not text:
        return None
    try:
        if len(text) <= 2000:
            return COVER_URL(text)
    except ma.ValidationError:
        pass
    notes.append(f"Cover {text[:100]!r} is not an http or https address (of at most 2,000 characters): left out")
    return None


def whole_number(text):
    """A count from "3" or a spreadsheet's "3.0"; None for anything else ("inf", "nan", "2.5", "three"), which
    no row should be given a guess for."""
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def plausible_year(text, notes):
    """A publication year from "2008", "2008.0" or "c1999." (a note says what was left of the last); None (with a
    note) for none before printing or after next year."""
    if not text:
        return None
    found = re.search(r"-?\d{1,4}(?:\.0+)?", str(text))
    if not found:
        notes.append(f"Year {text!r} is not a year: left out")
        return None
    year = int(float(found.group(0)))
    if not 1450 <= year <= date.today().year + 1:
        notes.append(f"Year {year} left out (a publication year from 1450 to next year)")
        return None
    if found.group(0) != str(text).strip():  # "c1999." (about 1999), "[1971?]": more than the year was said
        notes.append(f"Year {text!r} read as {year}")
    return year


# ---- commit -----------------------------------------------------------------------------------------------


def commit(import_id):
    options = db.session.scalar(sa.select(Import.options).where(Import.id == import_id))
    db.session.rollback()
    add_copies = options.get("on_match") == "add_copies"
    pending = sa.select(ImportRecord).where(ImportRecord.import_id == import_id,
                                            ImportRecord.outcome.in_(("new", "match")),
                                            ImportRecord.result.is_(None)).order_by(ImportRecord.number).limit(BATCH)
    while True:
        with transaction():
            chunk = db.session.scalars(pending).all()
            if not chunk:
                break
            _file_new_books([record for record in chunk if record.outcome == "new"])
            for record in (record for record in chunk if record.outcome == "match"):
                if add_copies:
                    record.added_barcodes = inventory.insert_items(record.match_book_id, record.fields.get("copies", 1))
                    record.result, record.book_id = "copies_added", record.match_book_id
                else:
                    record.result, record.book_id = "skipped", record.match_book_id
            db.session.execute(sa.update(Import).where(Import.id == import_id).values(
                done=Import.done + len(chunk), updated_at=sa.func.now()))
    results = _results(import_id)
    _progress(import_id, status="committed", counts=results, content=None)


BOOK_COLUMNS = ("title", "author", "genre", "isbn", "published_year", "description", "language", "subjects",
                "cover_url", "original_title", "popularity")


def _file_new_books(chunk):
    """Insert the chunk's books (ISBNs taken since staging make them matches, skipped) and their items."""
    genres = {}
    rows = []
    for record in chunk:
        fields = {column: record.fields.get(column) for column in BOOK_COLUMNS}
        fields["subjects"] = fields["subjects"] or []
        fields["popularity"] = fields["popularity"] or 0
        if fields["genre"] not in genres:
            genres[fields["genre"]] = genre_for_filing(fields["genre"])
        fields["genre"] = genres[fields["genre"]]
        rows.append((record, record.fields.get("copies", 1), {**fields, **book_search_columns(
            fields["title"], fields["author"], fields["isbn"], fields["subjects"], fields["description"],
            fields["language"], fields["original_title"])}))
    with_isbn = [row for row in rows if row[2].get("isbn")]
    without = [row for row in rows if not row[2].get("isbn")]
    created = {}
    if with_isbn:
        inserted = db.session.execute(insert(Book).values([row for _r, _c, row in with_isbn])
                                      .on_conflict_do_nothing(index_elements=["isbn"])
                                      .returning(Book.isbn, Book.id)).all()
        by_isbn = dict(inserted)
        for record, _copies, row in with_isbn:
            if row["isbn"] in by_isbn:
                created[record.id] = by_isbn[row["isbn"]]
            else:  # another book took the ISBN after staging: a match now
                record.outcome, record.result = "match", "skipped"
                record.match_book_id = record.book_id = db.session.scalar(
                    sa.select(Book.id).where(Book.isbn == row["isbn"]))
                record.notes = [*record.notes, "A book with this ISBN was added after staging: skipped"]
    if without:
        ids = db.session.scalars(insert(Book).returning(Book.id, sort_by_parameter_order=True),
                                 [row for _r, _c, row in without]).all()
        created |= {record.id: book_id for (record, _c, _row), book_id in zip(without, ids, strict=True)}
    copies_of = {record.id: copies for record, copies, _row in rows}
    if created:
        db.session.execute(sa.text(
            "INSERT INTO items (book_id) SELECT book_id FROM unnest(CAST(:books AS int[]), CAST(:copies AS int[])) "
            "AS wanted(book_id, copies), generate_series(1, wanted.copies) ORDER BY book_id"),
            {"books": list(created.values()), "copies": [copies_of[record_id] for record_id in created]})
    for record in chunk:
        if record.id in created:
            record.result, record.book_id = "created", created[record.id]


def _results(import_id):
    rows = db.session.execute(sa.select(ImportRecord.result, sa.func.count()).where(
        ImportRecord.import_id == import_id, ImportRecord.result.is_not(None)).group_by(ImportRecord.result)).all()
    outcomes = db.session.execute(sa.select(ImportRecord.outcome, sa.func.count()).where(
        ImportRecord.import_id == import_id).group_by(ImportRecord.outcome)).all()
    return {"new": 0, "match": 0, "invalid": 0, **dict(outcomes), **dict(rows)}


# ---- revert -----------------------------------------------------------------------------------------------


def revert(import_id, circulation, service_tokens):
    """Remove what the import added, in batches of REVERT_BATCH books: their circulating items leave
    circulation first, borrow-service says (under its locks) which of them are out or waited for, and those
    stay (with their items back); the rest go."""
    pending = sa.select(ImportRecord).where(ImportRecord.import_id == import_id,
                                            ImportRecord.result.in_(("created", "copies_added"))) \
        .order_by(ImportRecord.number).limit(REVERT_BATCH)
    while True:
        chunk = db.session.scalars(pending).all()
        if not chunk:
            db.session.rollback()
            break
        book_ids = sorted({record.book_id for record in chunk})
        withdrawn = _withdraw(chunk)
        try:
            states = circulation.book_states(book_ids, service_tokens.token())
        except DependencyUnavailable:
            _restore(withdrawn)
            raise
        busy = {book_id for book_id, state in states.items() if state.out or state.holds_waiting}
        with transaction():
            _restore_items([item_id for item_id, book_id in withdrawn if book_id in busy])
            for record in chunk:
                if record.book_id in busy:
                    record.result = "kept"
                    record.notes = [*record.notes, "Kept: a copy is out or patrons wait for it"]
                elif record.result == "created":
                    db.session.execute(sa.delete(Book).where(Book.id == record.book_id))
                    record.result = "removed"
                else:
                    db.session.execute(sa.delete(Item).where(Item.book_id == record.book_id,
                                                             Item.barcode.in_(record.added_barcodes or [])))
                    record.result = "copies_removed"
            db.session.execute(sa.update(Import).where(Import.id == import_id).values(
                done=Import.done + len(chunk), updated_at=sa.func.now()))
    _progress(import_id, status="reverted", counts=_results(import_id))


def _withdraw(chunk):
    """Take the chunk's circulating items out of circulation (created books: all; matches: the added copies);
    [(item id, book id)] of those taken."""
    created = [record.book_id for record in chunk if record.result == "created"]
    added = [barcode for record in chunk if record.result == "copies_added" for barcode in record.added_barcodes or []]
    with transaction():
        return db.session.execute(sa.update(Item).where(
            Item.status == "available",
            sa.or_(Item.book_id.in_(created), Item.barcode.in_(added))).values(status="withdrawn")
            .returning(Item.id, Item.book_id)).all()


def _restore(withdrawn):
    with transaction():
        _restore_items([item_id for item_id, _book_id in withdrawn])


def _restore_items(item_ids):
    if item_ids:
        db.session.execute(sa.update(Item).where(Item.id.in_(item_ids)).values(status="available"))

