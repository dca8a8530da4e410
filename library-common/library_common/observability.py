"""Request ids and logs: every line a request writes carries its id, which travels on to other services."""

import logging
import re
import sys
import time
import unicodedata
import uuid
from urllib.parse import unquote_plus

from flask import g, has_request_context, request

from . import tracing
from .proxies import TrustedProxies, parse_trusted_proxies

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
access_log = logging.getLogger("access")


class _RequestContextFilter(logging.Filter):
    def __init__(self, service_name):
        super().__init__()
        self.service_name = service_name

    def filter(self, record):
        record.service = self.service_name
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        record.trace_id = tracing.current_trace_id()
        return True


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record is logged (test runners swap it and close theirs)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def configure_logging(service_name, level):
    """Log to stderr as `time level service request_id trace_id logger: message`, once per process (the trace id
    empty outside a trace, and whenever tracing is off)."""
    handler = _CurrentStderr()
    handler.addFilter(_RequestContextFilter(service_name))
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(service)s rid=%(request_id)s trace_id=%(trace_id)s "
                          "%(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    logging.getLogger("pgserver").setLevel(logging.WARNING)  # its INFO lines narrate every start and stop


def trust_proxies(app, setting):
    """Read the client's address and scheme from the proxies in front that TRUSTED_PROXIES lists."""
    networks = parse_trusted_proxies(setting)
    if networks:
        app.wsgi_app = TrustedProxies(app.wsgi_app, networks)


def printable(text):
    """`text` with control and line-breaking characters escaped: a `%0a` in a path cannot forge a log line."""
    return "".join(
        character.encode("unicode_escape").decode("ascii")
        if unicodedata.category(character) in ("Cc", "Zl", "Zp") else character
        for character in text
    )


# Query parameters whose values are secrets (a mailed link's `token`): a log line never holds one, since anyone who
# reads the log could use it.
SECRET_PARAMETER = re.compile(r"token|password|secret", re.IGNORECASE)
REDACTED = "[redacted]"


def loggable_path(path, query_string):
    """`path` with its query string (bytes) as it came, except the values of secret parameters."""
    if not query_string:
        return path
    pairs = []
    for pair in query_string.decode(errors="backslashreplace").split("&"):
        name, equals, _value = pair.partition("=")
        pairs.append(f"{name}={REDACTED}" if equals and SECRET_PARAMETER.search(unquote_plus(name)) else pair)
    return f"{path}?{'&'.join(pairs)}"


# Asked every few seconds by machines (a worker reading an event log, probes): logged only at DEBUG when they
# go well, so the log shows what people did.
ROUTINE_PATHS = ("/events", "/health", "/ready")


def init_request_ids(app):
    @app.before_request
    def assign_request_id():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def log_and_echo_request_id(response):
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
            elapsed_ms = (time.perf_counter() - g.request_started) * 1000
            routine = request.path in ROUTINE_PATHS and response.status_code < 400
            access_log.log(
                logging.DEBUG if routine else logging.INFO,
                "%s %s %s %.1fms", printable(request.method),
                printable(loggable_path(request.path, request.query_string)), response.status_code, elapsed_ms,
            )
        return response
