"""From the library's event log to notices in the app and by e-mail: each kind, with the right content and
links, at most one per event, as each patron chose."""

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from notification_service import delivery, reading
from notification_service.deps import deps
from notification_service.models import Notice, Preference, db
from notification_service.notices import Draft, render

NOW = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)


def read(app, now=NOW):
    with app.app_context():
        return reading.read_feeds(deps().feeds, deps().accounts, now)


def send(app, now=NOW):
    with app.app_context():
        return delivery.deliver_due(deps().transport, deps().mail, now, deps().accounts)


def verified(logs, username="alice", email="alice@example.org", first_name="Alice"):
    """An account with a verified address: its events (which name nobody) and user-service's contact."""
    logs["users"].add("account.registered", username, role="patron")
    logs["users"].add("account.email_verified", username)
    logs["directory"].people[username] = {"first_name": first_name, "email": email}


def link_asked(logs, event_type, email, token, purpose="verify", username="alice", first_name="Alice",
               expires_at="2026-11-29T12:00:00+00:00"):
    """An event asking for an account link, and the link user-service makes for it when the mail is sent."""
    payload = {} if event_type == "account.email_verification_requested" else {"purpose": purpose}
    event_id = logs["users"].add(event_type, username, **payload)
    logs["directory"].links[event_id] = {"username": username, "first_name": first_name, "email": email,
                                         "purpose": purpose, "token": token, "expires_at": expires_at}
    return event_id


def hold_ready(logs, username="alice", hold_id=7, **more):
    logs["borrows"].add("hold.ready", username, hold_id=hold_id, book_id=3, title="Dune", barcode="1000000003",
                        pickup_by="2026-12-04T12:00:00+00:00", **more)


def test_a_ready_hold_is_told_in_the_app_and_by_mail(app, client, logs, mailbox, patron):
    verified(logs)
    hold_ready(logs)

    assert read(app) == {"users": 0, "borrows": 1}
    assert send(app) == (1, 0)

    inbox = client.get("/notifications", headers=patron).json
    assert [(n["kind"], n["subject"], n["read"]) for n in inbox] == [
        ("hold_ready", "Ready for you: “Dune” (until 4 December 2026)", False)]
    assert inbox[0]["link"] == "http://library.test/books/3"
    assert inbox[0]["body"] == ("The book you asked for, “Dune”, is waiting for you on the hold shelf. Please collect "
                                "it by 4 December 2026; after that it goes to the next reader in line.")  # no greeting
    [mail] = mailbox.to("alice@example.org")
    assert mail["Subject"] == "Ready for you: “Dune” (until 4 December 2026)"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Dear Alice," in text and "Riverside Library" in text and "http://library.test/books/3" in text
    assert '<a href="http://library.test/books/3"' in html and "<strong>“Dune”</strong>" in html
    assert mail["Message-ID"].startswith("<notice-borrows-")


def test_an_event_read_twice_makes_one_notice(app, client, logs, mailbox, patron):
    verified(logs)
    hold_ready(logs)
    read(app)
    with app.app_context():  # as if the cursor had not been saved: the same events come again
        db.session.execute(db.text("DELETE FROM feed_cursors"))
        db.session.commit()

    assert read(app) == {"users": 0, "borrows": 0}
    send(app)
    send(app)
    assert len(client.get("/notifications", headers=patron).json) == 1
    assert len(mailbox.to("alice@example.org")) == 1


def test_several_loans_due_one_day_are_one_digest(app, client, logs, mailbox, patron):
    verified(logs)
    logs["borrows"].add("loans.due_soon", "alice", due_date="2026-11-30T10:00:00+00:00", loans=[
        {"loan_id": 1, "book_id": 1, "title": "Dune", "due_date": "2026-11-30T10:00:00+00:00"},
        {"loan_id": 2, "book_id": 2, "title": "Emma", "due_date": "2026-11-30T10:00:00+00:00"}])

    read(app)
    send(app)

    [mail] = mailbox.to("alice@example.org")
    assert mail["Subject"] == "2 books are due 30 November 2026"
    assert "  - Dune\n  - Emma" in mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert client.get("/notifications", headers=patron).json[0]["link"] == "http://library.test/my/borrows"


