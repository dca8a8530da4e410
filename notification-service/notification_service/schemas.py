import marshmallow as ma
from marshmallow import fields, validate

from library_common.pagination import PageArgs
from library_common.schema import Strict

from .models import CHANNELS, EMAIL_STATUSES
from .notices import KINDS, without_link_tokens

CHOSEN_KINDS = [kind for kind, spec in KINDS.items() if spec.chosen_by_patron]


class NoticeSchema(ma.Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": list(KINDS)})
    subject = fields.String()
    body = fields.Function(lambda notice: notice.summary or notice.body_text,
                           metadata={"type": "string", "description": "The message, plain text"})
    link = fields.String(allow_none=True, metadata={"description": "Where on the site it is about"})
    created_at = fields.DateTime()
    read = fields.Function(lambda notice: notice.read_at is not None, metadata={"type": "boolean"})
    read_at = fields.DateTime(allow_none=True)


class InboxArgs(PageArgs):
    unread = fields.Boolean(load_default=False, metadata={"description": "true: unread ones only"})


class UnreadSchema(ma.Schema):
    unread = fields.Integer()


class MarkedSchema(ma.Schema):
    marked = fields.Integer()


class PreferenceSchema(ma.Schema):
    kind = fields.String(metadata={"enum": CHOSEN_KINDS})
    label = fields.String()
    channels = fields.String(metadata={"enum": list(CHANNELS)})
    in_app_required = fields.Boolean(metadata={"description": "The app always shows it: 'email' means both"})
    email_required = fields.Boolean(metadata={"description": "Always mailed (to a verified address): 'in_app' "
                                                             "means both"})


class PreferencesInputSchema(Strict):
    choices = fields.Dict(keys=fields.String(validate=validate.OneOf(CHOSEN_KINDS)),
                          values=fields.String(validate=validate.OneOf(CHANNELS)), required=True,
                          validate=validate.Length(min=1),
                          metadata={"description": "kind -> 'both', 'email' or 'in_app'"})


class SentNoticeSchema(NoticeSchema):
    """A notice's mail as librarians see it: a link's token is the patron's alone (it would let whoever holds it
    confirm their address or choose their password), so it is hidden; the mail itself keeps it."""

    username = fields.String()
    email_to = fields.String(allow_none=True)
    email_status = fields.String(metadata={"enum": list(EMAIL_STATUSES)})
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)

    @ma.post_dump
    def hide_link_tokens(self, data, **_kwargs):
        data["link"], data["body"] = without_link_tokens(data["link"]), without_link_tokens(data["body"])
        return data
