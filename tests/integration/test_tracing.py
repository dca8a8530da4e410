"""Traces across every hop, on a system of its own exporting to an OTLP receiver the test runs: one borrow from the
web page is one trace through web-frontend, borrow-service, books-service, user-service and their databases; a
check-in at the desk with a hold waiting goes on, through the event log, into notification-service's worker and
the mail it sends."""

import re
import time
import uuid

import pytest
import requests

from library_common.testing import OtlpReceiver, register_patron

pytestmark = pytest.mark.integration
PASSWORD = "traced-reader-pass"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture(scope="module")
def receiver():
    running = OtlpReceiver()
    yield running
    running.close()


@pytest.fixture(scope="module")
def system(start_stack, tmp_path_factory, receiver):
    with start_stack(tmp_path_factory.mktemp("tracing-data"), "tracing", OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
                     OTEL_BSP_SCHEDULE_DELAY="100",  # ms: spans reach the receiver at once, not after 5 s
                     POLL_SECONDS="1", SELF_REGISTRATION="open") as running:
        yield running


def spans_of_request(receiver, request_id, until, timeout=30):
    """The spans of the trace whose spans carry `request_id`, once `until(spans)` holds (or the time is up)."""
    deadline = time.monotonic() + timeout
    while True:
        tagged = [span for span in receiver.spans if span["attributes"].get("library.request_id") == request_id]
        trace = receiver.trace(tagged[0]["trace_id"]) if tagged else []
        if (trace and until(trace)) or time.monotonic() > deadline:
            return tagged, trace
        time.sleep(0.2)


def services(trace):
    return {span["service"] for span in trace}


def database_spans(trace):
    return {span["service"] for span in trace
            if span["attributes"].get("db.system", span["attributes"].get("db.system.name")) == "postgresql"}


def a_book(system):
    librarian = system.login(*system.librarian)
    added = requests.post(f"{system.books}/books", headers=librarian, timeout=10, json={
        "title": f"Traced {uuid.uuid4().hex[:6]}", "author": "Ann Tracer", "genre": "Traces", "copies": 1})
    added.raise_for_status()
    book_id = added.json()["id"]
    return book_id, requests.get(f"{system.books}/books/{book_id}/items", timeout=10).json()[0]["barcode"]


def borrow_on_the_web(system, username, book_id, request_id):
    browser = requests.Session()
    login_page = browser.get(f"{system.web}/login", timeout=10).text
    browser.post(f"{system.web}/login", timeout=10, data={
        "username": username, "password": PASSWORD, "csrf_token": CSRF.search(login_page).group(1)})
    book_page = browser.get(f"{system.web}/books/{book_id}", timeout=10).text
    # the page it leads back to is another request (and trace): the request id is the borrow's alone
    borrowed = browser.post(f"{system.web}/books/{book_id}/borrow", timeout=10, headers={"X-Request-ID": request_id},
                            data={"csrf_token": CSRF.search(book_page).group(1)}, allow_redirects=False)
    assert borrowed.status_code == 302
    assert "Borrowed!" in browser.get(f"{system.web}/books/{book_id}", timeout=10).text


def test_a_borrow_on_the_web_page_is_one_trace_through_every_service_and_the_databases(system, receiver):
    book_id, _barcode = a_book(system)
    reader = register_patron(system.users, "traced", PASSWORD)
    request_id = f"borrow-{uuid.uuid4().hex}"

    borrow_on_the_web(system, reader, book_id, request_id)

    every_hop = {"web-frontend", "borrow-service", "books-service", "user-service"}
    tagged, trace = spans_of_request(receiver, request_id, lambda spans: services(spans) >= every_hop
                                     and database_spans(spans) >= every_hop - {"web-frontend"})
    assert len({span["trace_id"] for span in tagged}) == 1  # the request id's spans are all in this one trace
    assert services(trace) >= every_hop
    assert database_spans(trace) >= {"borrow-service", "books-service", "user-service"}
    [root] = [span for span in trace if not span["parent_id"]]
    assert root["service"] == "web-frontend" and root["name"] == "POST /books/<int:book_id>/borrow"
    ids = {span["span_id"] for span in trace}
    assert all(span["parent_id"] in ids for span in trace if span is not root)  # one tree, nothing dangling


def test_a_check_in_s_trace_goes_on_into_the_notice_and_the_mail_it_causes(system, receiver):
    book_id, barcode = a_book(system)
    borrower = register_patron(system.users, "traced", PASSWORD)
    borrow_on_the_web(system, borrower, book_id, f"borrow-{uuid.uuid4().hex}")
    waiting = register_patron(system.users, "waiting", PASSWORD, with_email=True)
    token = system.link_token("account.email_verification_requested", waiting)
    requests.post(f"{system.users}/email-verifications", json={"token": token}, timeout=10).raise_for_status()
    requests.post(f"{system.borrows}/holds", headers=system.login(waiting, PASSWORD), json={"book_id": book_id},
                  timeout=10).raise_for_status()
    request_id = f"check-in-{uuid.uuid4().hex}"

    checked_in = requests.post(f"{system.borrows}/checkin", json={"barcode": barcode}, timeout=10,
                               headers={**system.login(*system.librarian), "X-Request-ID": request_id})
    assert checked_in.json()["route"] == "hold_shelf"

    _tagged, trace = spans_of_request(receiver, request_id, lambda spans: any(
        span["name"] == "send mail" for span in spans), timeout=60)
    worker = [span for span in trace if span["service"] == "notification-service-worker"]
    names = {span["name"] for span in worker}
    assert "read borrows event hold.ready" in names and "mail notice" in names and "send mail" in names
    [check_in] = [span for span in trace if span["service"] == "borrow-service" and span["kind"] == 2]  # SERVER
    assert check_in["attributes"]["library.request_id"] == request_id and check_in["name"] == "POST /checkin"
    mail = [message for message in requests.get(f"{system.mailbox}/messages", timeout=10).json()
            if message["to"] == f"{waiting}@example.org" and "Ready for you" in message["subject"]]
    assert mail