@pytest.mark.parametrize("event_type, payload, kind, subject", [
    ("loans.overdue", {"days": 7, "loans": [{"loan_id": 1, "title": "Dune", "due_date": "2026-11-20T10:00:00+00:00"}]},
     "overdue", "“Dune” is overdue"),
    ("hold.expiring", {"hold_id": 1, "book_id": 3, "title": "Dune", "pickup_by": "2026-11-28T12:00:00+00:00"},
     "hold_expiring", "Last day to collect “Dune”"),
    ("hold.expired", {"hold_id": 1, "book_id": 3, "title": "Dune", "by_staff": False}, "hold_ended",
     "Your hold on “Dune” has expired"),
    ("hold.cancelled", {"hold_id": 1, "book_id": 3, "title": "Dune", "by_staff": True}, "hold_ended",
     "Your hold on “Dune” was cancelled"),
])
def test_each_kind_of_notice(app, client, logs, mailbox, patron, event_type, payload, kind, subject):
    verified(logs)
    logs["borrows"].add(event_type, "alice", **payload)

    read(app)
    send(app)

    assert [(n["kind"], n["subject"]) for n in client.get("/notifications", headers=patron).json] == [(kind, subject)]
    assert [mail["Subject"] for mail in mailbox.to("alice@example.org")] == [subject]


def test_nothing_is_told_of_what_a_patron_does_themselves(app, client, logs, patron):
    verified(logs)
    logs["borrows"].add("hold.cancelled", "alice", hold_id=1, book_id=3, title="Dune", by_staff=False)
    logs["borrows"].add("loan.made", "alice", loan_id=1, book_id=3, title="Dune", barcode="1",
                        due_date="2026-12-11T10:00:00+00:00")
    logs["borrows"].add("hold.placed", "alice", hold_id=2, book_id=4, title="Emma")

    read(app)

    assert client.get("/notifications", headers=patron).json == []  # receipts are off by default


def test_nothing_is_mailed_to_an_address_not_yet_verified(app, client, logs, mailbox, patron):
    logs["users"].add("account.registered", "alice", role="patron")
    logs["directory"].people["alice"] = {"first_name": "Alice", "email": None}
    link_asked(logs, "account.email_verification_requested", "alice@example.org", "verify-token")
    hold_ready(logs)

    read(app)
    send(app)

    [mail] = mailbox.to("alice@example.org")  # the verification itself, and nothing else
    assert mail["Subject"] == "Please confirm your e-mail address"
    assert "http://library.test/account/verify?token=verify-token" in mail.get_body(("plain",)).get_content()
    assert [n["kind"] for n in client.get("/notifications", headers=patron).json] == ["hold_ready"]


def test_password_links_and_a_changed_password(app, client, logs, mailbox, patron):
    verified(logs)
    link_asked(logs, "account.password_reset_requested", "alice@example.org", "reset-token", "reset")
    logs["users"].add("account.password_changed", "alice", via="reset_link")

    read(app)
    send(app)

    subjects = sorted(mail["Subject"] for mail in mailbox.to("alice@example.org"))
    assert subjects == ["Reset your library password", "Your password was changed"]
    reset = next(m for m in mailbox.to("alice@example.org") if m["Subject"].startswith("Reset"))
    assert "http://library.test/reset-password?token=reset-token" in reset.get_body(("plain",)).get_content()
    assert [n["kind"] for n in client.get("/notifications", headers=patron).json] == ["account"]


def test_a_link_says_until_when_it_works(app, logs, mailbox):
    verified(logs)
    link_asked(logs, "account.password_reset_requested", "alice@example.org", "welcome-token", "welcome")

    read(app)
    send(app)

    [mail] = mailbox.to("alice@example.org")
    assert mail["Subject"] == "Welcome to Riverside Library: choose your password"
    assert "The link works until 29 November 2026, 12:00 UTC." in mail.get_body(("plain",)).get_content()
    assert "http://library.test/reset-password?token=welcome-token" in mail.get_body(("html",)).get_content()


