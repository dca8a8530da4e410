import re

import marshmallow as ma
from flask import g
from marshmallow import fields, validate

from library_common.auth import ROLES
from library_common.clock import now
from library_common.pagination import PageArgs
from library_common.schema import (FullMatch, OneLine, StorableString, USERNAME, NotEmpty, Strict, StrictBoolean,
                                   Text)

from . import cards
from .accounts import NO_PASSWORD, NO_PASSWORD_YET
from .approval import EMAIL_CONFIRMATION, LIBRARIAN_APPROVAL, awaiting
from .categories import CODE_RULE
from .deps import deps
from .passwords import PASSWORD_RULES

NAME = validate.Length(min=1, max=100, error="Between 1 and 100 characters")
NOT_AN_EMAIL = "Not a valid e-mail address"
# What an address may look like, published in the OpenAPI document (the fuzzer's invalid examples must all be
# refused, so the check is at least this strict); marshmallow's own Email check then refuses what the pattern
# lets through (dots in a row, a label ending in '-'). Addresses with non-ASCII letters are not taken.
EMAIL = [validate.Length(max=254, error="At most 254 characters"),
         FullMatch(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$", error=NOT_AN_EMAIL),
         validate.Email(error=NOT_AN_EMAIL)]
# itsdangerous's URL-safe tokens: base64url parts joined by dots.
LINK_TOKEN = FullMatch(r"^[A-Za-z0-9_=.-]{1,1000}$",
                       error="This link is incomplete or not one we sent: copy the whole link from the e-mail")


CATEGORY_CODE = FullMatch(r"^[a-z0-9_-]{1,32}$", error=CODE_RULE)
PHONE = validate.Length(max=30, error="At most 30 characters")
POSTAL_ADDRESS = validate.Length(max=300, error="At most 300 characters")
STAFF_NOTE = validate.Length(max=1000, error="At most 1000 characters")
# Lines of text (an address, a note): line breaks are kept, as "\n" whichever way they were sent, and every other
# control character is refused (a tab, an escape sequence, U+2028), as one-line text refuses them all.
MULTI_LINE = "^[^\\u0000-\\u0009\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"
_NOT_IN_LINES = re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")


class Lines(Text):
    """Text of one or more lines: "\r\n" and "\r" become "\n"; any other control character is refused."""

    default_error_messages = {"control": "Only letters, spaces and line breaks: no tabs or other control characters"}

    def __init__(self, *args, **kwargs):  # published, so clients (and fuzzers) know
        kwargs["metadata"] = {"pattern": MULTI_LINE, **kwargs.get("metadata", {})}
        super().__init__(*args, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).replace("\r\n", "\n").replace("\r", "\n")
        if _NOT_IN_LINES.search(text):
            raise self.make_error("control")
        return text


def email_field(**kwargs):
    return Text(allow_none=True, validate=EMAIL, **kwargs)


class ContactDetails(Strict):
    """The contact details a librarian keeps for the desk (an empty one, or null, removes it)."""

    phone = OneLine(allow_none=True, validate=PHONE, metadata={"description": "Librarians only"})
    postal_address = Lines(allow_none=True, validate=POSTAL_ADDRESS,
                           metadata={"description": "Librarians only; lines separated by \\n"})
    staff_note = Lines(allow_none=True, validate=STAFF_NOTE,
                       metadata={"description": "Librarians only; never shown to the account holder"})


def category_field(**kwargs):
    return fields.String(validate=CATEGORY_CODE, **kwargs)


class RegistrationSchema(Strict):
    username = fields.String(required=True, validate=USERNAME)
    password = StorableString(required=True, load_only=True, validate=PASSWORD_RULES)
    first_name = OneLine(required=True, validate=NAME)
    last_name = OneLine(required=True, validate=NAME)
    email = email_field(metadata={"description": "Optional; a link to verify it is mailed to it"})

    @ma.validates_schema
    def password_is_not_username(self, data, **kwargs):
        if data.get("password", "").lower() == data.get("username", "").lower():
            raise ma.ValidationError("Password must not be the username", "password")


class LoginSchema(Strict):
    username = Text(required=True, validate=validate.Length(min=1, max=254), metadata={
        "description": "A username, a library card number, or the account's confirmed e-mail address"})
    password = StorableString(required=True, load_only=True, validate=validate.Length(min=1, max=128))


class UserSchema(ma.Schema):
    username = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    role = fields.String(metadata={"enum": list(ROLES)})
    active = fields.Boolean()
    created_at = fields.DateTime()
    email = fields.String(allow_none=True)
    email_verified = fields.Boolean(metadata={"description": "Whether the verification link was used; only a "
                                                             "verified address gets mail other than that link"})
    pending_email = fields.String(allow_none=True, metadata={"description": "A new address waiting for its link "
                                                                            "to be used; until then `email` (verified) "
                                                                            "stays the account's"})
    provisional = fields.Boolean(metadata={"description": "Registered online and not approved yet: may log in and "
                                                          "place holds, not borrow"})
    awaiting = fields.Method("_awaiting", allow_none=True, metadata={
        "enum": [EMAIL_CONFIRMATION, LIBRARIAN_APPROVAL, None], "type": "string",
        "description": "While provisional, what approves the account: confirming its e-mail address (or a "
                       "librarian), or a librarian alone; null once it may borrow"})

    has_password = fields.Method("_has_password", metadata={
        "type": "boolean", "description": "False while the account has no password yet (registered at the desk): "
                                          "its welcome link, or a librarian's POST /users/<username>/desk-password, "
                                          "gives it one"})
    category = fields.String(metadata={"description": "The patron category's code (GET /patron-categories)"})
    card_number = fields.String(allow_none=True, metadata={"description": "The library card's number (null: no card: "
                                                                          "an account from before cards)"})
    card_expires_on = fields.Date(allow_none=True, metadata={"description": "The last day the card is valid (null: "
                                                                            "it never expires)"})
    card_expired = fields.Method("_card_expired", metadata={"type": "boolean", "description": "Whether the card's "
                                                            "last day is past, by the library's date today"})
    phone = fields.String(allow_none=True)
    postal_address = fields.String(allow_none=True, metadata={"description": "Lines separated by \\n"})
    staff_note = fields.String(allow_none=True, metadata={"description": "Only in librarians' answers: the account "
                                                                         "holder never sees it"})

    def _awaiting(self, user):
        return awaiting(user, deps().self_registration)

    def _has_password(self, user):
        return user.password_hash not in (NO_PASSWORD, NO_PASSWORD_YET)

    def _card_expired(self, user):
        return cards.is_expired(user, now())  # as of this answer, whichever rule produced the account

    @ma.post_dump
    def _staff_note_for_librarians_only(self, data, **kwargs):
        """The note is the library's about the holder, not the holder's: it is in the answer only when the caller
        this request verified is a librarian (never in the holder's own /me, login or sign-up answers)."""
        viewer = g.get("principal")
        if viewer is None or not viewer.is_librarian:
            data.pop("staff_note", None)
        return data


class RegisteredSchema(ma.Schema):
    message = fields.String()
    data = fields.Nested(UserSchema)


class LoginResultSchema(ma.Schema):
    message = fields.String()
    token = fields.String(metadata={"description": "RS256 JWT; send as 'Authorization: Bearer <token>'"})
    user = fields.Nested(UserSchema)


class UserUpdateSchema(NotEmpty, ContactDetails):
    first_name = OneLine(validate=NAME)
    last_name = OneLine(validate=NAME)
    role = fields.String(validate=validate.OneOf(ROLES), metadata={"description": "Librarians only"})
    active = StrictBoolean(metadata={"description": "Librarians only"})
    password = StorableString(
        load_only=True, validate=PASSWORD_RULES, metadata={"description": "Your own, with current_password"}
    )
    current_password = StorableString(load_only=True, validate=validate.Length(max=128),
                                      metadata={"description": "Needed to change your own password or e-mail"})
    email = email_field(metadata={"description": "Yours (with current_password) or, for librarians, anyone's; "
                                                 "null removes it. A new address is unverified until its link "
                                                 "is used"})
    category = category_field(metadata={"description": "Librarians only: a code from GET /patron-categories"})
    card_expires_on = fields.Date(allow_none=True, metadata={"description": "Librarians only: renew the card (null: "
                                                                            "it never expires)"})


class DeskRegistrationSchema(ContactDetails):
    username = fields.String(required=True, validate=USERNAME)
    first_name = OneLine(required=True, validate=NAME)
    last_name = OneLine(required=True, validate=NAME)
    email = email_field(metadata={"description": "Where the link to choose a first password goes"})
    category = category_field(metadata={"description": "A code from GET /patron-categories (default: adult)"})


class DeskPasswordSchema(ma.Schema):
    username = fields.String()
    password = fields.String(metadata={"description": "Shown this once: hand it to the patron; it is kept only "
                                                      "hashed"})
    message = fields.String()


class CategorySchema(ma.Schema):
    code = fields.String(metadata={"description": "What the other services store; never changes"})
    name = fields.String()
    patrons = fields.Integer(metadata={"description": "Accounts in this category"})
    default = fields.Boolean(metadata={"description": "The category new accounts get; it cannot be deleted"})


class NewCategorySchema(Strict):
    code = fields.String(required=True, validate=CATEGORY_CODE)
    name = OneLine(required=True, validate=NAME)


class CategoryRenameSchema(Strict):
    name = OneLine(required=True, validate=NAME)


class EmailVerificationSchema(Strict):
    token = fields.String(required=True, validate=LINK_TOKEN, metadata={"description": "From the mailed link"})


class PasswordResetRequestSchema(Strict):
    username_or_email = Text(required=True, validate=validate.Length(min=1, max=254))


class PasswordLinkSchema(Strict):
    token = fields.String(required=True, validate=LINK_TOKEN, metadata={"description": "From the mailed link"})


class PasswordResetSchema(Strict):
    token = fields.String(required=True, validate=LINK_TOKEN, metadata={"description": "From the mailed link"})
    password = StorableString(required=True, load_only=True, validate=PASSWORD_RULES)


class MessageSchema(ma.Schema):
    message = fields.String()


class UserListArgs(PageArgs):
    q = Text(validate=validate.Length(max=100), metadata={"description": "Start of a username, first or last name, "
                                                                         "or a whole card number"})
    provisional = fields.Boolean(metadata={"description": "true: accounts waiting for approval; false: the others"})


class JwksSchema(ma.Schema):
    keys = fields.List(fields.Dict())
