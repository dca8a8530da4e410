"""Cover images fetched by the library itself from a real HTTP server (http.server in a thread, on loopback):
stored and served with an ETag, refused when they are not an image, too large or on a private address (a
redirect's too), retried with growing waits when the host cannot be reached; a book's cover_url from the API,
a CSV's image_url and MARC 856."""

import asyncio
import http.server
import struct
import threading
import zlib
from datetime import timedelta

import pymarc
import pytest
import sqlalchemy as sa

from books_service import covers
from books_service.covers import CoverFetcher, CoverRefused
from books_service.deps import deps
from books_service.models import Cover, db
from library_common.clock import now
from library_common.worker import run_worker

from .test_imports import marc_record, records, staged, work


def png():
    """A real 1x1 PNG."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


class ImageHost(http.server.ThreadingHTTPServer):
    """Answers each path from `pages` {path: (status, headers, body)}; counts the requests."""

    daemon_threads = True

    def __init__(self):
        self.pages, self.asked = {}, []
        super().__init__(("127.0.0.1", 0), self.Handler)

    def url(self, path):
        return f"http://127.0.0.1:{self.server_port}{path}"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.server.asked.append(self.path)
            status, headers, body = self.server.pages.get(self.path, (404, {}, b"no such page"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass


@pytest.fixture
def host(fake_neighbour):
    server = ImageHost()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake_neighbour(server.url("")).pass_through()
    yield server
    server.shutdown()
    server.server_close()


def fetch_due(app, at=None):
    with app.app_context():
        return covers.fetch_due(deps().cover_fetcher, at or now())


def cover_row(app, book_id):
    with app.app_context():
        try:
            return db.session.get(Cover, book_id)
        finally:
            db.session.remove()


def test_a_cover_is_fetched_stored_and_served_with_its_etag(app, client, host, add_book):
    image = png()
    host.pages["/cover"] = (200, {"Content-Type": "text/plain"}, image)  # the bytes say PNG, whatever it says
    book = add_book(cover_url=host.url("/cover"))

    before = client.get(f"/books/{book['id']}/cover")
    fetch_due(app)
    served = client.get(f"/books/{book['id']}/cover")
    again = client.get(f"/books/{book['id']}/cover", headers={"If-None-Match": served.headers["ETag"]})

    assert book["has_cover"] is False and before.status_code == 404
    assert served.status_code == 200 and served.data == image
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Cache-Control"] == "public, max-age=86400"
    assert served.headers["ETag"].strip('"') == cover_row(app, book["id"]).etag
    assert again.status_code == 304 and again.data == b""
    described = client.get(f"/books/{book['id']}").json
    assert (described["has_cover"], described["cover_url"]) == (True, host.url("/cover"))
    assert client.get("/books").json[0]["has_cover"] is True
    assert fetch_due(app) is False and host.asked == ["/cover"]  # fetched once, served from the library since


def test_a_page_that_is_not_an_image_is_refused_and_not_tried_again(app, client, host, add_book):
    host.pages["/cover.png"] = (200, {"Content-Type": "image/png"}, b"<html><script>alert(1)</script></html>")
    book = add_book(cover_url=host.url("/cover.png"))

    fetch_due(app)

    refused = cover_row(app, book["id"])
    assert (refused.etag, refused.retry_at, refused.attempts) == (None, None, 1)
    assert refused.problem.startswith("Not a JPEG, PNG, GIF or WebP image")
    assert client.get(f"/books/{book['id']}/cover").status_code == 404
    assert client.get(f"/books/{book['id']}").json["has_cover"] is False


def test_a_host_that_cannot_be_reached_is_tried_again_with_growing_waits_then_given_up(app, host, add_book):
    host.pages["/cover"] = (503, {}, b"busy")
    book = add_book(cover_url=host.url("/cover"))
    start = now()

    waits = []
    for _attempt in range(4):
        fetch_due(app, start + timedelta(days=1))
        row = cover_row(app, book["id"])
        waits.append(row.retry_at and round((row.retry_at - start - timedelta(days=1)).total_seconds()))
        assert fetch_due(app, start + timedelta(days=1)) is False  # not due again before its wait is over
        with app.app_context():  # the wait is over
            db.session.execute(sa.update(Cover).values(retry_at=start))
            db.session.commit()

    assert waits == [60, 120, 240, None]  # COVER_FETCH_ATTEMPTS (4), then given up
    assert row.attempts == 4 and row.problem == "The server answered 503"


@pytest.mark.parametrize("declared", [True, False])
def test_a_file_larger_than_the_limit_is_refused_declared_or_not(host, declared):
    big = png() + b"\x00" * 1000
    # without a length, the connection's end says where the body stops: it is streamed until the limit
    host.pages["/cover"] = (200, {"Content-Length": str(len(big))} if declared else {}, big)

    with pytest.raises(CoverRefused, match="Larger than 1,000 bytes"):
        CoverFetcher(1000, 2.0, "loopback", 4, 60).fetch(host.url("/cover"))


def test_a_private_address_is_refused_unless_private_networks_are_allowed(host):
    host.pages["/cover"] = (200, {}, png())

    with pytest.raises(CoverRefused, match="Not a public address"):
        CoverFetcher(2_000_000, 2.0, "false", 4, 60).fetch(host.url("/cover"))
    assert host.asked == []  # refused before connecting
    assert CoverFetcher(2_000_000, 2.0, "loopback", 4, 60).fetch(host.url("/cover")) == ("image/png", png())


@pytest.mark.parametrize("private", ["http://10.1.2.3/cover.png", "http://169.254.169.254/latest/meta-data/",
                                     "http://[fd00::1]/cover.png"])
def test_a_redirect_to_a_private_address_is_refused(host, fake_neighbour, private):
    host.pages["/cover"] = (302, {"Location": private}, b"")
    fake_neighbour(private).pass_through()  # to this library's filter, which refuses it before connecting

    with pytest.raises(CoverRefused, match="Not a public address"):
        CoverFetcher(2_000_000, 2.0, "loopback", 4, 60).fetch(host.url("/cover"))


def test_cover_urls_are_web_addresses_and_can_be_taken_away(app, client, librarian, host, add_book):
    host.pages["/cover"] = (200, {}, png())
    book = add_book(cover_url=host.url("/cover"))
    fetch_due(app)

    refused = [client.patch(f"/books/{book['id']}", json={"cover_url": address}, headers=librarian)
               for address in ("javascript:alert(1)", "file:///etc/passwd", "ftp://example.org/a.png", "cover.png")]
    removed = client.patch(f"/books/{book['id']}", json={"cover_url": None}, headers=librarian)

    assert [(response.status_code, response.json["errors"]["cover_url"]) for response in refused] == [
        (400, "An http or https address")] * 4
    assert removed.status_code == 200 and removed.json["has_cover"] is False
    assert client.get(f"/books/{book['id']}/cover").status_code == 404 and cover_row(app, book["id"]) is None


def test_an_import_s_image_url_column_and_marc_856_become_covers(app, client, librarian, host):
    host.pages["/hobbit.png"] = (200, {}, png())
    content = ("title,authors,image_url\n"
               f"The Hobbit,J. R. R. Tolkien,{host.url('/hobbit.png')}\n"
               "Dune,Frank Herbert,javascript:alert(1)\n")
    record = marc_record("Solaris", "a novel", "Lem, Stanisław.", "9780156027601", 1961, "eng", [])
    record.add_field(pymarc.Field(tag="856", indicators=["4", "2"], subfields=[
        pymarc.Subfield("q", "image/jpeg"), pymarc.Subfield("u", "https://images.example.org/solaris")]))

    batch = staged(app, client, librarian, content)
    marc = staged(app, client, librarian, record.as_marc(), filename="books.mrc")
    client.post(f"/imports/{batch['id']}/commit", json={}, headers=librarian)
    work(app)
    fetch_due(app)

    assert batch["options"]["mapping"]["image_url"] == "cover_url"
    hobbit, dune = records(client, librarian, batch["id"])
    assert dune["notes"] == ["Cover 'javascript:alert(1)' is not an http or https address (of at most 2,000 "
                             "characters): left out"]
    assert records(client, librarian, marc["id"])[0]["fields"]["cover_url"] == "https://images.example.org/solaris"
    assert client.get(f"/books/{hobbit['book_id']}/cover").data == png()


@pytest.fixture
def run_the_worker(app):
    """The worker, run here until no job is left (in production it is a process of its own). Its run closes the
    job connections this process's requests opened: they open again for the next test."""
    yield lambda: asyncio.run(run_worker(app, wait=False))
    app.extensions.pop("jobs_open_for_requests", None)


def test_the_worker_fetches_the_covers_of_a_committed_import(app, client, librarian, host, run_the_worker):
    host.pages["/hobbit.png"] = (200, {}, png())
    batch = staged(app, client, librarian, f"title,author,image_url\nThe Hobbit,Tolkien,{host.url('/hobbit.png')}\n")

    client.post(f"/imports/{batch['id']}/commit", json={}, headers=librarian)  # wakes the worker
    run_the_worker()  # commits, then fetches the new book's cover, then stops

    [record] = records(client, librarian, batch["id"])
    assert client.get(f"/books/{record['book_id']}/cover").data == png()
