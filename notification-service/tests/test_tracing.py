"""A notice made from a traced event (a check-in's hold.ready) keeps that trace, and its mail is sent inside it."""

from opentelemetry.trace import SpanKind

from notification_service.models import Notice, db

from .test_notices import hold_ready, read, send, verified

CHECK_IN_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CHECK_IN_SPAN = "00f067aa0ba902b7"


def test_a_check_in_s_trace_goes_on_into_its_notice_and_the_mail_sent(app, logs, mailbox, traced_spans):
    verified(logs)
    hold_ready(logs, traceparent=f"00-{CHECK_IN_TRACE}-{CHECK_IN_SPAN}-01")  # as borrow-service's event log keeps it
    hold_ready(logs, username="alice", hold_id=8)  # an event nobody traced: its notice and mail start no trace

    assert read(app)["borrows"] == 2
    assert send(app) == (2, 0)

    spans = {span.name: span for span in traced_spans.get_finished_spans()
             if format(span.context.trace_id, "032x") == CHECK_IN_TRACE}
    assert format(spans["read borrows event hold.ready"].parent.span_id, "016x") == CHECK_IN_SPAN
    assert spans["read borrows event hold.ready"].kind == SpanKind.CONSUMER
    assert spans["mail notice"].parent.span_id == spans["read borrows event hold.ready"].context.span_id
    assert spans["send mail"].parent.span_id == spans["mail notice"].context.span_id
    assert spans["send mail"].attributes["library.mail_transport"] == "SmtpTransport"
    assert len(mailbox.to("alice@example.org")) == 2
    with app.app_context():
        kept = dict(db.session.execute(db.select(Notice.dedupe_key, Notice.traceparent)).all())
    assert kept["borrows:1"].startswith(f"00-{CHECK_IN_TRACE}-") and kept["borrows:2"] is None
