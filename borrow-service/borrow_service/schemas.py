from datetime import datetime, timezone

import marshmallow as ma
from marshmallow import fields, validate

from library_common.api import PG_INT_MAX
from library_common.pagination import PageArgs
from library_common.schema import USERNAME, Strict, Text

from .loans import is_overdue

BOOK_ID = validate.Range(min=1, max=PG_INT_MAX)
MAX_BATCH = 100


class LoanRequestSchema(Strict):
    book_id = fields.Integer(required=True, strict=True, validate=BOOK_ID)
    username = Text(validate=USERNAME, metadata={"description": "Defaults to you; librarians may name any patron"})


class LoanSchema(ma.Schema):
    id = fields.Integer()
    username = fields.String()
    book_id = fields.Integer()
    borrow_date = fields.DateTime()
    due_date = fields.DateTime()
    returned = fields.Boolean()
    returned_date = fields.DateTime(allow_none=True)
    renewals = fields.Integer()
    overdue = fields.Function(lambda loan: is_overdue(loan, datetime.now(timezone.utc)), dump_only=True)


class LoanListArgs(PageArgs):
    username = Text(validate=USERNAME)
    book_id = fields.Integer(validate=BOOK_ID)
    active = fields.Boolean()
    overdue = fields.Boolean()


class HistoryArgs(PageArgs):
    active = fields.Boolean(metadata={"description": "true: current loans only"})


class ActiveCountsArgs(ma.Schema):
    book_id = fields.List(
        fields.Integer(validate=BOOK_ID),
        validate=validate.Length(max=MAX_BATCH),
        metadata={"description": f"Repeat for each book (at most {MAX_BATCH}); omit for every book on loan"},
    )


class ActiveCountsSchema(ma.Schema):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "book id -> copies on loan"})


class SettledCountSchema(ma.Schema):
    book_id = fields.Integer()
    active = fields.Integer(metadata={"description": "copies on loan, counted after the borrows in progress"})
