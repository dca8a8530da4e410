"""Errors that domain code raises; the API layer turns each into a JSON response.

Domain functions stay free of Flask: they raise one of these, and
:func:`library_common.api.register_error_handlers` maps it to its status code.
"""

import math


class ServiceError(Exception):
    status_code, message = 500, "Internal server error"

    def __init__(self, message=None, *, errors=None, headers=None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.errors = errors
        self.headers = headers or {}


class BadRequest(ServiceError):
    status_code, message = 400, "Bad request"


class Unauthorized(ServiceError):
    status_code, message = 401, "Authentication required"

    def __init__(self, message=None, **kwargs):
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="library"'})
        super().__init__(message, **kwargs)


class Forbidden(ServiceError):
    status_code, message = 403, "You are not allowed to do this"


class NotFound(ServiceError):
    status_code, message = 404, "Not found"


def found(row, message):
    """`row`, or a 404 saying `message` when there is none: `found(db.session.get(Book, 7), "No book with id 7")`."""
    if row is None:
        raise NotFound(message)
    return row


class Conflict(ServiceError):
    status_code, message = 409, "Conflict"


class PreconditionFailed(ServiceError):
    """An If-Match that no longer matches: someone else changed the thing since the caller read it."""

    status_code, message = 412, "Changed since you read it"


class TooManyRequests(ServiceError):
    status_code, message = 429, "Too many requests"

    def __init__(self, message=None, *, retry_after: float, **kwargs):
        self.retry_after = max(1, math.ceil(retry_after))  # whole seconds, as Retry-After counts them
        kwargs.setdefault("headers", {"Retry-After": str(self.retry_after)})
        super().__init__(message, **kwargs)


class DependencyUnavailable(ServiceError):
    """Another service (or the database) could not answer in time."""

    status_code, message = 503, "A service this request depends on is unavailable"


class OutcomeUnknown(DependencyUnavailable):
    """A change was sent but no answer came in time: it may or may not have happened."""

    status_code, message = 504, "A service did not answer in time; the change may still have been made"
