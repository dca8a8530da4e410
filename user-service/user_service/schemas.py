import marshmallow as ma
from marshmallow import fields, validate

from library_common.auth import ROLES
from library_common.pagination import PageArgs
from library_common.schema import StorableString, USERNAME, NotEmpty, Strict, StrictBoolean, Text

PASSWORD = validate.Length(min=8, max=128, error="Between 8 and 128 characters")
NAME = validate.Length(min=1, max=100, error="Between 1 and 100 characters")


class RegistrationSchema(Strict):
    username = fields.String(required=True, validate=USERNAME)
    password = StorableString(required=True, load_only=True, validate=PASSWORD)
    first_name = Text(required=True, validate=NAME)
    last_name = Text(required=True, validate=NAME)

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


class RegisteredSchema(ma.Schema):
    message = fields.String()
    data = fields.Nested(UserSchema)


class LoginResultSchema(ma.Schema):
    message = fields.String()
    token = fields.String(metadata={"description": "RS256 JWT; send as 'Authorization: Bearer <token>'"})
    user = fields.Nested(UserSchema)


class UserUpdateSchema(NotEmpty, Strict):
    first_name = Text(validate=NAME)
    last_name = Text(validate=NAME)
    role = fields.String(validate=validate.OneOf(ROLES), metadata={"description": "Librarians only"})
    active = StrictBoolean(metadata={"description": "Librarians only"})
    password = StorableString(
        load_only=True, validate=PASSWORD, metadata={"description": "Your own, with current_password"}
    )
    current_password = StorableString(load_only=True, validate=validate.Length(max=128))


class UserListArgs(PageArgs):
    q = Text(validate=validate.Length(max=100), metadata={"description": "Start of a username, first or last name"})


class JwksSchema(ma.Schema):
    keys = fields.List(fields.Dict())
