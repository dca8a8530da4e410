from datetime import date

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import fields, validate

from library_common.api import PG_INT_MAX
from library_common.pagination import MAX_PER_PAGE, PageArgs
from library_common.schema import FullMatch, NotEmpty, OneLine, Strict, StrictBoolean, Text

from .catalogue import RELEVANCE, SORTS, language_name, normalise_isbn, normalise_language, version_of
from .covers import COVER_URL
from .imports import FORMATS, ON_MATCH
from .models import DEFAULT_ITEM_TYPE, IMPORT_STATUSES, ITEM_FORMATS, ITEM_STATUSES, ITEM_TYPE_CODE, RECORD_OUTCOMES

FIRST_PRINTED_BOOK_YEAR = 1450


class NormalisedText(Text):
    """Text in its standard form, by `normalise` (whose ValueError is the field's error); empty: None."""

    def __init__(self, normalise, **kwargs):
        super().__init__(**kwargs)
        self.normalise = normalise

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text:
            return None
        try:
            return self.normalise(text)
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from exc


def _year_not_in_future(year):
    if year is not None and year > date.today().year + 1:
        raise ma.ValidationError("Must not be in the future")


class BookInputSchema(Strict):
    title = OneLine(required=True, validate=validate.Length(min=1, max=300))
    original_title = OneLine(allow_none=True, validate=validate.Length(max=300), metadata={
        "description": "The title the work first had (of a translation: L’Étranger for The Stranger); searched as the "
                       "title is"})
    author = OneLine(required=True, validate=validate.Length(min=1, max=200))
    genre = OneLine(required=True, validate=validate.Length(min=1, max=100))
    isbn = NormalisedText(normalise_isbn, allow_none=True,
                          metadata={"description": "ISBN-10 or ISBN-13; stored as ISBN-13"})
    published_year = fields.Integer(
        allow_none=True,
        strict=True,
        validate=[validate.Range(min=FIRST_PRINTED_BOOK_YEAR, max=9999), _year_not_in_future],
    )
    description = Text(allow_none=True, validate=validate.Length(max=5000))
    language = NormalisedText(normalise_language, allow_none=True, metadata={
        "description": "ISO 639 code (en, eng, en-US, fre); stored as ISO 639-1 where there is one (en, fr)"})
    subjects = fields.List(OneLine(validate=validate.Length(min=1, max=100)), validate=validate.Length(max=20),
                           metadata={"description": "Subject headings, searched below title and author"})
    copies = fields.Integer(strict=True, validate=validate.Range(min=1, max=1000))
    cover_url = Text(allow_none=True, validate=[validate.Length(max=2000), COVER_URL], metadata={
        "description": "Where the cover image is published (http or https). The library fetches it and serves it "
                       "itself at GET /books/<id>/cover; readers' browsers never ask this address"})
    available = StrictBoolean(
        load_only=True,
        metadata={"description": "Accepted for compatibility with the first version of the API; ignored, "
                                 "since availability is computed from loans"},
    )

    @ma.post_load
    def drop_computed(self, data, **kwargs):
        data.pop("available", None)
        return data


class BookChangesSchema(NotEmpty, BookInputSchema):
    """The same fields as BookInputSchema, every one optional (PATCH); its own name in the OpenAPI document."""


class BookSchema(ma.Schema):
    id = fields.Integer()
    version = fields.Function(version_of, dump_only=True, metadata={
        "type": "string", "description": "Changes with every save; send it as If-Match to change the book only if "
                                         "nobody saved it since (412 otherwise)"})
    title = fields.String()
    original_title = fields.String(allow_none=True)
    author = fields.String()
    genre = fields.String()
    isbn = fields.String(allow_none=True)
    published_year = fields.Integer(allow_none=True)
    description = fields.String(allow_none=True)
    language = fields.String(allow_none=True)
    language_name = fields.Function(lambda book: language_name(book.language) if book.language else None,
                                    allow_none=True,
                                    metadata={"type": "string", "description": "The language in English words"})
    subjects = fields.List(fields.String())
    copies = fields.Integer()
    available_copies = fields.Integer(allow_none=True, metadata={"description": "null when unknown"})
    available = fields.Boolean(allow_none=True, metadata={"description": "null when unknown (borrow-service down)"})
    holds_waiting = fields.Integer(allow_none=True, metadata={"description": "Patrons waiting for a copy; null when "
                                                                             "unknown"})
    cover_url = fields.String(allow_none=True)
    popularity = fields.Integer(metadata={
        "description": "How many readers wanted it, as the library's data says (an import's ratings count); ranks "
                       "searches (sort=relevance). 0: unknown"})
    has_cover = fields.Boolean(metadata={"description": "The library has fetched the cover: GET /books/<id>/cover "
                                                        "serves it"})
    created_at = fields.DateTime()


def _first_year_of_a_decade(year):
    if year % 10:
        raise ma.ValidationError("The first year of a decade, such as 1990")


