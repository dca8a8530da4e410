"""E-mail delivery: notices waiting to be mailed are claimed, sent, and marked, each on its own.

A claim is a short transaction (`sending`, with the time), the SMTP conversation happens outside any
transaction, and the result is written in another: a send that fails is tried again later with a growing
delay, up to MAIL_MAX_ATTEMPTS, then marked `failed` for librarians to see; a notice no mail can be made of
is `failed` at once; one failing notice never holds up the others. A process killed between the SMTP
server's "accepted" and our "sent" leaves the notice `sending`; after MAIL_CLAIM_SECONDS it is sent again,
with the same Message-ID, so a duplicate can be told apart (mail is delivered at least once; the notice
itself exists once).
"""

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate

import sqlalchemy as sa
from flask import current_app

from library_common import metrics, tracing
from library_common.errors import DependencyUnavailable, NotFound
from library_common.text import one_line
from library_common.transactions import transaction

from . import notices
from .models import Notice, db

log = logging.getLogger(__name__)
MESSAGE_ID_DOMAIN = "notifications.library"


@dataclass(frozen=True)
class MailSettings:
    sender: str
    max_attempts: int
    retry_seconds: float
    claim_seconds: float
    batch: int = 50

    @classmethod
    def from_settings(cls, settings):
        return cls(sender=settings["MAIL_FROM"], max_attempts=settings["MAIL_MAX_ATTEMPTS"],
                   retry_seconds=settings["MAIL_RETRY_SECONDS"], claim_seconds=settings["MAIL_CLAIM_SECONDS"])

    def backoff(self, attempts):
        """Seconds before attempt number `attempts + 1`: doubling, at most an hour."""
        return min(3600, self.retry_seconds * 2 ** (attempts - 1))


class SmtpTransport:
    """SMTP (SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_STARTTLS): the local mail catcher under
    `make run`, any relay elsewhere."""

    def __init__(self, host, port, user="", password="", starttls=False, timeout=10):
        self.host, self.port, self.user, self.password, self.starttls, self.timeout = (
            host, port, user, password, starttls, timeout)

    def send(self, message):
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(message)


class SesTransport:
    """Amazon SES's API (MAIL_TRANSPORT=ses in AWS): the task's role may send as the verified identity."""

    def __init__(self, client):
        self._client = client

    def send(self, message):
        self._client.send_email(Content={"Raw": {"Data": message.as_bytes()}})


def transport_from_settings(settings):
    if settings["MAIL_TRANSPORT"] == "ses":
        import boto3  # only in AWS

        return SesTransport(boto3.client("sesv2"))
    return SmtpTransport(settings["SMTP_HOST"], settings["SMTP_PORT"], settings["SMTP_USER"],
                         settings["SMTP_PASSWORD"], settings["SMTP_STARTTLS"])


def message_for(notice, sender):
    """The mail of a notice (or a Letter). The subject is folded onto one line (a title may hold a line break,
    which would start another header); an address with one is refused by the e-mail library, as folding it
    would only turn the rest into another recipient."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = notice.email_to
    message["Subject"] = one_line(notice.subject)
    message["Date"] = formatdate(localtime=False)
    # The same notice always has the same Message-ID: a resend after a crash is recognisably the same mail.
    message["Message-ID"] = f"<notice-{notice.dedupe_key.replace(':', '-')}@{MESSAGE_ID_DOMAIN}>"
    message.set_content(notice.body_text)
    message.add_alternative(notice.body_html, subtype="html")
    return message


def deliver_due(transport, mail, now, accounts):
    """Send every notice whose time has come; (sent, failed for good) counts. `accounts` (neighbours.Accounts)
    makes the account links as they are sent."""
    release_stale_claims(mail, now)
    outcomes = []
    for notice_id, traceparent in claim(mail, now):
        with tracing.continued(traceparent, "mail notice", **{"library.notice_id": notice_id}):
            outcomes.append(deliver(transport, notice_id, mail, now, accounts))
    return outcomes.count("sent"), outcomes.count("failed")


@dataclass(frozen=True)
class Letter:
    """A mail made at sending time (an account link), with a notice's names for its parts."""

    dedupe_key: str
    email_to: str
    subject: str
    body_text: str
    body_html: str


def letter_for(notice, accounts):
    """What to mail for a notice: the notice itself, or for an account link the mail made now around the link
    user-service makes now (None once the request no longer stands: superseded, expired, address changed)."""
    if notice.link_event_id is None:
        return notice
    made = accounts.mailed_link(notice.link_event_id)
    if made is None:
        return None
    subject, body_text, body_html = notices.account_link_mail(made, current_app.config)
    return Letter(notice.dedupe_key, made["email"], subject, body_text, body_html)


