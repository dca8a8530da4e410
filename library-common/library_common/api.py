"""The JSON API layer: OpenAPI-documented blueprints whose every error is `{"message": ...}`."""

import functools
import http
import logging

import flask_smorest
import marshmallow as ma
from flask import jsonify, request
from sqlalchemy.exc import DBAPIError, OperationalError
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter, IntegerConverter

from . import auth, rate_limits
from .errors import ServiceError
from .pagination import PAGE_HEADERS_DOC, page_headers

log = logging.getLogger(__name__)

PG_INT_MAX = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<id:name>`: a positive id that fits PostgreSQL's integer; anything else is a 404, not a 500."""

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, min=1, max=PG_INT_MAX)


class UsernameConverter(BaseConverter):
    """`<username:name>`: only what a username can be; anything else is a 404 before any query runs."""

    regex = r"[A-Za-z0-9._-]{1,32}"


class ErrorSchema(ma.Schema):
    message = ma.fields.String(required=True, metadata={"description": "What went wrong, for people"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        metadata={"description": "Per-field reasons, on validation errors"},
    )
    retry_after = ma.fields.Integer(metadata={"description": "On 429: seconds to wait, as in Retry-After"})


class _Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError as error:  # absurdly deep nesting: malformed for our purposes, not a crash
            self._handle_invalid_json_error(error, req)


class Blueprint(flask_smorest.Blueprint):
    """A flask-smorest blueprint whose validation errors are 400s."""

    ARGUMENTS_PARSER = _Parser()

    def add_url_rule(self, rule, endpoint=None, view_func=None, **options):
        """Every operation also documents what the servers in front of the app may answer."""
        view_func = self.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")(view_func)
        view_func = self.alt_response(
            414, schema={"type": "string"}, content_type="text/html",
            description="Request line too long (refused by gunicorn, before the app)",
        )(view_func)
        super().add_url_rule(rule, endpoint, view_func, **options)

    def login_required(self, view):
        """Only for people with a valid token (401 without one, 403 for a service's), and documented as such."""
        return auth.login_required(self._bearer_auth(view))

    def librarian_required(self, view):
        """Only for librarians (401 without a token, 403 for anyone else), and documented as such."""
        return auth.librarian_required(self._bearer_auth(view))

    def token_required(self, view):
        """For anyone with a valid token, a person's or a service's (401 without one), and documented as such."""
        return auth.token_required(self.errors(401)(self.doc(security=BEARER_AUTH)(view)))

    def service_required(self, scope, librarians_too=False):
        """Only for the library's services whose token has `scope` (and librarians, when `librarians_too`), and
        documented as such."""

        def decorate(view):
            return auth.service_required(scope, librarians_too)(self._bearer_auth(view))

        return decorate

    def _bearer_auth(self, view):
        return self.errors(401, 403)(self.doc(security=BEARER_AUTH)(view))

    def paginated(self, args_schema, item_schema, headers=PAGE_HEADERS_DOC):
        """A list: `page`, `per_page` and `args_schema`'s filters in the query string (400 when invalid);
        the view returns `(items, total)` and the answer carries X-Total-Count and Link."""

        def decorate(view):
            @functools.wraps(view)
            def one_page(args, *path_args, **path_kwargs):
                items, total = view(args, *path_args, **path_kwargs)
                return items, 200, page_headers(total, args["page"], args["per_page"])

            one_page = self.response(200, item_schema(many=True), headers=headers)(one_page)
            return self.arguments(args_schema, location="query")(one_page)

        return decorate

    def rate_limited(self, name, when=None):
        """Count calls per client against the app's limit `name` (429 beyond it), and document the 429.
        Goes nearest the view function, so `when` (see rate_limits.rate_limited) gets the parsed arguments."""

        def decorate(view):
            return self.errors(429)(rate_limits.rate_limited(name, when)(view))

        return decorate

    def accepts_upload(self, max_bytes_setting):
        """The one kind of body besides JSON: a multipart form with a file, of up to the app's
        `max_bytes_setting` bytes (the app's MAX_CONTENT_LENGTH stays the limit everywhere else)."""

        def decorate(view):
            view.upload_max_bytes_setting = max_bytes_setting
            return view

        return decorate

    def errors(self, *statuses):
        """Document the error responses a view can give, each with the shared error schema."""

        def decorate(view):
            for status in statuses:
                view = self.alt_response(status, response=http.HTTPStatus(status).name)(view)
            return view

        return decorate


def flatten_validation_errors(messages):
    """webargs reports {"json": {"title": ["Missing data..."]}}; clients want {"title": "Missing data..."}."""
    flat = {}

    def walk(value, path):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, path + [str(key)])
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            flat[".".join(path) or "_schema"] = " ".join(value)
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(inner, path + [str(index)])
        else:
            flat[".".join(path) or "_schema"] = str(value)

    for location_errors in (messages or {}).values():
        walk(location_errors, [])
    return flat


def _error_response(status, message, errors=None, headers=None, retry_after=None):
    body = {"message": message}
    if errors:
        body["errors"] = errors
    if retry_after is not None:
        body["retry_after"] = retry_after
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        data = getattr(error, "data", None) or {}
        if "messages" in data:
            errors = flatten_validation_errors(data["messages"])
            message = errors.pop("_schema", None) or "Invalid input"
            headers = data.get("headers")
            return _error_response(error.code, message, errors, headers)
        message = data.get("message") or error.description or error.name
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        return _error_response(error.code, message, None, headers)


def require_json_bodies(app):
    """A body the API cannot read is refused as such (415), rather than read as no fields at all; a view
    marked `accepts_upload` takes a multipart form instead, up to its own size."""

    @app.before_request
    def refuse_other_media_types():
        if request.method not in ("POST", "PUT", "PATCH") or not request.content_length:
            return None
        if request.routing_exception is not None:  # no such route or method: its own 404 or 405 follows
            return None
        view = app.view_functions.get(request.endpoint)
        upload_limit = getattr(_innermost(view), "upload_max_bytes_setting", None)
        if upload_limit:
            if request.mimetype != "multipart/form-data":
                return _error_response(415, "Send the file as multipart/form-data, in the field 'file'")
            request.max_content_length = app.config[upload_limit]
            return None
        if not request.is_json:
            return _error_response(415, "Send JSON, with 'Content-Type: application/json'")
        return None


def _innermost(view):
    """The view function itself, under the decorators that wrapped it (functools.wraps keeps __wrapped__)."""
    while view is not None and not hasattr(view, "upload_max_bytes_setting") and hasattr(view, "__wrapped__"):
        view = view.__wrapped__
    return view


def register_error_handlers(app, api):
    """Map domain errors and infrastructure failures to JSON; never an HTML page."""

    @app.errorhandler(ServiceError)
    def service_error(error):
        return _error_response(error.status_code, error.message, error.errors, error.headers,
                               getattr(error, "retry_after", None))

    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        log.error("database unavailable: %s", error.orig)
        return _error_response(503, "The database is unavailable; try again shortly")

    @app.errorhandler(DBAPIError)
    def database_error(error):
        log.exception("database error")
        return _error_response(500, "Internal server error")

    @app.errorhandler(HTTPException)
    def http_error(error):
        return api.handle_http_exception(error)

    @app.errorhandler(Exception)
    def unexpected_error(error):
        log.exception("unhandled error")
        return _error_response(500, "Internal server error")


BEARER_AUTH = [{"bearerAuth": []}]