def test_a_changed_address_is_told_to_the_previous_one_and_confirmed_at_the_new_one(app, client, logs, mailbox,
                                                                                    patron):
    verified(logs, email="old@example.org")
    logs["users"].add("account.email_changed", "alice", previous_email="old@example.org")
    link_asked(logs, "account.email_verification_requested", "new@example.org", "verify-token")
    logs["directory"].people["alice"]["email"] = None  # not verified yet
    hold_ready(logs)

    read(app)
    read(app)  # the same events again (read at least once) make nothing more
    send(app)

    [told] = mailbox.to("old@example.org")
    [confirm] = mailbox.to("new@example.org")
    assert told["Subject"] == "Your library e-mail address was changed"
    assert "new@example.org" not in told.get_body(("plain",)).get_content()  # the old address learns nothing
    assert confirm["Subject"] == "Please confirm your e-mail address"
    # neither address has the account's mail now: the hold is told in the app only, until new@ is confirmed
    assert [n["kind"] for n in client.get("/notifications", headers=patron).json] == ["hold_ready"]


def test_preferences_choose_the_channels(app, client, logs, mailbox, patron):
    verified(logs)
    chosen = client.put("/preferences", headers=patron,
                        json={"choices": {"hold_expiring": "in_app", "overdue": "email", "hold_ready": "email"}})
    logs["borrows"].add("hold.expiring", "alice", hold_id=1, book_id=3, title="Dune",
                        pickup_by="2026-11-28T12:00:00+00:00")
    logs["borrows"].add("loans.overdue", "alice", days=1,
                        loans=[{"loan_id": 1, "title": "Emma", "due_date": "2026-11-26T10:00:00+00:00"}])
    hold_ready(logs)

    read(app)
    send(app)

    assert {p["kind"]: p["channels"] for p in chosen.json}["hold_ready"] == "both"  # the app always shows it
    assert sorted(n["kind"] for n in client.get("/notifications", headers=patron).json) == [
        "hold_expiring", "hold_ready"]
    assert sorted(m["Subject"] for m in mailbox.to("alice@example.org")) == [
        "Ready for you: “Dune” (until 4 December 2026)", "“Emma” is overdue"]


def test_security_notices_are_mailed_whatever_the_patron_chose(app, client, logs, mailbox, patron):
    verified(logs)

    chosen = client.put("/preferences", headers=patron, json={"choices": {"account": "in_app"}})
    logs["users"].add("account.password_changed", "alice", via="current_password")
    read(app)
    send(app)

    assert {p["kind"]: (p["channels"], p["email_required"]) for p in chosen.json}["account"] == ("both", True)
    assert [m["Subject"] for m in mailbox.to("alice@example.org")] == ["Your password was changed"]
    assert [n["kind"] for n in client.get("/notifications", headers=patron).json] == ["account"]


def test_a_security_notice_chosen_in_the_app_only_before_is_mailed_too(app, client, logs, mailbox, patron):
    verified(logs)
    with app.app_context():  # chosen while the choice was still offered
        db.session.add(Preference(username="alice", kind="account", channels="in_app"))
        db.session.commit()

    offered = {p["kind"]: p for p in client.get("/preferences", headers=patron).json}
    logs["users"].add("account.password_changed", "alice", via="current_password")
    read(app)
    send(app)

    assert (offered["account"]["channels"], offered["account"]["email_required"]) == ("both", True)
    assert (offered["overdue"]["email_required"], offered["hold_ready"]["email_required"]) == (False, False)
    assert len(mailbox.to("alice@example.org")) == 1


def test_receipts_when_the_library_turns_them_on(app, client, logs, mailbox, patron):
    verified(logs)
    logs["borrows"].add("loan.made", "alice", loan_id=1, book_id=3, title="Dune", barcode="1000000003",
                        due_date="2026-12-11T10:00:00+00:00")
    offered_before = [choice["kind"] for choice in client.get("/preferences", headers=patron).json]
    app.config["SEND_RECEIPTS"] = True
    try:
        read(app)
        offered = [choice["kind"] for choice in client.get("/preferences", headers=patron).json]
    finally:
        app.config["SEND_RECEIPTS"] = False

    assert client.get("/notifications", headers=patron).json[0]["subject"] == "Borrowed: “Dune”, due 11 December 2026"
    assert "receipt" not in offered_before and "receipt" in offered  # no choice for what never comes


