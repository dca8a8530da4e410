"""Small defences every app gets from library-common (issue 12, finding 7)."""

import logging

import marshmallow as ma
import pytest
from flask import Flask

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
