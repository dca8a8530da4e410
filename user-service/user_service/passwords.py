"""What a password someone chooses must be (at sign-up, on the account page, through a mailed link): long
enough, not only white space, and not one of the passwords people choose most often, which are the first any
guesser tries (the login throttle slows guessing; it cannot help when the first guess is right)."""

from functools import cache
from importlib import resources

from marshmallow import ValidationError, validate

MIN_LENGTH, MAX_LENGTH = 8, 128
LENGTH = f"Between {MIN_LENGTH} and {MAX_LENGTH} characters"
ONLY_WHITE_SPACE = "A password must have something other than spaces in it"
COMMON = "This password is among the most common ones: choose another"


@cache
def common_passwords():
    """The list shipped with the package (common_passwords.txt), lower-cased: read once per process."""
    text = resources.files(__package__).joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def password_problem(password):
    """Why `password` may not be chosen, or None. One reason at a time, the first that applies, so a form
    shows one message for the field rather than several about the same few characters."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return LENGTH
    if not password.strip():
        return ONLY_WHITE_SPACE
    # Letter case does not make "PassWord1" any less likely a guess; the spaces around it are kept (a password's
    # spaces are part of it), so " password1 " is not "password1" to the hasher, but it is to a guesser.
    if password.strip().lower() in common_passwords():
        return COMMON
    return None


# Published in the OpenAPI document as minLength/maxLength, so clients (and the fuzzer) know.
LENGTH_RULE = validate.Length(min=MIN_LENGTH, max=MAX_LENGTH, error=LENGTH)


class ChosenPassword(validate.Validator):
    """The rest of the rules, beside LENGTH_RULE: marshmallow runs every validator of a field and keeps every
    message, so this one leaves the length to LENGTH_RULE and a field gets one message, never two."""

    def __call__(self, value):
        problem = password_problem(value)
        if problem and problem != LENGTH:
            raise ValidationError(problem)
        return value


PASSWORD_RULES = [LENGTH_RULE, ChosenPassword()]