class BookFilterArgs(ma.Schema):
    """What GET /books and GET /books/facets both filter by."""

    id = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=PG_INT_MAX)),
        validate=validate.Length(max=MAX_PER_PAGE),
        metadata={"description": "Only these books (repeat for each, at most 100): one call for many ids"},
    )
    q = Text(
        validate=validate.Length(max=200),
        metadata={"description": "Words or word prefixes in title, author, ISBN, subjects or description; "
                                 "accents and letter case never matter"},
    )
    genre = Text(validate=validate.Length(max=100))
    author = Text(validate=validate.Length(max=200))
    language = NormalisedText(normalise_language, metadata={"description": "ISO 639 code (en, eng, fre); blank: any"})
    decade = fields.Integer(validate=[validate.Range(min=0, max=9990), _first_year_of_a_decade],
                            metadata={"description": "Published in this decade (1990: 1990-1999)"})
    available = fields.Boolean(metadata={"description": "true: only books with a copy free"})


class BookListArgs(PageArgs, BookFilterArgs):
    availability = fields.Boolean(
        load_default=True,
        metadata={"description": "false skips asking borrow-service (available is then null), e.g. for titles only"},
    )
    sort = fields.String(
        validate=validate.OneOf([*SORTS, RELEVANCE]),
        metadata={"description": "title (default; leading articles ignored), author (by surname), newest or "
                                 "oldest (publication year), added (recently added), relevance (title matches "
                                 "first; a search of more than 500 matches is listed by title: X-Sorted-By)"},
    )


class FacetValueSchema(ma.Schema):
    value = fields.String(metadata={"description": "What to filter by (the parameter of the same name)"})
    label = fields.String(metadata={"description": "How to show it"})
    count = fields.Integer()


class FacetsSchema(ma.Schema):
    genre = fields.List(fields.Nested(FacetValueSchema))
    author = fields.List(fields.Nested(FacetValueSchema), metadata={"description": "The 10 most frequent"})
    language = fields.List(fields.Nested(FacetValueSchema))
    decade = fields.List(fields.Nested(FacetValueSchema), metadata={"description": "In time order"})
    available = fields.Integer(allow_none=True, metadata={
        "description": "Matching books with a copy free; null where that is not counted (more than 100 matches)"})
    complete = fields.Boolean(metadata={
        "description": "false: the counts cover only the first 1,000 matches"})


class SuggestionArgs(ma.Schema):
    q = Text(required=True, validate=validate.Length(max=200))


class SuggestionSchema(ma.Schema):
    kind = fields.String(metadata={"description": "title or author"})
    text = fields.String()


class BookLookupArgs(ma.Schema):
    availability = fields.Boolean(
        load_default=True, metadata={"description": "false skips asking borrow-service (available is then null)"}
    )


class GenreSchema(ma.Schema):
    id = fields.Integer()
    genre = fields.String()
    count = fields.Integer(metadata={"description": "Books filed under it"})


class GenreNameSchema(Strict):
    name = OneLine(required=True, validate=validate.Length(min=1, max=100))


class GenreMergeSchema(Strict):
    into = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=PG_INT_MAX),
                          metadata={"description": "The genre whose name the merged books take"})


BARCODE = validate.Regexp(r"^[!-~]{4,32}\Z", error="4 to 32 printable characters, no spaces")
ITEM_TYPE = FullMatch(ITEM_TYPE_CODE, error="1 to 32 characters: lowercase letters, digits, '_' or '-'")


class ItemShelfDetails(Strict):
    """What a librarian says about a copy beyond its barcode: its type, and where and in what form it is shelved.
    Blank text is no value (null), so a form's empty field clears it."""

    item_type = fields.String(validate=ITEM_TYPE, metadata={
        "description": f"A code from GET /item-types; new copies get {DEFAULT_ITEM_TYPE!r} when left out"})
    call_number = OneLine(allow_none=True, validate=validate.Length(max=64), metadata={
        "description": "The classification on its spine label, such as 823.914 ISH"})
    shelf_location = OneLine(allow_none=True, validate=validate.Length(max=100), metadata={
        "description": "Where in the library it is shelved, such as Adult fiction, 2nd floor"})
    format = fields.String(allow_none=True, validate=validate.OneOf(ITEM_FORMATS),
                           metadata={"description": "Its physical form"})

    @ma.post_load
    def blank_is_none(self, data, **kwargs):
        for name in ("call_number", "shelf_location"):
            if name in data and not data[name]:
                data[name] = None
        return data


class ItemInputSchema(ItemShelfDetails):
    barcode = fields.String(validate=BARCODE, metadata={"description": "Leave out for the next generated one"})


class ItemChangesSchema(NotEmpty, ItemShelfDetails):
    status = fields.String(validate=validate.OneOf(ITEM_STATUSES), metadata={
        "description": "Not to leave circulation while the copy is on loan or on the hold shelf (409); its type, "
                       "call number, shelf location and format change at any time"})
    barcode = fields.String(validate=BARCODE)


