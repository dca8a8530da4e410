"""What the soak's and the benchmark's locust users share (standard library and what locust brings: both run
in virtualenvs of their own, with library-common installed without its dependencies)."""


class CheckedCalls:
    """A mix-in for a locust user: `call` records each answer whose status is in `ok` as a success, any
    other (a 5xx, an unexpected refusal) as a failure with the start of its body."""

    ok = frozenset({200, 201, 204, 409})  # 409: no copy free, already holding it, at the limit

    def call(self, method, url, name, ok=None, **kwargs):
        if not getattr(self, "_resends_reads", False):
            self._resend_reads_on_a_dropped_idle_connection()
        with self.client.request(method, url, name=name, catch_response=True, **kwargs) as response:
            if response.status_code in (ok or self.ok):
                response.success()
            else:
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")
            return response

    def _resend_reads_on_a_dropped_idle_connection(self):
        """A kept-alive connection that the server closed as it lay idle (gunicorn's keepalive, 5 s) fails the
        next request sent on it before any answer comes; HTTP lets a client send an idempotent request again
        then (RFC 9112, 9.3.1), as browsers do. Reads only: a POST is never sent twice. (requests and urllib3
        come with locust.)"""
        from requests.adapters import HTTPAdapter
        from urllib3.util import Retry

        once = Retry(total=1, connect=1, read=1, status=0, other=0, allowed_methods=frozenset({"GET", "HEAD"}),
                     raise_on_status=False)
        self.client.mount("http://", HTTPAdapter(max_retries=once))
        self._resends_reads = True
