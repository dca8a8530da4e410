import json
import threading
from urllib.parse import parse_qs, urlparse

import pytest
from aiosmtpd.controller import Controller

from library_common import deps
from library_common.processes import free_ports
from library_common.testing import migrated_app
from notification_service import create_app

BORROWS = "http://borrow-service.test"
USERS = "http://user-service.test"


class Mailbox:
    """A real SMTP server (aiosmtpd) keeping every message it accepts; `refusing` makes it answer 451."""

    def __init__(self):
        self.messages, self.refusing = [], False
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        if self.refusing:
            return "451 Try again later"
        from email import message_from_bytes, policy

        with self._lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address):
        return [message for message in self.messages if message["To"] == address]


@pytest.fixture(scope="session")
def smtp_port():
    return free_ports(1)[0]


@pytest.fixture(scope="session")
def smtp_server(smtp_port):
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield mailbox
    controller.stop()


@pytest.fixture
def mailbox(smtp_server):
    smtp_server.messages.clear()
    smtp_server.refusing = False
    return smtp_server


@pytest.fixture(scope="session")
def app(postgres_server_url, tokens, smtp_port):
    app = migrated_app(create_app, postgres_server_url, "notifications", BORROW_SERVICE_URL=BORROWS,
                       USER_SERVICE_URL=USERS, HTTP_RETRIES=0, SMTP_PORT=smtp_port, SITE_URL="http://library.test",
                       LIBRARY_NAME="Riverside Library", MAIL_RETRY_SECONDS=1.0, MAIL_MAX_ATTEMPTS=3)
    deps.replace(app, token_verifier=tokens.verifier())
    return app


class EventLog:
    """A producer's GET /events, answering from `events` (each {"id", "type", "subject", "payload"}), with
    cursors that are the events' ids."""

    def __init__(self, fake_neighbour, base_url):
        self.events, self.down = [], False
        self.fake = fake_neighbour(base_url)
        self.fake.route("GET", r"/events.*", self._answer)

    def add(self, event_type, subject, **payload):
        """Record an event; its id."""
        self.events.append({"id": len(self.events) + 1, "type": event_type, "subject": subject, "payload": payload,
                            "occurred_at": "2026-11-27T10:00:00+00:00"})
        return len(self.events)

    def _answer(self, request, _match):
        query = parse_qs(urlparse(request.url).query)
        after = int((query.get("after") or ["0-0"])[0].split("-")[-1] or 0)
        limit = int(query.get("limit", ["100"])[0])
        page = [event | {"cursor": f"1-{event['id']}"} for event in self.events if event["id"] > after][:limit]
        return 200, {"events": page, "next": page[-1]["cursor"] if page else f"1-{after}"}


class Directory:
    """user-service's answers for the mail (the events name nobody's name or address): `people` {username:
    {first_name, email (verified or None)}} for GET /contacts/<username>, and `links` {event id: the link that
    event asked for} for POST /mailed-links (an event without one: 409, no longer needed)."""

    def __init__(self, fake):
        self.people, self.links = {}, {}
        fake.route("GET", r"/contacts/([^/?]+)$", self._contact)
        fake.route("POST", r"/mailed-links$", self._link)

    def _contact(self, _request, match):
        person = self.people.get(match.group(1))
        return (200, {"username": match.group(1), **person}) if person else (404, {"message": "No such user"})

    def _link(self, request, _match):
        link = self.links.get(json.loads(request.body)["event_id"])
        return (200, link) if link else (409, {"message": "This link is no longer needed"})


@pytest.fixture
def logs(fake_neighbour):
    """The two event logs notification-service reads, the service token it asks user-service for, and
    user-service's answers for the mail (`logs["directory"]`)."""
    users = EventLog(fake_neighbour, USERS)
    users.fake.route("POST", r"/service-tokens$", lambda _request, _match: (200, {"token": "t", "expires_in": 900}))
    return {"borrows": EventLog(fake_neighbour, BORROWS), "users": users, "directory": Directory(users.fake)}


@pytest.fixture
def patron(tokens):
    return tokens.headers("alice", "patron")