class ItemSchema(ma.Schema):
    barcode = fields.String()
    book_id = fields.Integer()
    title = fields.String()
    status = fields.String(metadata={"enum": list(ITEM_STATUSES),
                                     "description": "Inventory status; who has it is borrow-service's"})
    item_type = fields.String(metadata={"description": "Its item type's code (GET /item-types)"})
    call_number = fields.String(allow_none=True)
    shelf_location = fields.String(allow_none=True)
    format = fields.String(allow_none=True, metadata={"enum": [*ITEM_FORMATS, None]})
    created_at = fields.DateTime()


class ItemTypeSchema(ma.Schema):
    code = fields.String(metadata={"description": "What copies and loan rules refer to it by; never changes"})
    name = fields.String()
    items = fields.Integer(metadata={"description": "Copies of this type"})


class ItemTypeInputSchema(Strict):
    code = fields.String(required=True, validate=ITEM_TYPE)
    name = OneLine(required=True, validate=validate.Length(min=1, max=100))


class ItemTypeNameSchema(Strict):
    name = OneLine(required=True, validate=validate.Length(min=1, max=100))


# ---- imports ------------------------------------------------------------------------------------------------

class ImportOptionsSchema(Strict):
    on_match = fields.String(validate=validate.OneOf(ON_MATCH), metadata={
        "description": "A record whose ISBN is in the catalogue: skip it (default), or add its copies to that book"})
    copies = fields.Integer(validate=validate.Range(min=1, max=100),
                            metadata={"description": "Copies of each new book whose record does not say (1)"})
    genre = OneLine(validate=validate.Length(min=1, max=100),
                    metadata={"description": "The genre of records without one (General)"})


class ImportUploadSchema(ImportOptionsSchema):
    format = fields.String(validate=validate.OneOf(FORMATS), metadata={
        "description": "csv, or marc (MARC 21 binary, MARC-8 or UTF-8, or MARCXML); guessed from the file when "
                       "left out"})
    header = fields.Boolean(truthy={"true"}, falsy={"false"}, metadata={
        "description": "true (the default): a CSV's first row names its columns; false: it is a record like the "
                       "others, and the columns are taken by their place"})


class ImportFileSchema(ma.Schema):
    file = Upload(required=True, metadata={"description": "The file of records"})


class ImportRestageSchema(ImportOptionsSchema):
    header = StrictBoolean(metadata={
        "description": "A CSV's first row names its columns (true, the default) or is a record like the others "
                       "(false: the columns are \"Column 1\", \"Column 2\"... by their place)"})
    mapping = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True), metadata={
        "description": "CSV column -> field (title, author, isbn, isbn13, year, genre, language, copies, "
                       "description, subjects, cover_url; null: ignore the column)"})


class ImportCommitSchema(Strict):
    on_match = fields.String(validate=validate.OneOf(ON_MATCH))


class ImportSchema(ma.Schema):
    id = fields.Integer()
    filename = fields.String()
    format = fields.String()
    status = fields.String(metadata={"enum": list(IMPORT_STATUSES)})
    created_by = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    options = fields.Dict(metadata={"description": "on_match, copies, genre, and a CSV's header and column mapping"})
    columns = fields.List(fields.String(), allow_none=True, metadata={
        "description": "A CSV's header, or \"Column 1\", \"Column 2\"... when its first row is a record "
                       "(options.header false)"})
    sample = fields.List(fields.String(), allow_none=True, metadata={
        "description": "A CSV's first record, cell by cell (each at most 100 characters): what each column holds"})
    first_row_looks_like_data = fields.Boolean(metadata={
        "description": "A CSV read with a header whose first row looks like a record, not column names (no usual "
                       "column name, and an ISBN, year or number): stage it again with header false to read it as one"})
    total = fields.Integer(allow_none=True, metadata={"description": "Records in the file, once counted"})
    done = fields.Integer(metadata={"description": "Records through the current step (staging, commit, revert)"})
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "new, match, invalid; after a commit also created, copies_added, skipped; after a revert "
                       "removed, copies_removed, kept"})
    problem = fields.String(allow_none=True, metadata={
        "description": "Why it failed, or what staging needs (a column mapping)"})


class ImportRecordsArgs(PageArgs):
    outcome = fields.String(validate=validate.OneOf(RECORD_OUTCOMES))


class ImportRecordSchema(ma.Schema):
    number = fields.Integer(metadata={"description": "Its place in the file, from 1"})
    outcome = fields.String(metadata={"enum": list(RECORD_OUTCOMES)})
    fields_ = fields.Dict(data_key="fields", attribute="fields")
    notes = fields.List(fields.String(), metadata={"description": "Why it is invalid, or what was left out"})
    match_book_id = fields.Integer(allow_none=True)
    result = fields.String(allow_none=True)
    book_id = fields.Integer(allow_none=True)
