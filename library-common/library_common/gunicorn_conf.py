"""gunicorn settings shared by every service: `gunicorn -c python:library_common.gunicorn_conf ...`.

Threaded workers let one process keep serving while a request waits on another service or
on the database; the request log is written by the app itself (with request ids).
"""

import os

from library_common import tracing

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
