"""The development mail catcher: every message a real SMTP client sends is kept, and listed and shown by its
small JSON API."""

import asyncio
import ipaddress
import json
import os
import shlex
import smtplib
import stat
import string
import threading
import urllib.error
import urllib.request
from email.message import EmailMessage
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller

from library_common.mailcatcher import Keeper, api, arguments
from library_common.processes import free_ports

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def catcher(tmp_path):
    smtp_port, http_port = free_ports(2)
    smtp = Controller(Keeper(tmp_path), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    http = ThreadingHTTPServer(("127.0.0.1", http_port), api(tmp_path))
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield smtp_port, f"http://127.0.0.1:{http_port}"
    http.shutdown()
    smtp.stop()


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def test_a_sent_message_is_listed_and_shown_with_its_links(catcher):
    smtp_port, mailbox = catcher
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Library <l@localhost>", "zoë@example.org", "Prêt: “Dune”"
    message["Message-ID"] = "<notice-users-1@notifications.library>"
    message.set_content("Dear Zoë,\n\nConfirm: http://127.0.0.1:8000/account/verify?token=abc\n")
    with smtplib.SMTP("127.0.0.1", smtp_port) as client:
        client.send_message(message)

    status, content_type, listed = get(f"{mailbox}/messages")
    [summary] = json.loads(listed)
    _status, _type, shown = get(f"{mailbox}/messages/{summary['id']}")

    assert status == 200 and content_type == "application/json; charset=utf-8"
    assert listed.endswith("]\n") and '"to":"zoë@example.org"' in listed  # compact, readable, one line
    assert (summary["subject"], summary["message_id"]) == ("Prêt: “Dune”", "<notice-users-1@notifications.library>")
    assert json.loads(shown)["links"] == ["http://127.0.0.1:8000/account/verify?token=abc"]


def test_a_mail_still_being_written_is_not_listed(catcher, tmp_path):
    """The keeper writes a dot file and renames it when whole; pathlib's * matches dot files, and listing one
    that is renamed meanwhile dropped the connection (a browser test saw it while polling for a mail)."""
    _smtp_port, mailbox = catcher
    (tmp_path / ".1-abc.eml").write_bytes(b"Subject: half")  # as a catcher before this fix named it
    (tmp_path / ".2-def.eml.partial").write_bytes(b"Subject: half")

    status, _type, listed = get(f"{mailbox}/messages")

    assert status == 200 and json.loads(listed) == []


@pytest.mark.parametrize("path", ["/messages/nope", "/messages/../../etc/passwd", "/elsewhere"])
def test_anything_else_is_a_json_404(catcher, path):
    _smtp_port, mailbox = catcher

    status, content_type, body = get(mailbox + path)

    assert status == 404 and json.loads(body) == {"message": "No such message"}


def test_mail_is_kept_for_the_owner_alone_whatever_the_umask(tmp_path):
    folder = tmp_path / "mail"
    folder.mkdir(mode=0o755)  # as an earlier catcher left it
    earlier = os.umask(0)
    try:
        keeper = Keeper(folder)
        asyncio.run(keeper.handle_DATA(None, None, SimpleNamespace(content=b"Subject: a reset link\r\n\r\n...")))
        new_folder = Keeper(tmp_path / "new").folder
    finally:
        os.umask(earlier)

    [kept] = folder.glob("*.eml")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(new_folder.stat().st_mode) == 0o700


@pytest.mark.parametrize("procfile", ["Procfile", "Procfile.dev"])
def test_make_run_keeps_the_catcher_on_loopback_even_when_the_site_listens_everywhere(procfile, tmp_path,
                                                                                     monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    import stack

    env = stack.service_environment({"HOST": "0.0.0.0", "PATH": ""}, {name: "postgresql://x/x" for name in
                                                                     stack.SERVICES})
    [command] = [line.split(":", 1)[1] for line in (ROOT / procfile).read_text().splitlines()
                 if line.startswith("mail:")]
    argv = shlex.split(string.Template(command).substitute(env))

    assert argv[:3] == ["python", "-m", "library_common.mailcatcher"]
    assert ipaddress.ip_address(arguments(argv[3:]).host).is_loopback
    assert env["MAILBOX_URL"] == f"http://127.0.0.1:{env['MAILBOX_PORT']}"  # where the site finds it
