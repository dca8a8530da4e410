"""Marshmallow building blocks every service's schemas use."""

import marshmallow as ma

USERNAME = ma.validate.Regexp(
    r"^[A-Za-z0-9._-]{3,32}$", error="3 to 32 characters: letters, digits, '.', '_' or '-'"
)


class Strict(ma.Schema):
    """Unknown fields are errors, so a typo never silently does nothing."""

    class Meta:
        unknown = ma.RAISE


class Text(ma.fields.String):
    """A string trimmed of surrounding white space, without NUL bytes (PostgreSQL refuses them)."""

    default_error_messages = {"nul": "Must not contain NUL characters"}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise self.make_error("nul")
        return text.strip()
