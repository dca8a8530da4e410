"""What books-service asks the other services. borrow-service (circulation) knows which copies are out
(on loan or waiting on the hold shelf) and how many patrons wait for each book."""

import logging
from dataclasses import dataclass, field

from library_common.errors import DependencyUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Counts:
    out: dict  # book id -> copies out (on loan or on the hold shelf)
    holds_waiting: dict = field(default_factory=dict)  # book id -> holds waiting


@dataclass(frozen=True)
class BookState:
    items: dict  # barcode -> {"state": "on_loan" | "on_hold_shelf", "username", "due_date" | "pickup_by"}
    holds_waiting: int
    unnumbered_loans: int = 0  # loans from before barcodes: each holds some copy, unknown which

    @property
    def out(self):
        return len(self.items) + self.unnumbered_loans


class Circulation:
    """`availability` answers the catalogue's questions and gives up quickly (AVAILABILITY_TIMEOUT);
    `changes` confirms a librarian's change and waits as long as any call (HTTP_READ_TIMEOUT)."""

    def __init__(self, availability, changes):
        self._client = availability
        self._changes_client = changes

    def counts(self, book_ids=None):
        """Counts for these books (every book with a copy out when None), in one call.

        Raises DependencyUnavailable when borrow-service cannot say.
        """
        params = {"book_id": list(book_ids)} if book_ids is not None else None
        body = self._answer(self._client.get("/borrows/active-counts", params=params), "report loans")
        return Counts(out={int(book_id): count for book_id, count in body["counts"].items()},
                      holds_waiting={int(book_id): count for book_id, count in body["holds_waiting"].items()})

    def counts_or_unknown(self, book_ids):
        """Like counts, but None when borrow-service is down: availability is then unknown, never guessed."""
        if not book_ids:
            return Counts(out={})
        try:
            return self.counts(book_ids)
        except DependencyUnavailable:
            return None

    def book_state(self, book_id, token):
        """Which of a book's items are out, asked under borrow-service's lock on the book (a librarian's call)."""
        body = self._answer(self._changes_client.get(f"/circulation/books/{book_id}", token=token),
                            "report the copies out")
        return BookState(items=body["items"], holds_waiting=body["holds_waiting"],
                         unnumbered_loans=body.get("unnumbered_loans", 0))

    def book_states(self, book_ids, token):
        """book_state for up to 100 books in one call: {book id: BookState}."""
        body = self._answer(self._changes_client.get("/circulation/books", params={"book_id": list(book_ids)},
                                                     token=token), "report the copies out")
        return {int(book_id): BookState(items=state["items"], holds_waiting=state["holds_waiting"],
                                        unnumbered_loans=state.get("unnumbered_loans", 0))
                for book_id, state in body["books"].items()}

    @staticmethod
    def _answer(response, what):
        if response.status_code != 200:
            log.warning("borrow-service answered %s when asked to %s", response.status_code, what)
            raise DependencyUnavailable(f"The borrow-service could not {what}")
        return response.json()
