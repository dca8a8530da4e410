from datetime import datetime, timezone

import marshmallow as ma
from marshmallow import fields, validate

from library_common.api import PG_INT_MAX
from library_common.pagination import PageArgs
from library_common.schema import USERNAME, OneLine, Strict, StrictBoolean, Text

from .loans import is_overdue, renewable_from
from .models import HOLD_STATUSES

BOOK_ID = validate.Range(min=1, max=PG_INT_MAX)
BARCODE = validate.Regexp(r"^[!-~]{4,32}\Z", error="4 to 32 printable characters, no spaces")
MAX_BATCH = 100


class LoanRequestSchema(Strict):
    book_id = fields.Integer(required=True, strict=True, validate=BOOK_ID)
    username = Text(validate=USERNAME, metadata={"description": "Defaults to you; librarians may name any patron"})


class HoldRequestSchema(LoanRequestSchema):
    """The same fields as a loan request: a book, and (librarians) a patron."""


class DeskCheckoutSchema(Strict):
    barcode = fields.String(required=True, validate=BARCODE, metadata={"description": "The item scanned"})
    username = Text(required=True, validate=USERNAME, metadata={"description": "The patron it is lent to"})
    override_reason = OneLine(validate=validate.Length(min=3, max=200), metadata={
        "description": "Lend past the rule (the loan limit, a copy not for loan), and say why: recorded with the "
                       "loan"})
    due_date = fields.Date(metadata={"description": "With override_reason: due at the end of this day instead"})

    @ma.validates_schema
    def a_due_date_needs_a_reason(self, data, **_kwargs):
        if "due_date" in data and "override_reason" not in data:
            raise ma.ValidationError("A due date of your own needs a reason (override_reason)", "due_date")


class DeskCheckinSchema(Strict):
    barcode = fields.String(required=True, validate=BARCODE, metadata={"description": "The item scanned"})


def _iso(moment):
    return moment.isoformat() if moment is not None else None


class LoanSchema(ma.Schema):
    id = fields.Integer()
    username = fields.String(allow_none=True, metadata={"description": "null once an old loan is anonymised"})
    book_id = fields.Integer()
    barcode = fields.String(allow_none=True, metadata={"description": "The item lent (null: lent before barcodes)"})
    title = fields.String(allow_none=True, metadata={"description": "The book's title when it was lent"})
    borrow_date = fields.DateTime()
    due_date = fields.DateTime()
    returned = fields.Boolean()
    returned_date = fields.DateTime(allow_none=True)
    renewals = fields.Integer()
    renewals_left = fields.Function(lambda loan: max(0, loan.max_renewals - loan.renewals),
                                    dump_only=True, metadata={"type": "integer"})
    renewable_from = fields.Function(lambda loan: _iso(renewable_from(loan)), dump_only=True, metadata={
        "type": "string", "format": "date-time", "nullable": True,
        "description": "When renewals open (the rule's \"no renewal before\" days before the due date); "
                       "null: any time"})
    item_type = fields.String(metadata={"description": "The type of the item lent"})
    holds_waiting = fields.Integer(dump_only=True, allow_none=True, metadata={
        "description": "In lists, for an active loan: patrons waiting for its book (a renewal is refused while "
                       "they wait)"})
    rule = fields.String(metadata={"description": "The circulation rule it was lent under: patron category × "
                                                  "item type, * for every one"})
    override_reason = fields.String(allow_none=True, metadata={"description": "A librarian lent past the rule: why"})
    overridden_by = fields.String(allow_none=True)
    overdue = fields.Function(lambda loan: is_overdue(loan, datetime.now(timezone.utc)), dump_only=True,
                              metadata={"type": "boolean"})


class HoldSchema(ma.Schema):
    id = fields.Integer()
    book_id = fields.Integer()
    title = fields.String(allow_none=True)
    username = fields.String()
    status = fields.String(metadata={"enum": list(HOLD_STATUSES)})
    position = fields.Integer(allow_none=True, metadata={"description": "Waiting holds: 1 + those ahead in line"})
    placed_at = fields.DateTime()
    estimated_available = fields.Date(allow_none=True, metadata={
        "description": "Waiting holds: the day a copy is expected (see the README for how)"})
    ready_at = fields.DateTime(allow_none=True)
    pickup_by = fields.DateTime(allow_none=True, metadata={"description": "Ready holds: collect it by then"})
    barcode = fields.String(allow_none=True, metadata={"description": "Ready holds: the item on the hold shelf"})
    closed_at = fields.DateTime(allow_none=True)
    suspended_until = fields.Date(allow_none=True, metadata={
        "description": "Waiting holds: copies pass it by until this day (it keeps its place)"})
    not_needed_after = fields.Date(allow_none=True, metadata={"description": "Waiting holds: it expires after it"})
    moved_note = fields.String(allow_none=True, metadata={
        "description": "A librarian moved it in line: who, when and why"})


