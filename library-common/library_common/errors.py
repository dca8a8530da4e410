"""Errors that domain code raises; the API layer turns each into a JSON response.

Domain functions stay free of Flask: they raise one of these, and
:func:`library_common.api.register_error_handlers` maps it to its status code.
"""


class ServiceError(Exception):
    status_code = 500
    message = "Internal server error"

    def __init__(self, message=None, *, errors=None, headers=None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.errors = errors
        self.headers = headers or {}


class BadRequest(ServiceError):
    status_code = 400
    message = "Bad request"


class Unauthorized(ServiceError):
    status_code = 401
    message = "Authentication required"

    def __init__(self, message=None, **kwargs):
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="library"'})
        super().__init__(message, **kwargs)


class Forbidden(ServiceError):
    status_code = 403
    message = "You are not allowed to do this"


class NotFound(ServiceError):
    status_code = 404
    message = "Not found"


class Conflict(ServiceError):
    status_code = 409
    message = "Conflict"


class TooManyRequests(ServiceError):
    status_code = 429
    message = "Too many requests"

    def __init__(self, message=None, *, retry_after: int, **kwargs):
        kwargs.setdefault("headers", {"Retry-After": str(max(1, int(retry_after)))})
        super().__init__(message, **kwargs)


class DependencyUnavailable(ServiceError):
    """Another service (or the database) could not answer in time."""

    status_code = 503
    message = "A service this request depends on is unavailable"


class OutcomeUnknown(DependencyUnavailable):
    """A change was sent but no answer came in time: it may or may not have happened."""

    status_code = 504
    message = "A service did not answer in time; the change may still have been made"
