"""A local mail catcher for development (`make run`): an SMTP server (aiosmtpd) that accepts every message and
keeps it as a file, and a small JSON API over them that the site's development-only mailbox page reads.

    python -m library_common.mailcatcher --dir .data/mail --smtp-port 1025 --http-port 1080

GET /messages lists them (newest first: id, from, to, subject, date, message_id); GET /messages/<id> adds
the plain text, the HTML and the links found in it. Nothing leaves the machine.
"""

import argparse
import json
import os
import re
import signal
import sys
import threading
import time
import uuid
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller

from .config import MAIL_CATCHER_SMTP_PORT

LINK = re.compile(r"https?://[^\s\"'<>]+")


class Keeper:
    """aiosmtpd's handler: each message becomes `<time>-<id>.eml` in the folder.

    The mail holds live links (confirm an address, choose a password): the folder and its files are the
    owner's alone (0700, 0600), whatever the umask and however an earlier run left the folder."""

    def __init__(self, folder):
        self.folder = folder
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        partial = self.folder / f".{name}.partial"  # not a *.eml until it is whole (pathlib's * matches dot files)
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as file:
            os.fchmod(file.fileno(), 0o600)  # exactly: the umask may have narrowed the mode os.open was asked for
            file.write(envelope.content)
        partial.rename(self.folder / name)  # whole files only, for readers
        return "250 Kept"


def summary(path):
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    return message, {"id": path.stem, "from": message["From"], "to": message["To"], "subject": message["Subject"],
                     "date": message["Date"], "message_id": message["Message-ID"]}


def details(path):
    message, about = summary(path)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    about["text"] = text.get_content() if text else ""
    about["html"] = html.get_content() if html else ""
    about["links"] = sorted(set(LINK.findall(about["text"])))
    return about


def api(folder):
    class Mailbox(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's method name)
            if self.path.rstrip("/") == "/messages":
                paths = sorted((path for path in folder.glob("*.eml") if not path.name.startswith(".")), reverse=True)
                return self._json(200, [summary(path)[1] for path in paths])
            found = re.fullmatch(r"/messages/([0-9a-f-]+)", self.path)
            if found and (folder / f"{found.group(1)}.eml").exists():
                return self._json(200, details(folder / f"{found.group(1)}.eml"))
            return self._json(404, {"message": "No such message"})

        def _json(self, status, body):
            data = (json.dumps(body, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):  # the site asks often; nothing worth a log line
            pass

    return Mailbox


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", required=True, type=Path)
    # loopback unless asked (a container, reached by its neighbours over their network): the mail is not for others
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=MAIL_CATCHER_SMTP_PORT)
    parser.add_argument("--http-port", type=int, default=1080)
    return parser.parse_args(argv)


def main(argv=None):
    args = arguments(argv)
    smtp = Controller(Keeper(args.dir), hostname=args.host, port=args.smtp_port)
    smtp.start()
    http = ThreadingHTTPServer((args.host, args.http_port), api(args.dir))
    threading.Thread(target=http.serve_forever, daemon=True).start()
    print(f"mail catcher: SMTP {args.host}:{args.smtp_port}, mailbox http://{args.host}:{args.http_port}/messages, "
          f"messages kept in {args.dir}", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    http.shutdown()
    smtp.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
