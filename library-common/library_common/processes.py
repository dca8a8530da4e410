"""Ports and processes of the servers that tests and tools start (standard library only, so the
benchmark's own virtualenv can use it without the services' dependencies)."""

import contextlib
import http.client
import re
import socket
import subprocess
import time
import urllib.request


def wait_until_answering(url, timeout, alive=None):
    """Until `url` answers 200 (a server starting, or coming back after a fault), and the moment it did
    (time.monotonic()). TimeoutError after `timeout` seconds; ChildProcessError as soon as `alive()` says the
    server's process is gone."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return time.monotonic()
        except (OSError, http.client.HTTPException):  # not listening yet, still booting, or not ready (an error status)
            pass
        if alive is not None and not alive():
            raise ChildProcessError(f"the server for {url} has stopped")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.2)


def free_ports(count):
    """`count` different TCP ports nothing listens on right now, for servers a test starts.

    All are held open until every one is chosen: asked one at a time, the kernel may hand out the
    same free port twice, and two services then fight over it.
    """
    with contextlib.ExitStack() as probes:
        sockets = [probes.enter_context(socket.socket()) for _ in range(count)]
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in sockets]


# Where each process of the Procfile serves its /metrics (library_common.metrics), on loopback: make run's ports,
# which make monitor's Prometheus scrapes (monitoring/prometheus.yml). Each is set by its variable, e.g.
# BOOKS_WORKER_METRICS_PORT for books-worker.
METRICS_PORTS = {"books": 9100, "users": 9101, "borrows": 9102, "notifications": 9103, "web": 9104,
                 "books-worker": 9110, "borrows-worker": 9111, "notifications-worker": 9112}


def metrics_port_variable(process):
    return f"{process.upper().replace('-', '_')}_METRICS_PORT"


# Every port a whole system listens on (scripts/stack.py run): a system started beside another (a test's, the
# soak's, the benchmark's) takes free ones for all of them.
STACK_PORTS = ("BOOKS_PORT", "USER_PORT", "BORROW_PORT", "NOTIFICATION_PORT", "WEB_PORT", "MAIL_SMTP_PORT",
               "MAILBOX_PORT", *map(metrics_port_variable, METRICS_PORTS))


def free_stack_ports():
    """{port variable: a free port} for every port of a whole system."""
    return {name: str(port) for name, port in zip(STACK_PORTS, free_ports(len(STACK_PORTS)), strict=True)}


def listening_pids(port):
    """Every process holding the socket that listens on `port` (a gunicorn master and its workers)."""
    listening = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True).stdout
    return sorted({int(pid) for pid in re.findall(r"pid=(\d+)", listening)})


# For a system whose every client calls from this one machine (the test suites, the soak, the benchmark):
# the per-client limits would add all of them up as one client, so they are lifted out of the way. Each
# limit has tests of its own, with numbers of their own.
ONE_MACHINE_LIMITS = {
    "RATE_LIMIT_REGISTER": "100000/hour",
    "RATE_LIMIT_PASSWORD_CHANGE": "100000/hour",
    "RATE_LIMIT_PASSWORD_RESET": "100000/hour",
    "RATE_LIMIT_PASSWORD_LINK_CHECK": "100000/hour",
    "RATE_LIMIT_VERIFICATION_MAIL": "100000/hour",
    "RATE_LIMIT_EXPENSIVE_SEARCH": "100000/minute",
    "RATE_LIMIT_IMPORTS": "100000/hour",
    "LOGIN_FAILURES_PER_CLIENT": "100000",
}
