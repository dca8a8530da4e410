"""gunicorn settings shared by every service: `gunicorn -c python:library_common.gunicorn_conf ...`.

Threaded workers let one process keep serving while a request waits on another service or
on the database; the request log is written by the app itself (with request ids).
"""

import os
import tempfile

from library_common import tracing
from library_common.config import load_settings

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
limit_request_line = 8190  # the most gunicorn allows; longer request lines get its (HTML) 414
accesslog = None
# Should anyone turn gunicorn's own access log on (--access-logfile), it names the path without its query or the
# Referer: either may carry a mailed link's token (the app's own log redacts them: library_common.observability).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# gunicorn 24+ opens a control socket at one fixed path per user; four servers would fight over it.
control_socket_disable = True
# Which proxies may say the client's scheme is the app's to decide (TRUSTED_PROXIES, library_common.proxies):
# gunicorn's own default would believe X-Forwarded-Proto from any process on this machine.
forwarded_allow_ips = ""

# Traces (library_common.tracing): the batch span processor's thread does not survive a fork, so spans start in
# each worker after it is forked, never in the master (where --preload would load the app).
tracing.wait_for_fork()


def post_fork(server, worker):
    tracing.forked()


# Metrics (library_common.metrics): every worker writes its counts to files in one directory per gunicorn, and the
# master serves their sum on METRICS_PORT. prometheus_client picks its multiprocess mode when it is first imported,
# so the directory is named here, before the app is: PROMETHEUS_MULTIPROC_DIR if given, else one named after the
# metrics port under METRICS_DIR (make run: $DATA_DIR/metrics) or the system's temporary directory.
metrics_settings = load_settings({})
if metrics_settings["METRICS_ENABLED"] and metrics_settings["METRICS_PORT"]:
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.join(
        os.environ.get("METRICS_DIR") or tempfile.gettempdir(), f"library-metrics-{metrics_settings['METRICS_PORT']}"))
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)  # the import below writes there already

# Imported only now that the directory is named (see above).
from library_common import metrics  # noqa: E402


def on_starting(server):
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        metrics.empty_multiprocess_directory(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def when_ready(server):
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        metrics.serve(metrics_settings, metrics.multiprocess_registry())


def child_exit(server, worker):
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        metrics.process_exited(worker.pid)