def deliver(transport, notice_id, mail, now, accounts):
    """Mail one claimed notice and record how it went: "sent", "failed" (for good), "pending" (tried again
    later) or "none" (no longer needed). Whatever goes wrong stays with this notice: an error escaping here
    would leave the whole batch `sending`, to be claimed again and fail again every MAIL_CLAIM_SECONDS, and
    never count as failed."""
    try:
        letter = letter_for(db.session.get(Notice, notice_id), accounts)
    except DependencyUnavailable as error:  # user-service could not make the link now: later
        return _failed(notice_id, reason(error), mail, now)
    except Exception as error:  # a notice no mail can be made of would fail the same way every time
        return _failed(notice_id, reason(error), mail, now, permanent=True)
    if letter is None:
        with transaction():
            db.session.execute(sa.update(Notice).where(Notice.id == notice_id).values(
                email_status="none", claimed_at=None, next_attempt_at=None, last_error=NO_LONGER_NEEDED))
        return "none"
    try:
        message = message_for(letter, mail.sender)
    except Exception as error:
        return _failed(notice_id, reason(error), mail, now, permanent=True)
    try:
        with tracing.span("send mail", **{"library.mail_transport": type(transport).__name__}):
            transport.send(message)
    except Exception as error:  # the mail server's refusals, and whatever else its library raises
        return _failed(notice_id, reason(error), mail, now, email_to=letter.email_to)
    with transaction():
        db.session.execute(sa.update(Notice).where(Notice.id == notice_id).values(
            email_status="sent", sent_at=now, claimed_at=None, last_error=None, email_to=letter.email_to))
    metrics.MAIL_SENT.inc()
    return "sent"


NO_LONGER_NEEDED = "Not sent: the link was no longer needed (asked for again, used, or the address changed)"


def reason(error):
    return str(error) or type(error).__name__


def claim(mail, now):
    """Take a batch of due notices (skipping any another worker holds) and mark them being sent: [(id,
    traceparent)]."""
    with transaction():
        due = sa.select(Notice.id).where(Notice.email_status == "pending", Notice.next_attempt_at <= now) \
            .order_by(Notice.next_attempt_at, Notice.id).limit(mail.batch).with_for_update(skip_locked=True)
        return db.session.execute(sa.update(Notice).where(Notice.id.in_(due.scalar_subquery()))
                                  .values(email_status="sending", claimed_at=now, attempts=Notice.attempts + 1)
                                  .returning(Notice.id, Notice.traceparent)).all()


def _failed(notice_id, error, mail, now, permanent=False, email_to=None):
    """Record a failed attempt: tried again after its backoff, or (permanent, or out of attempts) failed for
    good, for librarians to see. Returns the notice's status. `email_to`: where a mail made at sending time
    (an account link) went, for the failed-mail list."""
    with transaction():
        notice = db.session.get(Notice, notice_id)
        notice.email_to = email_to or notice.email_to
        gave_up = permanent or notice.attempts >= mail.max_attempts
        notice.email_status = "failed" if gave_up else "pending"
        notice.next_attempt_at = None if gave_up else now + timedelta(seconds=mail.backoff(notice.attempts))
        notice.claimed_at, notice.last_error = None, error[:500]
    metrics.MAIL_FAILURES.labels(str(gave_up).lower()).inc()
    log.warning("mail send failed for notice %s (attempt %s%s): %s", notice_id, notice.attempts,
                ", giving up" if gave_up else "", error)
    return "failed" if gave_up else "pending"


def release_stale_claims(mail, now):
    """Notices claimed by a process that died mid-send go back to the queue (see the module's doc)."""
    with transaction():
        return db.session.execute(sa.update(Notice).where(
            Notice.email_status == "sending", Notice.claimed_at < now - timedelta(seconds=mail.claim_seconds))
            .values(email_status="pending", claimed_at=None, next_attempt_at=now)).rowcount


def failed_notices(offset, limit):
    statement = sa.select(Notice).where(Notice.email_status == "failed")
    total = db.session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    return db.session.scalars(statement.order_by(Notice.id.desc()).offset(offset).limit(limit)).all(), total


def send_again(notice_id, now):
    """A librarian asks for a failed notice to be tried again (after fixing the address, say)."""
    with transaction():
        notice = db.session.get(Notice, notice_id)
        if notice is None or notice.email_status != "failed":
            raise NotFound(f"No failed notice with id {notice_id}")
        notice.email_status, notice.attempts, notice.next_attempt_at = "pending", 0, now
    return notice
