"""One HTTP client for service-to-service calls: timeouts always, retries where safe, request id passed on."""

import logging

import requests
from flask import g, has_request_context, request
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ProtocolError
from urllib3.util.retry import Retry

from . import metrics
from .errors import DependencyUnavailable, OutcomeUnknown

log = logging.getLogger(__name__)


class _Retry(Retry):
    """urllib3's Retry, except that a connection dropped before any answer came is, for an idempotent
    request, retried like one that could not be made (from the connect budget) instead of being a read error.

    A server may close a kept-alive connection whenever it has been idle for its keepalive (gunicorn: 5 s),
    and it does so even if our next request on it has just arrived: we reuse the pooled connection, the
    server resets it, and the request was never served. Sending an idempotent request again is safe, and
    costs no timeout; a read timeout (a ReadTimeoutError, not a ProtocolError) is still never retried.
    """

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if (isinstance(error, ProtocolError) and method is not None and self._is_method_retryable(method)
                and self.connect):
            # Spend a connect retry (and one of the total) instead of a read retry, then restore `read`.
            spent = self.new(connect=self.connect - 1, read=None)
            return Retry.increment(spent, method, url, response, error, _pool, _stacktrace).new(read=self.read)
        return super().increment(method, url, response, error, _pool, _stacktrace)


class ServiceClient:
    def __init__(self, name, base_url, *, connect_timeout, read_timeout, retries, neighbour=None):
        self.name = name  # for people: "The catalogue service is unavailable"
        self.neighbour = neighbour or name  # for the metrics: "books-service"
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        # Only idempotent reads are retried, and never after a read timeout:
        # a slow neighbour must cost one timeout, not several.
        retry = _Retry(
            total=retries,
            connect=retries,
            read=0,
            status=1,
            backoff_factor=0.05,
            allowed_methods=frozenset({"GET", "HEAD"}),
            status_forcelist=(502, 503, 504),
            raise_on_status=False,
        )
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=16)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def request(self, method, path, *, token=None, **kwargs):
        """Send a request; raise DependencyUnavailable when the service cannot answer (or answers 5xx)."""
        headers = kwargs.pop("headers", {})
        if has_request_context():
            if "request_id" in g:
                headers.setdefault("X-Request-ID", g.request_id)
            # Whom we act for: user-service throttles failed logins per client address.
            headers.setdefault("X-Forwarded-For", request.remote_addr or "")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        metrics.NEIGHBOUR_CALLS.labels(self.neighbour).inc()
        try:
            response = self.session.request(
                method, self.base_url + path, headers=headers, timeout=self.timeout, **kwargs
            )
        except requests.ReadTimeout as exc:
            metrics.NEIGHBOUR_FAILURES.labels(self.neighbour, "timeout").inc()
            log.warning("%s did not answer in time: %s %s", self.name, method, path)
            if method not in ("GET", "HEAD"):
                raise OutcomeUnknown(f"The {self.name} did not answer in time; "
                                     "the change may still have been made") from exc
            raise DependencyUnavailable(f"The {self.name} is unavailable; try again shortly") from exc
        except requests.RequestException as exc:
            metrics.NEIGHBOUR_FAILURES.labels(self.neighbour, "unreachable").inc()
            log.warning("%s unreachable: %s %s: %s", self.name, method, path, exc)
            raise DependencyUnavailable(f"The {self.name} is unavailable; try again shortly") from exc
        if response.status_code >= 500:
            metrics.NEIGHBOUR_FAILURES.labels(self.neighbour, "server_error").inc()
            log.warning("%s answered %s to %s %s", self.name, response.status_code, method, path)
            raise DependencyUnavailable(f"The {self.name} is unavailable; try again shortly")
        return response

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)


def client_from_settings(settings, name, url_setting, read_timeout=None):
    """A client for the neighbour at `settings[url_setting]`, named `name` to people and after its setting in the
    metrics (USER_SERVICE_URL: user-service, whatever each caller calls it)."""
    return ServiceClient(
        name,
        settings[url_setting],
        connect_timeout=settings["HTTP_CONNECT_TIMEOUT"],
        read_timeout=read_timeout or settings["HTTP_READ_TIMEOUT"],
        retries=settings["HTTP_RETRIES"],
        neighbour=url_setting.removesuffix("_URL").lower().replace("_", "-"),
    )