class HoldMoveSchema(Strict):
    direction = fields.String(required=True, validate=validate.OneOf(["up", "down"]))
    reason = OneLine(required=True, validate=validate.Length(min=3, max=200),
                     metadata={"description": "Why (kept with the hold)"})


class HoldDatesSchema(Strict):
    suspended_until = fields.Date(allow_none=True, metadata={"description": "null: not suspended"})
    not_needed_after = fields.Date(allow_none=True, metadata={"description": "null: needed however long it takes"})

    @ma.validates_schema
    def something_to_change(self, data, **_kwargs):
        if not data:
            raise ma.ValidationError("Give suspended_until, not_needed_after or both", "suspended_until")


class PulledSchema(ma.Schema):
    hold = fields.Nested(HoldSchema)
    barcodes = fields.List(fields.String(), metadata={"description": "Free copies of its book: fetch one"})


class CheckInSchema(ma.Schema):
    loan = fields.Nested(LoanSchema, allow_none=True, metadata={
        "description": "The loan it ended (null: a copy from the shelf set aside for a waiting patron)"})
    route = fields.String(metadata={"enum": ["shelf", "hold_shelf", "out_of_circulation", "awaiting_check_in"],
                                    "description": "Where the item goes now (awaiting_check_in: returned on the "
                                                   "web while a patron waits; to the hold shelf once the desk "
                                                   "scans it)"})
    hold = fields.Nested(HoldSchema, allow_none=True, metadata={"description": "hold_shelf: the hold it waits for"})


class LoanListArgs(PageArgs):
    username = Text(validate=USERNAME)
    book_id = fields.Integer(validate=BOOK_ID)
    active = fields.Boolean()
    overdue = fields.Boolean()


class HistoryArgs(PageArgs):
    active = fields.Boolean(metadata={"description": "true: current loans only"})


class HoldListArgs(PageArgs):
    username = Text(validate=USERNAME)
    book_id = fields.Integer(validate=BOOK_ID)
    status = fields.List(fields.String(validate=validate.OneOf(HOLD_STATUSES)), validate=validate.Length(max=5),
                         metadata={"description": "Repeat for several"})


class ActiveCountsArgs(ma.Schema):
    book_id = fields.List(
        fields.Integer(validate=BOOK_ID),
        validate=validate.Length(max=MAX_BATCH),
        metadata={"description": f"Repeat for each book (at most {MAX_BATCH}); omit for every book with a copy out"},
    )


class ActiveCountsSchema(ma.Schema):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "book id -> copies out (on loan or on the hold shelf)"})
    holds_waiting = fields.Dict(keys=fields.String(), values=fields.Integer(),
                                metadata={"description": "book id -> holds waiting (for the books asked about)"})


class CopyOutSchema(ma.Schema):
    state = fields.String(metadata={"enum": ["on_loan", "on_hold_shelf", "awaiting_check_in"]})
    username = fields.String(allow_none=True)
    due_date = fields.DateTime(metadata={"description": "on_loan"})
    pickup_by = fields.DateTime(metadata={"description": "on_hold_shelf"})


class BookCirculationSchema(ma.Schema):
    items = fields.Dict(keys=fields.String(), values=fields.Nested(CopyOutSchema),
                        metadata={"description": "barcode -> who has it; copies not listed are free"})
    unnumbered_loans = fields.Integer(metadata={"description": "Loans from before barcodes (some copy each)"})
    holds_waiting = fields.Integer()


class BooksArgs(ma.Schema):
    book_id = fields.List(fields.Integer(validate=BOOK_ID), required=True,
                          validate=validate.Length(min=1, max=MAX_BATCH),
                          metadata={"description": f"Repeat for each book (at most {MAX_BATCH})"})


class BooksCirculationSchema(ma.Schema):
    books = fields.Dict(keys=fields.String(), values=fields.Nested(BookCirculationSchema),
                        metadata={"description": "book id -> its copies out and holds waiting"})


class PatronSettingsSchema(ma.Schema):
    username = fields.String(dump_only=True)
    keep_history = StrictBoolean(required=True, metadata={
        "description": "Keep returned loans in your history; otherwise they are anonymised after "
                       "HISTORY_RETENTION_DAYS"})


class PatronSettingsInputSchema(Strict):
    keep_history = StrictBoolean(required=True)


class PatronSummaryArgs(ma.Schema):
    book_id = fields.Integer(validate=BOOK_ID, metadata={"description": "Also your loan of, and hold on, this book"})


