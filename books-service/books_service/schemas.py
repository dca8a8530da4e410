from datetime import date

import marshmallow as ma
from marshmallow import fields, validate

from library_common.api import PG_INT_MAX
from library_common.pagination import MAX_PER_PAGE, PageArgs
from library_common.schema import NotEmpty, Strict, StrictBoolean, Text

from .catalogue import SORTS, normalise_isbn
from .models import ITEM_STATUSES

FIRST_PRINTED_BOOK_YEAR = 1450


class IsbnField(Text):
    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text:
            return None
        try:
            return normalise_isbn(text)
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from exc


def _year_not_in_future(year):
    if year is not None and year > date.today().year + 1:
        raise ma.ValidationError("Must not be in the future")


class BookInputSchema(Strict):
    title = Text(required=True, validate=validate.Length(min=1, max=300))
    author = Text(required=True, validate=validate.Length(min=1, max=200))
    genre = Text(required=True, validate=validate.Length(min=1, max=100))
    isbn = IsbnField(allow_none=True, metadata={"description": "ISBN-10 or ISBN-13; stored as ISBN-13"})
    published_year = fields.Integer(
        allow_none=True,
        strict=True,
        validate=[validate.Range(min=FIRST_PRINTED_BOOK_YEAR, max=9999), _year_not_in_future],
    )
    description = Text(allow_none=True, validate=validate.Length(max=5000))
    copies = fields.Integer(strict=True, validate=validate.Range(min=1, max=1000))
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
    title = fields.String()
    author = fields.String()
    genre = fields.String()
    isbn = fields.String(allow_none=True)
    published_year = fields.Integer(allow_none=True)
    description = fields.String(allow_none=True)
    copies = fields.Integer()
    available_copies = fields.Integer(allow_none=True, metadata={"description": "null when unknown"})
    available = fields.Boolean(allow_none=True, metadata={"description": "null when unknown (borrow-service down)"})
    holds_waiting = fields.Integer(allow_none=True, metadata={"description": "Patrons waiting for a copy; null when "
                                                                             "unknown"})
    created_at = fields.DateTime()


class BookListArgs(PageArgs):
    id = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=PG_INT_MAX)),
        validate=validate.Length(max=MAX_PER_PAGE),
        metadata={"description": "Only these books (repeat for each, at most 100): one call for many ids"},
    )
    q = Text(
        validate=validate.Length(max=200), metadata={"description": "Words or word prefixes in title, author or ISBN"}
    )
    genre = Text(validate=validate.Length(max=100))
    author = Text(validate=validate.Length(max=200))
    available = fields.Boolean(metadata={"description": "true: only books with a copy free"})
    availability = fields.Boolean(
        load_default=True,
        metadata={"description": "false skips asking borrow-service (available is then null), e.g. for titles only"},
    )
    sort = fields.String(
        validate=validate.OneOf([*SORTS, "relevance"]),
        metadata={"description": "Default: title. relevance ranks every match of a search, which costs more"},
    )


class BookLookupArgs(ma.Schema):
    availability = fields.Boolean(
        load_default=True, metadata={"description": "false skips asking borrow-service (available is then null)"}
    )


class GenreSchema(ma.Schema):
    genre = fields.String()
    count = fields.Integer()


BARCODE = validate.Regexp(r"^[!-~]{4,32}\Z", error="4 to 32 printable characters, no spaces")


class ItemInputSchema(Strict):
    barcode = fields.String(validate=BARCODE, metadata={"description": "Leave out for the next generated one"})


class ItemChangesSchema(NotEmpty, Strict):
    status = fields.String(validate=validate.OneOf(ITEM_STATUSES))
    barcode = fields.String(validate=BARCODE)


class ItemSchema(ma.Schema):
    barcode = fields.String()
    book_id = fields.Integer()
    title = fields.String()
    status = fields.String(metadata={"enum": list(ITEM_STATUSES),
                                     "description": "Inventory status; who has it is borrow-service's"})
    created_at = fields.DateTime()
