import marshmallow as ma
from marshmallow import fields, validate

from library_common.auth import ROLES
from library_common.pagination import PageArgs
from library_common.schema import (FullMatch, OneLine, StorableString, USERNAME, NotEmpty, Strict, StrictBoolean,
                                   Text)

from .approval import EMAIL_CONFIRMATION, LIBRARIAN_APPROVAL, awaiting
from .deps import deps

PASSWORD = validate.Length(min=8, max=128, error="Between 8 and 128 characters")
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


def email_field(**kwargs):
    return Text(allow_none=True, validate=EMAIL, **kwargs)


class RegistrationSchema(Strict):
    username = fields.String(required=True, validate=USERNAME)
    password = StorableString(required=True, load_only=True, validate=PASSWORD)
    first_name = OneLine(required=True, validate=NAME)
    last_name = OneLine(required=True, validate=NAME)
    email = email_field(metadata={"description": "Optional; a link to verify it is mailed to it"})

    @ma.validates_schema
    def password_is_not_username(self, data, **kwargs):
        if data.get("password", "").lower() == data.get("username", "").lower():
            raise ma.ValidationError("Password must not be the username", "password")


class LoginSchema(Strict):
    username = Text(required=True, validate=validate.Length(min=1, max=128))
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
    provisional = fields.Boolean(metadata={"description": "Registered online and not approved yet: may log in and "
                                                          "place holds, not borrow"})
    awaiting = fields.Method("_awaiting", allow_none=True, metadata={
        "enum": [EMAIL_CONFIRMATION, LIBRARIAN_APPROVAL, None], "type": "string",
        "description": "While provisional, what approves the account: confirming its e-mail address (or a "
                       "librarian), or a librarian alone; null once it may borrow"})

    def _awaiting(self, user):
        return awaiting(user, deps().self_registration)


class RegisteredSchema(ma.Schema):
    message = fields.String()
    data = fields.Nested(UserSchema)


class LoginResultSchema(ma.Schema):
    message = fields.String()
    token = fields.String(metadata={"description": "RS256 JWT; send as 'Authorization: Bearer <token>'"})
    user = fields.Nested(UserSchema)


class UserUpdateSchema(NotEmpty, Strict):
    first_name = OneLine(validate=NAME)
    last_name = OneLine(validate=NAME)
    role = fields.String(validate=validate.OneOf(ROLES), metadata={"description": "Librarians only"})
    active = StrictBoolean(metadata={"description": "Librarians only"})
    password = StorableString(
        load_only=True, validate=PASSWORD, metadata={"description": "Your own, with current_password"}
    )
    current_password = StorableString(load_only=True, validate=validate.Length(max=128),
                                      metadata={"description": "Needed to change your own password or e-mail"})
    email = email_field(metadata={"description": "Yours (with current_password) or, for librarians, anyone's; "
                                                 "null removes it. A new address is unverified until its link "
                                                 "is used"})


class DeskRegistrationSchema(Strict):
    username = fields.String(required=True, validate=USERNAME)
    first_name = OneLine(required=True, validate=NAME)
    last_name = OneLine(required=True, validate=NAME)
    email = email_field(metadata={"description": "Where the link to choose a first password goes"})


class EmailVerificationSchema(Strict):
    token = fields.String(required=True, validate=LINK_TOKEN, metadata={"description": "From the mailed link"})


class PasswordResetRequestSchema(Strict):
    username_or_email = Text(required=True, validate=validate.Length(min=1, max=254))


class PasswordResetSchema(Strict):
    token = fields.String(required=True, validate=LINK_TOKEN, metadata={"description": "From the mailed link"})
    password = StorableString(required=True, load_only=True, validate=PASSWORD)


class MessageSchema(ma.Schema):
    message = fields.String()


class UserListArgs(PageArgs):
    q = Text(validate=validate.Length(max=100), metadata={"description": "Start of a username, first or last name"})
    provisional = fields.Boolean(metadata={"description": "true: accounts waiting for approval; false: the others"})


class JwksSchema(ma.Schema):
    keys = fields.List(fields.Dict())
