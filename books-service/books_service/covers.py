"""Cover images, fetched and kept by the library itself: a reader's browser asks only the library for a cover,
so no third party learns who looks at which book, and covers show when the image's host is away.

A book's `cover_url` (http or https) is fetched by books-service's worker (jobs.py), never in a request: with
requests-hardened, which connects only to public addresses (every redirect's too) unless
COVER_FETCH_PRIVATE_NETWORKS says otherwise; within a short timeout; at most COVER_MAX_BYTES, streamed; and
kept only when the bytes themselves are a JPEG, PNG, GIF or WebP image (whatever the server calls them).
What can never be a cover is refused at once; what could not be reached is tried again later, each wait twice
the one before, COVER_FETCH_ATTEMPTS times in all. The reason is kept with the cover either way.
"""

import hashlib
import time
from dataclasses import dataclass, field
from datetime import timedelta

import filetype
import requests
import sqlalchemy as sa
from marshmallow import validate
from requests_hardened import Config, Manager
from requests_hardened.ip_filter import InvalidIPAddress
from sqlalchemy.orm import undefer

from library_common.errors import found
from library_common.transactions import transaction

from .models import COVER_TYPES, Cover, db

# What a cover_url may be: a web address (an intranet host without a dot too: COVER_FETCH_PRIVATE_NETWORKS).
COVER_URL = validate.URL(schemes={"http", "https"}, require_tld=False, error="An http or https address")
PRIVATE_NETWORKS = ("false", "loopback", "true")  # none; this machine's only (development, tests); any
COVERS_PER_RUN = 10  # then the worker's other jobs (imports) get a turn, and the rest wait for the next run
MAX_REDIRECTS = 3
CHUNK_BYTES = 64 * 1024


class CoverRefused(Exception):
    """What the address gives can never be a cover (not an image, too large, a private address): not tried
    again until the address changes."""


class CoverUnreachable(Exception):
    """The address could not be reached now (no such host, no answer in time, a server error): tried again."""


@dataclass(frozen=True)
class CoverFetcher:
    """How covers are fetched: the limits of one fetch, and how often a failing one is tried."""

    max_bytes: int
    timeout: float  # to connect, between two reads, and (twice it) for the whole image
    private_networks: str  # one of PRIVATE_NETWORKS
    attempts: int
    first_retry_seconds: float
    manager: Manager = field(init=False, repr=False)

    def __post_init__(self):
        if self.private_networks not in PRIVATE_NETWORKS:
            raise RuntimeError(f"COVER_FETCH_PRIVATE_NETWORKS must be one of {', '.join(PRIVATE_NETWORKS)}, "
                               f"not {self.private_networks!r}")
        object.__setattr__(self, "manager", Manager(Config(
            ip_filter_enable=self.private_networks != "true",
            ip_filter_allow_loopback_ips=self.private_networks == "loopback",
            never_redirect=False,
            default_timeout=(self.timeout, self.timeout),
            user_agent_override="library-covers")))

    def fetch(self, url):
        """(content type, bytes) of the image at `url`; CoverRefused or CoverUnreachable with the reason."""
        deadline = time.monotonic() + 2 * self.timeout  # a server dripping bytes gets no longer than this
        try:
            with self.manager.get_session() as session:
                session.max_redirects = MAX_REDIRECTS
                with session.get(url, stream=True, headers={"Accept": ", ".join(COVER_TYPES)}) as response:
                    _refuse_an_unusable(response, self.max_bytes)
                    content = bytearray()
                    for chunk in response.iter_content(CHUNK_BYTES):
                        content += chunk
                        if len(content) > self.max_bytes:
                            raise CoverRefused(f"Larger than {self.max_bytes:,} bytes")
                        if time.monotonic() > deadline:
                            raise CoverUnreachable(f"Not sent within {2 * self.timeout:g} s")
        except InvalidIPAddress as error:  # a RequestException too: before those
            raise CoverRefused(f"Not a public address ({error}): covers are fetched from the internet only") \
                from error
        except requests.TooManyRedirects as error:
            raise CoverRefused(f"More than {MAX_REDIRECTS} redirects") from error
        except (requests.RequestException, ValueError) as error:  # ValueError: a URL requests cannot parse
            raise CoverUnreachable(f"{type(error).__name__}: {error}") from error
        content_type = filetype.guess_mime(bytes(content[:512]))
        if content_type not in COVER_TYPES:
            raise CoverRefused(f"Not a JPEG, PNG, GIF or WebP image ({content_type or 'unknown'} by its bytes)")
        return content_type, bytes(content)

    def retry_after(self, attempts):
        """How long to wait after the `attempts`th failed try; None when that was the last."""
        if attempts >= self.attempts:
            return None
        return timedelta(seconds=self.first_retry_seconds * 2 ** (attempts - 1))


def _refuse_an_unusable(response, max_bytes):
    if response.status_code >= 500 or response.status_code == 429:
        raise CoverUnreachable(f"The server answered {response.status_code}")
    if response.status_code != 200:
        raise CoverRefused(f"The server answered {response.status_code}")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise CoverRefused(f"Larger than {max_bytes:,} bytes ({int(declared):,})")


def fetch_due(fetcher, now):
    """Fetch the covers whose turn has come (new ones, and failed ones whose wait is over), at most
    COVERS_PER_RUN, one at a time; True when more are due."""
    due = db.session.execute(
        sa.select(Cover.book_id, Cover.source_url, Cover.attempts).where(Cover.retry_at <= now)
        .order_by(Cover.retry_at, Cover.book_id).limit(COVERS_PER_RUN + 1)).all()
    db.session.rollback()  # no transaction stays open while a host is asked
    for book_id, url, attempts in due[:COVERS_PER_RUN]:
        try:
            content_type, content = fetcher.fetch(url)
        except CoverRefused as refused:
            _record(book_id, url, attempts=attempts + 1, problem=str(refused)[:500], retry_at=None)
        except CoverUnreachable as error:
            wait = fetcher.retry_after(attempts + 1)
            _record(book_id, url, attempts=attempts + 1, problem=str(error)[:500],
                    retry_at=wait and now + wait)
        else:
            _record(book_id, url, content=content, content_type=content_type,
                    etag=hashlib.sha256(content).hexdigest(), fetched_at=now, problem=None, retry_at=None)
    return len(due) > COVERS_PER_RUN


def _record(book_id, url, **values):
    """What a try found, unless the book's cover_url changed meanwhile (then its new row waits its turn)."""
    with transaction():
        db.session.execute(sa.update(Cover).where(Cover.book_id == book_id, Cover.source_url == url).values(**values))


def cover_of(book_id):
    """The book's fetched cover, bytes and all; 404 when it has none (yet)."""
    cover = db.session.scalar(sa.select(Cover).options(undefer(Cover.content))
                              .where(Cover.book_id == book_id, Cover.etag.is_not(None)))
    return found(cover, f"Book {book_id} has no cover")
