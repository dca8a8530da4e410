"""Notifications in the pages: the list (unread first), marking read, the count, the choices, the librarians'
failed mail, and the development mailbox."""

import pytest

from .conftest import MAILBOX, NOTIFICATIONS, listing, make_app

pytestmark = pytest.mark.usefixtures("services")


def notice(notice_id=1, read=False, **fields):
    return {"id": notice_id, "kind": "hold_ready", "subject": "Ready for you: “Dune”", "body": "Please collect it.",
            "link": "http://library.test/books/3", "created_at": "2026-11-27T10:00:00+00:00", "read": read,
            "read_at": None, **fields}


def test_the_notifications_page_lists_them_with_mark_as_read(client, log_in_as, services):
    log_in_as("alice")
    services.get(f"{NOTIFICATIONS}/notifications", **listing([notice(2), notice(1, read=True, subject="Earlier")]))

    html = client.get("/notifications").get_data(as_text=True)

    assert html.index("Ready for you") < html.index("Earlier") and html.count("Mark as read") == 1
    assert 'href="http://library.test/books/3"' in html


def test_marking_one_read_with_htmx_swaps_it(client, log_in_as, services):
    log_in_as("alice")
    services.post(f"{NOTIFICATIONS}/notifications/2/read", json=notice(2, read=True))

    html = client.post("/notifications/2/read", headers={"HX-Request": "true"}).get_data(as_text=True)

    assert html.lstrip().startswith('<li id="notice-2" class="notice">') and "Mark as read" not in html


def test_the_header_badge_counts_unread_and_says_nothing_when_it_cannot(client, log_in_as, services):
    log_in_as("alice")
    services.get(f"{NOTIFICATIONS}/notifications/unread-count", json={"unread": 3})

    assert 'aria-label="3 unread">3<' in client.get("/notifications/badge").get_data(as_text=True)
    services.replace("GET", f"{NOTIFICATIONS}/notifications/unread-count", status=503, json={"message": "down"})
    assert "unread" not in client.get("/notifications/badge").get_data(as_text=True)


def test_the_header_badge_loads_with_the_page_and_again_when_a_notice_is_read(client, log_in_as, services):
    log_in_as("alice")
    services.get(f"{NOTIFICATIONS}/notifications/unread-count", json={"unread": 1})
    services.post(f"{NOTIFICATIONS}/notifications/2/read", json=notice(2, read=True))

    page = client.get("/notifications/badge").get_data(as_text=True)
    read = client.post("/notifications/2/read", headers={"HX-Request": "true"})

    assert 'hx-trigger="notices-read from:body"' in page  # after the first load, only when something is read
    assert read.headers["HX-Trigger"] == "notices-read"


def test_choosing_channels(client, log_in_as, services):
    log_in_as("alice")
    chosen = services.put(f"{NOTIFICATIONS}/preferences", json=[])

    response = client.post("/notifications/preferences", data={"kind-overdue": "email", "kind-due_soon": "in_app",
                                                               "kind-hold_ready": "nonsense", "other": "x"})

    assert response.status_code == 302 and response.headers["Location"].endswith("/account#notifications")
    assert chosen.calls[0].request.body == b'{"choices": {"overdue": "email", "due_soon": "in_app"}}'


def test_librarians_see_mail_that_failed_and_try_it_again(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{NOTIFICATIONS}/notices/failed", **listing([notice(5, username="alice", email_to="a@example.org",
                                                                       email_status="failed", attempts=8,
                                                                       last_error="550 no such mailbox")]))
    services.post(f"{NOTIFICATIONS}/notices/5/retry", json=notice(5, email_to="a@example.org", email_status="pending"))

    html = client.get("/manage/notices/failed").get_data(as_text=True)
    retried = client.post("/manage/notices/5/retry")

    assert "550 no such mailbox" in html and "a@example.org" in html
    assert retried.status_code == 302


def test_the_development_mailbox_for_librarians(client, log_in_as, services):
    services.get(f"{MAILBOX}/messages", json=[{"id": "1-ab", "from": "Library", "to": "alice@example.org",
                                               "subject": "Please confirm your e-mail address", "date": "today",
                                               "message_id": "<m@x>"}])
    services.get(f"{MAILBOX}/messages/1-ab", json={"id": "1-ab", "from": "Library", "to": "alice@example.org",
                                                   "subject": "Please confirm", "date": "today", "message_id": "<m@x>",
                                                   "text": "Confirm: http://library.test/account/verify?token=t",
                                                   "html": "", "links": ["http://library.test/account/verify?token=t"]})

    assert client.get("/dev/mailbox").status_code == 302  # visitors log in first
    log_in_as("alice")
    assert client.get("/dev/mailbox").status_code == 403
    log_in_as("boss", "librarian")
    assert "Please confirm your e-mail address" in client.get("/dev/mailbox").get_data(as_text=True)
    assert 'href="http://library.test/account/verify?token=t"' in client.get("/dev/mailbox/1-ab").get_data(
        as_text=True)


def test_there_is_no_mailbox_outside_development(tokens):
    app = make_app(tokens, WTF_CSRF_ENABLED=False, APP_ENV="production", SECRET_KEY="x" * 40,
                   SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    with client.session_transaction() as session:
        session["token"], session["_user_id"] = tokens.token("boss", "librarian"), "boss"

    assert client.get("/dev/mailbox").status_code == 404
