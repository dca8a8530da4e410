"""For notification-service as it mails (its token's `links:mail` scope): an account's contact, and the link a
mail carries, made at sending time (see contacts)."""

import marshmallow as ma
from marshmallow import fields, validate

from library_common.api import Blueprint
from library_common.auth import MAIL_LINKS
from library_common.clock import now
from library_common.schema import Strict

from .. import contacts
from ..deps import deps

blp = Blueprint("contacts", __name__, description="Whom to greet and where to write, for the service that mails")


class ContactSchema(ma.Schema):
    username = fields.String()
    first_name = fields.String()
    email = fields.String(allow_none=True, metadata={"description": "The verified address, or null"})


class MailedLinkRequest(Strict):
    event_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**63 - 1),
                              metadata={"description": "The event that asked for the link"})


class MailedLinkSchema(ContactSchema):
    email = fields.String(metadata={"description": "Where the link goes (verified or not: it may verify it)"})
    purpose = fields.String(metadata={"enum": ["verify", "reset", "welcome"]})
    token = fields.String(metadata={"description": "For /account/verify?token= or /reset-password?token="})
    expires_at = fields.DateTime()


@blp.route("/contacts/<username:username>")
@blp.service_required(MAIL_LINKS)
@blp.response(200, ContactSchema)
@blp.errors(404)
def contact(username):
    """An account's first name and verified address (404 for no live account)"""
    return contacts.contact_of(username)


@blp.route("/mailed-links", methods=["POST"])
@blp.service_required(MAIL_LINKS)
@blp.arguments(MailedLinkRequest)
@blp.response(200, MailedLinkSchema)
@blp.errors(404, 409)
def mailed_link(body):
    """The link an event asked to mail, made now; 409 once the request no longer stands (superseded, expired,
    the address verified or changed)"""
    return contacts.mailed_link(deps().links, body["event_id"], now())
