"""make run: the welcome says where to open the library once the site answers; mail goes to the local catcher
by default, to a mail server of the library's own (SMTP_HOST, SMTP_PORT) when one is given, and then no
catcher is started."""

import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import stack  # noqa: E402


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(stack, "data_dir", lambda: tmp_path)


def test_by_default_mail_goes_to_the_catcher_which_starts():
    env = stack.service_environment({"PATH": "/usr/bin"}, {})

    assert env["SMTP_PORT"] == env["MAIL_SMTP_PORT"] and env["MAILBOX_URL"].startswith("http://127.0.0.1:")
    assert "mail" in stack.processes_to_start(ROOT / "Procfile", env)


@pytest.mark.parametrize("procfile", ["Procfile", "Procfile.dev"])
def test_a_real_mail_server_is_honoured_and_the_catcher_not_started(procfile):
    env = stack.service_environment({"PATH": "/usr/bin", "SMTP_HOST": "smtp.example.org", "SMTP_PORT": "587"}, {})

    assert (env["SMTP_HOST"], env["SMTP_PORT"], env["MAILBOX_URL"]) == ("smtp.example.org", "587", "")
    started = stack.processes_to_start(ROOT / procfile, env)
    assert "mail" not in started and {"notifications", "notifications-worker", "web"} <= set(started)
    assert " SMTP_PORT=" not in (ROOT / procfile).read_text()  # the Procfile pins no port over the one given


class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *_args):
        pass


def test_the_welcome_waits_until_the_site_answers(capsys):
    site = HTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    env = stack.service_environment({"PATH": "/usr/bin", "WEB_PORT": str(site.server_port)}, {})
    try:
        stack.welcome_once_ready(env, patience=10)
    finally:
        site.shutdown()

    assert f"open the library: http://127.0.0.1:{site.server_port}" in capsys.readouterr().out


def test_a_site_that_never_answers_is_reported_not_announced(capsys):
    closed = HTTPServer(("127.0.0.1", 0), Health)
    port = closed.server_port
    closed.server_close()  # nothing listens there now
    env = stack.service_environment({"PATH": "/usr/bin", "WEB_PORT": str(port)}, {})

    stack.welcome_once_ready(env, patience=1)

    out = capsys.readouterr().out
    assert "open the library" not in out and f"did not answer at http://127.0.0.1:{port}/health within 1 s" in out
