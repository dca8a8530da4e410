"""Small defences every app gets from library-common (issue 12, finding 7)."""

import datetime
import logging
from types import SimpleNamespace

import marshmallow as ma
import pytest
from flask import Flask

from library_common import gunicorn_conf
from library_common.app import create_base_app
from library_common.config import load_settings
from library_common.observability import init_request_ids
from library_common.schema import USERNAME


@pytest.mark.parametrize("username", ["alice\n", "alice\r\n", "\nalice", "ali ce", "alice\x00"])
def test_usernames_are_matched_whole(username):
    with pytest.raises(ma.ValidationError):
        USERNAME(username)


def test_a_plain_username_passes():
    assert USERNAME("alice.b_c-9") == "alice.b_c-9"


def test_the_access_log_escapes_control_characters_in_paths(caplog):
    app = Flask(__name__)
    init_request_ids(app)

    @app.get("/books/<path:rest>")
    def echo(rest):
        return "ok"

    with caplog.at_level(logging.INFO, logger="access"):
        app.test_client().get("/books/x%0a2026-01-01 INFO forged%0d%1b[31m")

    lines = [record.getMessage() for record in caplog.records if record.name == "access"]
    assert len(lines) == 1
    assert "\n" not in lines[0] and "\r" not in lines[0] and "\x1b" not in lines[0]
    assert "/books/x\\n2026-01-01 INFO forged\\r\\x1b[31m" in lines[0]


def test_the_access_log_never_holds_a_mailed_links_token(caplog):
    """Issue 13, finding 6: `/account/verify?token=…` and `/reset-password?token=…` are the mailed links."""
    app = Flask(__name__)
    init_request_ids(app)
    app.add_url_rule("/reset-password", "reset", lambda: "ok")

    with caplog.at_level(logging.INFO, logger="access"):
        app.test_client().get("/reset-password?next=%2Fmy&token=s3cret.link&Password=hunter2&client_secret=abc&page=2")

    [line] = [record.getMessage() for record in caplog.records if record.name == "access"]
    assert "s3cret" not in line and "hunter2" not in line and "abc" not in line
    assert "/reset-password?next=%2Fmy&token=[redacted]&Password=[redacted]&client_secret=[redacted]&page=2" in line


def test_gunicorns_own_access_log_would_name_no_query_or_referer():
    """Off (the app logs requests itself), but whoever turns it on must not log a link's token either."""
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    config = Config()
    config.set("access_log_format", gunicorn_conf.access_log_format)
    logger = Logger(config)
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/account/verify?token=s3cret", "PATH_INFO": "/account/verify",
               "QUERY_STRING": "token=s3cret", "SERVER_PROTOCOL": "HTTP/1.1",
               "HTTP_REFERER": "http://library.test/reset-password?token=s3cret", "REMOTE_ADDR": "127.0.0.1"}
    response = SimpleNamespace(status="200 OK", sent=2, headers=[])
    atoms = logger.atoms_wrapper_class(logger.atoms(response, [], environ, datetime.timedelta(seconds=0.01)))

    line = gunicorn_conf.access_log_format % atoms
    assert "s3cret" not in line and '"GET /account/verify HTTP/1.1" 200' in line


def test_routine_polls_that_go_well_are_logged_only_at_debug(caplog):
    app = Flask(__name__)
    init_request_ids(app)
    app.add_url_rule("/events", "events", lambda: "[]")
    app.add_url_rule("/books", "books", lambda: "[]")
    app.add_url_rule("/ready", "ready", lambda: ("no", 503))

    with caplog.at_level(logging.DEBUG, logger="access"):
        for path in ("/events", "/books", "/ready"):
            app.test_client().get(path)

    levels = {record.getMessage().split()[1]: record.levelname for record in caplog.records if record.name == "access"}
    assert levels == {"/events": "DEBUG", "/books": "INFO", "/ready": "INFO"}  # a failing probe still shows


def _base_app(**settings):
    app = create_base_app(__name__, service_name="test", settings=load_settings({}, {"TESTING": True, **settings}))

    @app.get("/")
    def index():
        return "ok"

    return app.test_client()


def test_hsts_only_over_https_as_a_trusted_proxy_reports_it():
    client = _base_app(TRUSTED_PROXIES="127.0.0.1")

    over_https = client.get("/", headers={"X-Forwarded-Proto": "https"})
    over_http = client.get("/")
    spoofed = client.get("/", headers={"X-Forwarded-Proto": "https"}, environ_base={"REMOTE_ADDR": "203.0.113.1"})

    assert over_https.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in over_http.headers
    assert "Strict-Transport-Security" not in spoofed.headers


def test_hsts_when_served_over_https_directly():
    assert "Strict-Transport-Security" in _base_app().get("/", base_url="https://localhost").headers