def test_smtp_down_the_notices_wait_and_go_out_when_it_returns(app, logs, mailbox):
    verified(logs)
    hold_ready(logs)
    read(app)
    mailbox.refusing = True

    assert send(app) == (0, 0)
    mailbox.refusing = False
    assert send(app) == (0, 0)  # not due yet: it waits its backoff
    assert send(app, NOW.replace(second=2)) == (1, 0)
    assert len(mailbox.to("alice@example.org")) == 1


def test_a_notice_that_keeps_failing_is_marked_failed_and_blocks_no_other(app, client, logs, mailbox, tokens):
    verified(logs, "alice", "alice@example.org")
    verified(logs, "bob", "bob@example.org", "Bob")
    hold_ready(logs, "alice", 1)
    hold_ready(logs, "bob", 2)
    read(app)

    class RefusesAlice:
        def send(self, message):
            if message["To"] == "alice@example.org":
                raise OSError("mailbox unavailable")
            deps().transport.send(message)

    def attempt(seconds_later):
        with app.app_context():
            return delivery.deliver_due(RefusesAlice(), deps().mail, NOW.replace(second=seconds_later), deps().accounts)

    def counted(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0

    sent, retried, given_up = (counted("library_mail_sent_total"),
                               counted("library_mail_send_failures_total", gave_up="false"),
                               counted("library_mail_send_failures_total", gave_up="true"))

    outcomes = [attempt(0), attempt(10), attempt(20)]

    assert outcomes == [(1, 0), (0, 0), (0, 1)]  # bob's went at once; alice's failed 3 times, then for good
    assert counted("library_mail_sent_total") == sent + 1
    assert counted("library_mail_send_failures_total", gave_up="false") == retried + 2
    assert counted("library_mail_send_failures_total", gave_up="true") == given_up + 1
    assert len(mailbox.to("bob@example.org")) == 1
    failed = client.get("/notices/failed", headers=tokens.headers("boss", "librarian")).json
    assert [(n["username"], n["attempts"], n["last_error"]) for n in failed] == [("alice", 3, "mailbox unavailable")]
    retried = client.post(f"/notices/{failed[0]['id']}/retry", headers=tokens.headers("boss", "librarian"))
    assert retried.json["email_status"] == "pending"
    assert client.get("/notices/failed", headers=tokens.headers("alice", "patron")).status_code == 403


def test_a_line_break_in_a_title_is_folded_and_injects_no_header(app, client, logs, mailbox, patron):
    verified(logs, "alice", "alice@example.org")
    verified(logs, "bob", "bob@example.org", "Bob")
    logs["borrows"].add("hold.ready", "alice", hold_id=1, book_id=3, title="Dune\r\nBcc: x@evil",
                        barcode="1000000003", pickup_by="2026-12-04T12:00:00+00:00")
    hold_ready(logs, "bob", 2)
    read(app)

    assert send(app) == (2, 0)

    folded = "Ready for you: “Dune Bcc: x@evil” (until 4 December 2026)"
    assert [mail["Subject"] for mail in mailbox.to("alice@example.org")] == [folded]
    assert [n["subject"] for n in client.get("/notifications", headers=patron).json] == [folded]
    assert len(mailbox.to("bob@example.org")) == 1
    assert [mail["Bcc"] for mail in mailbox.messages] == [None, None]


def test_a_notice_stored_with_a_line_break_is_mailed_with_its_subject_folded(app, logs, mailbox):
    verified(logs)
    hold_ready(logs)
    read(app)
    with app.app_context():  # as notices made before subjects were folded were stored
        db.session.execute(sa.update(Notice).values(subject="Dune\r\nBcc: x@evil"))
        db.session.commit()

    assert send(app) == (1, 0)

    [mail] = mailbox.messages
    assert (mail["Subject"], mail["Bcc"]) == ("Dune Bcc: x@evil", None)


def test_any_error_making_or_sending_one_mail_holds_up_no_other(app, logs, mailbox, caplog):
    for name in ("alice", "bob", "carol"):
        verified(logs, name, f"{name}@example.org", name.title())
    for hold_id, name in enumerate(("alice", "bob", "carol"), start=1):
        hold_ready(logs, name, hold_id)
    read(app)
    with app.app_context():  # an address no mail can be made for (a line break in it would add a recipient)
        db.session.execute(sa.update(Notice).where(Notice.username == "alice")
                           .values(email_to="alice@example.org\r\nBcc: x@evil"))
        db.session.commit()

    class RefusesBobOddly:  # as an unexpected error of a mail library would
        def send(self, message):
            if message["To"] == "bob@example.org":
                raise ValueError("odd")
            deps().transport.send(message)

    with app.app_context():
        outcome = delivery.deliver_due(RefusesBobOddly(), deps().mail, NOW, deps().accounts)
        status = {n.username: (n.email_status, n.attempts) for n in db.session.query(Notice)}
        alice_s_reason = db.session.query(Notice.last_error).filter_by(username="alice").scalar()

    assert outcome == (1, 1)
    assert [mail["To"] for mail in mailbox.messages] == ["carol@example.org"]
    assert status["alice"] == ("failed", 1) and "linefeed" in alice_s_reason  # it can never work: failed at once
    assert status["bob"] == ("pending", 1)  # a send error: tried again later, as any other
    assert sum("mail send failed" in message for message in caplog.messages) == 2


def test_librarians_see_failed_mail_without_its_link_s_token_and_the_retry_still_mails_it(app, client, logs,
                                                                                         mailbox, tokens):
    librarian = tokens.headers("boss", "librarian")
    link_asked(logs, "account.password_reset_requested", "alice@example.org", "reset-token", "reset")
    read(app)
    with app.app_context():  # as if it had failed MAIL_MAX_ATTEMPTS times; made before notices kept a summary
        db.session.execute(sa.update(Notice).values(email_status="failed", summary=""))
        db.session.commit()

    listed = client.get("/notices/failed", headers=librarian)
    retried = client.post(f"/notices/{listed.json[0]['id']}/retry", headers=librarian)
    send(app, datetime.now(timezone.utc))  # the retry is due from the time it was asked for

    for answer in (listed, retried):
        assert "reset-token" not in answer.get_data(as_text=True)
    assert listed.json[0]["link"] == "http://library.test/reset-password?token=(hidden)"
    assert "http://library.test/reset-password?token=(hidden)" in listed.json[0]["body"]
    [mail] = mailbox.to("alice@example.org")
    assert "http://library.test/reset-password?token=reset-token" in mail.get_body(("plain",)).get_content()


def test_reading_and_counting_in_the_app(app, client, logs, patron, tokens):
    verified(logs)
    hold_ready(logs, hold_id=1)
    logs["borrows"].add("hold.expired", "alice", hold_id=2, book_id=4, title="Emma", by_staff=False)
    read(app)
    first, second = client.get("/notifications", headers=patron).json

    assert client.get("/notifications/unread-count", headers=patron).json == {"unread": 2}
    assert client.post(f"/notifications/{second['id']}/read", headers=patron).json["read"] is True
    assert [n["id"] for n in client.get("/notifications", headers=patron).json] == [first["id"], second["id"]]
    assert [n["id"] for n in client.get("/notifications?unread=true", headers=patron).json] == [first["id"]]
    assert client.post(f"/notifications/{first['id']}/read", headers=tokens.headers("bob")).status_code == 404
    assert client.post("/notifications/read", headers=patron).json == {"marked": 1}
    assert client.get("/notifications/unread-count", headers=patron).json == {"unread": 0}


def test_a_deleted_account_s_notices_go_with_it(app, client, logs, patron):
    verified(logs)
    hold_ready(logs)
    logs["users"].add("account.deleted", "alice")
    logs["directory"].people.pop("alice")

    read(app)

    with app.app_context():
        assert db.session.query(Notice).filter_by(username="alice").count() == 0


def test_a_source_that_cannot_be_read_waits_and_the_other_goes_on(app, logs, client, patron):
    verified(logs)
    hold_ready(logs)
    logs["users"].add("account.password_changed", "alice", via="current_password")
    logs["borrows"].fake.down = True

    assert read(app) == {"users": 1, "borrows": 0}
    logs["borrows"].fake.down = False
    assert read(app) == {"users": 0, "borrows": 1}
    assert client.get("/notifications/unread-count", headers=patron).json == {"unread": 2}


def test_without_user_service_nothing_is_made_until_it_is_back(app, logs, client, patron):
    """The events name nobody's address: whom to write to is asked of user-service, so while it is down the
    events wait (nothing is lost: the cursor does not move)."""
    verified(logs)
    hold_ready(logs)
    logs["users"].fake.down = True

    assert read(app) == {"users": 0, "borrows": 0}
    logs["users"].fake.down = False
    assert read(app) == {"users": 0, "borrows": 1}
    assert client.get("/notifications/unread-count", headers=patron).json == {"unread": 1}


def test_a_link_is_made_as_it_is_mailed_and_kept_nowhere(app, logs, mailbox):
    verified(logs)
    link_asked(logs, "account.password_reset_requested", "alice@example.org", "live-token", "reset")

    read(app)
    with app.app_context():
        [stored] = db.session.query(Notice).all()
        assert (stored.email_to, stored.link_event_id) == (None, 2 + 1)
        assert "live-token" not in stored.body_text + stored.body_html + (stored.link or "")
    send(app)

    [mail] = mailbox.to("alice@example.org")
    assert "http://library.test/reset-password?token=live-token" in mail.get_body(("plain",)).get_content()
    with app.app_context():
        [stored] = db.session.query(Notice).all()
        assert stored.email_status == "sent" and stored.email_to == "alice@example.org"
        assert "live-token" not in stored.body_text + stored.body_html


def test_a_link_no_longer_needed_is_not_mailed(app, logs, mailbox):
    verified(logs)
    event_id = link_asked(logs, "account.password_reset_requested", "alice@example.org", "live-token", "reset")
    del logs["directory"].links[event_id]  # asked for again, used, or the address changed: user-service says 409

    read(app)
    send(app)

    assert mailbox.to("alice@example.org") == []
    with app.app_context():
        [stored] = db.session.query(Notice).all()
        assert stored.email_status == "none" and "no longer needed" in stored.last_error


def test_someone_trying_an_address_its_owner_has_is_told_to_the_owner(app, logs, mailbox, client, patron):
    verified(logs)
    logs["users"].add("account.email_claim_refused", "alice")

    read(app)
    send(app)

    [mail] = mailbox.to("alice@example.org")
    assert mail["Subject"] == "Someone tried to use your e-mail address at the library"


def test_a_link_mail_that_fails_names_where_it_was_going(app, logs, mailbox):
    """Librarians see where a failed mail was going, also for a link whose address is named as it is sent."""
    verified(logs)
    link_asked(logs, "account.password_reset_requested", "alice@example.org", "live-token", "reset")
    mailbox.refusing = True

    read(app)
    send(app)

    with app.app_context():
        [stored] = db.session.query(Notice).all()
        assert (stored.email_status, stored.email_to, stored.attempts) == ("pending", "alice@example.org", 1)


def test_dates_in_notices_are_the_library_s_local_ones():
    """Noon UTC on 4 December is already the 5th in Auckland: a library there tells its readers the 5th."""
    draft = Draft("hold_ready", "alice", {"title": "Dune", "pickup_by": "2026-12-04T12:00:00+00:00"}, "http://x/")
    settings = {"LIBRARY_NAME": "Harbour Library", "SITE_URL": "http://x"}

    in_utc = render(draft, "Alice", settings | {"LIBRARY_TIMEZONE": "UTC"})[0]
    in_auckland = render(draft, "Alice", settings | {"LIBRARY_TIMEZONE": "Pacific/Auckland"})[0]

    assert (in_utc, in_auckland) == ("Ready for you: “Dune” (until 4 December 2026)",
                                     "Ready for you: “Dune” (until 5 December 2026)")