class PatronSummarySchema(ma.Schema):
    username = fields.String()
    active_loans = fields.Integer()
    overdue_loans = fields.Integer()
    waiting_holds = fields.Integer()
    ready_holds = fields.Integer()
    max_active_loans = fields.Integer(metadata={"description": "The loan limit of the patron's category's rule "
                                                               "for every item type"})
    category = fields.String(metadata={"description": "The patron's category (user-service's)"})
    card_expired = fields.Boolean(metadata={"description": "Their library card has expired: no loans until renewed"})
    card_expires_on = fields.Date(allow_none=True, metadata={"description": "null: the card does not expire"})
    web_checkout = fields.Boolean(metadata={"description": "The library's WEB_CHECKOUT: false, borrowing on the web "
                                                          "is a request (place a hold) even when a copy is free"})
    max_holds = fields.Integer()
    may_borrow = fields.Boolean(metadata={"description": "Below the loan limit, not provisional, card not expired"})
    may_hold = fields.Boolean(metadata={"description": "Below the hold limit"})
    keep_history = fields.Boolean()
    provisional = fields.Boolean(metadata={"description": "Registered online and not approved yet (user-service's "
                                                          "account): may hold, not borrow"})
    awaiting = fields.String(allow_none=True, metadata={
        "enum": ["email_confirmation", "librarian_approval", None],
        "description": "While provisional, what approves the account: confirming its e-mail address (or a "
                       "librarian), or a librarian alone"})
    loan = fields.Nested(LoanSchema, allow_none=True, metadata={"description": "With book_id: your loan of it"})
    hold = fields.Nested(HoldSchema, allow_none=True, metadata={"description": "With book_id: your hold on it"})


class PatronClosedSchema(ma.Schema):
    username = fields.String()
    holds_cancelled = fields.Integer()


RULE_CODE = validate.Regexp(r"^([a-z0-9_-]{1,32}|\*)\Z", error="A category or type code (a-z, 0-9, - and _), "
                                                             "or * for every one")


class CirculationRuleSchema(ma.Schema):
    patron_category = fields.String(metadata={"description": "A patron category's code, or * for every one"})
    item_type = fields.String(metadata={"description": "An item type's code, or * for every one"})
    loan_days = fields.Float()
    max_renewals = fields.Integer()
    no_renewal_before_days = fields.Integer(allow_none=True)
    max_loans = fields.Integer(metadata={"description": "Loans of the items this rule covers at once; 0: not "
                                                        "for loan"})
    holdable = fields.Boolean()
    hold_pickup_days = fields.Float()
    key = fields.String(dump_only=True, metadata={"description": "How loans name it: \"child × dvd\""})
    from_settings = fields.Boolean(dump_only=True, metadata={
        "description": "The * × * rule nobody has saved: the library's settings (LOAN_DAYS, ...)"})


class CirculationRuleInputSchema(Strict):
    loan_days = fields.Float(required=True, validate=validate.Range(min=0.001, max=3650),
                             metadata={"description": "Days a loan lasts (a fraction for hours)"})
    max_renewals = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100))
    no_renewal_before_days = fields.Integer(load_default=None, allow_none=True, strict=True,
                                            validate=validate.Range(min=0, max=3650), metadata={
                                                "description": "Renewals open this many days before the due "
                                                               "date (Koha's norenewalbefore); null: any time"})
    max_loans = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=1000))
    holdable = StrictBoolean(required=True)
    hold_pickup_days = fields.Float(required=True, validate=validate.Range(min=0.001, max=365))


class ClosedDaySchema(ma.Schema):
    id = fields.Integer()
    day = fields.Date(allow_none=True)
    weekday = fields.Integer(allow_none=True, metadata={"description": "0 Monday ... 6 Sunday"})
    reason = fields.String()


class CalendarSchema(ma.Schema):
    weekdays = fields.List(fields.Nested(ClosedDaySchema), metadata={"description": "Closed every such day"})
    days = fields.List(fields.Nested(ClosedDaySchema), metadata={"description": "Closed dates, from today on"})


class ClosureInputSchema(Strict):
    day = fields.Date(metadata={"description": "A closed date (or the first of several)"})
    last_day = fields.Date(metadata={"description": "With day: closed through this date"})
    weekday = fields.Integer(strict=True, validate=validate.Range(min=0, max=6),
                             metadata={"description": "Instead of day: closed every such day (0 Monday)"})
    reason = OneLine(load_default="", validate=validate.Length(max=100))

    @ma.validates_schema
    def a_day_or_a_weekday(self, data, **_kwargs):
        if ("day" in data) == ("weekday" in data):
            raise ma.ValidationError("Give a day (with last_day for several) or a weekday", "day")
        if "last_day" in data and "day" not in data:
            raise ma.ValidationError("last_day needs day", "last_day")
