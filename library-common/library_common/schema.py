"""Marshmallow building blocks every service's schemas use."""

import marshmallow as ma

from .text import breaks_the_line


class FullMatch(ma.validate.Regexp):
    """A Regexp validator matched against the whole value: Python's `$` also matches before a final newline,
    so "alice\n" would pass `^[a-z]+$`. The pattern is still published in the OpenAPI document, where
    (ECMA-262) `$` means the end of the text."""

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ma.ValidationError(self._format_error(value))
        return value


USERNAME = FullMatch(r"^[A-Za-z0-9._-]{3,32}$", error="3 to 32 characters: letters, digits, '.', '_' or '-'")


class Strict(ma.Schema):
    """Unknown fields are errors, so a typo never silently does nothing."""

    class Meta:
        unknown = ma.RAISE


NO_NUL = "^[^\\u0000]*$"
ONE_LINE = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"  # library_common.text's line breakers, as ECMA-262


class StorableString(ma.fields.String):
    """A string PostgreSQL and the password hasher can take: no NUL bytes, no lone surrogates. Kept as sent
    (a password's spaces are part of it)."""

    default_error_messages = {
        "nul": "Must not contain NUL characters",
        "unicode": "Must be valid Unicode text",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise self.make_error("nul")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate such as "\ud800": nothing downstream can take it
            raise self.make_error("unicode") from exc
        return text


class Text(StorableString):
    """A string trimmed of surrounding white space, without NUL bytes (PostgreSQL refuses them)."""

    def __init__(self, *args, **kwargs):
        validators = kwargs.get("validate") or []
        has_pattern = any(isinstance(v, ma.validate.Regexp) for v in
                          (validators if isinstance(validators, list | tuple) else [validators]))
        if not has_pattern:  # say so in the OpenAPI document, so clients (and fuzzers) know
            kwargs["metadata"] = {"pattern": NO_NUL, **kwargs.get("metadata", {})}
        super().__init__(*args, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class OneLine(Text):
    """Text for one line (a title, a name): a line break, tab or other control character is refused, since it
    would bend a mail header, a log line or a label. `library_common.text.one_line` folds such text instead,
    where refusing is not an option (an imported record)."""

    default_error_messages = {"line": "Must be one line: no line breaks, tabs or other control characters"}

    def __init__(self, *args, **kwargs):  # published, so clients (and fuzzers) know
        kwargs["metadata"] = {"pattern": ONE_LINE, **kwargs.get("metadata", {})}
        super().__init__(*args, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if breaks_the_line(text):
            raise self.make_error("line")
        return text


class StrictBoolean(ma.fields.Boolean):
    """JSON true or false only: 0, 1, "yes" and friends are errors in a JSON body."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):  # 0 == False in Python, so a set lookup would let 0 through
            raise self.make_error("invalid", input=value)
        return value


class NotEmpty:
    """A schema mix-in for changes (PATCH): at least one field must be given."""

    @ma.validates_schema
    def not_empty(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Nothing to change: give at least one field")
