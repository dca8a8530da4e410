"""What the soak's and the benchmark's locust users share (standard library only: both run in virtualenvs
of their own, with library-common installed without its dependencies)."""


class CheckedCalls:
    """A mix-in for a locust user: `call` records each answer whose status is in `ok` as a success, any
    other (a 5xx, an unexpected refusal) as a failure with the start of its body."""

    ok = frozenset({200, 201, 204, 409})  # 409: no copy free, already holding it, at the limit

    def call(self, method, url, name, ok=None, **kwargs):
        with self.client.request(method, url, name=name, catch_response=True, **kwargs) as response:
            if response.status_code in (ok or self.ok):
                response.success()
            else:
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")
            return response
