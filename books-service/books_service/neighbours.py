"""What books-service asks the other services. borrow-service (circulation) owns loans: how many copies of
each book are out."""

import logging

from library_common.errors import DependencyUnavailable

log = logging.getLogger(__name__)


class Circulation:
    """`availability` answers the catalogue's questions and gives up quickly (AVAILABILITY_TIMEOUT);
    `changes` confirms a librarian's change and waits as long as any call (HTTP_READ_TIMEOUT)."""

    def __init__(self, availability, changes):
        self._client = availability
        self._changes_client = changes

    def on_loan(self, book_ids=None):
        """{book_id: copies on loan} for these books (all books with loans when None), in one call.

        Raises DependencyUnavailable when borrow-service cannot say.
        """
        params = {"book_id": list(book_ids)} if book_ids is not None else None
        response = self._client.get("/borrows/active-counts", params=params)
        if response.status_code != 200:
            log.warning("borrow-service answered %s to active-counts", response.status_code)
            raise DependencyUnavailable("The borrow-service could not report loans")
        return {int(book_id): count for book_id, count in response.json()["counts"].items()}

    def settled_on_loan(self, book_id, token):
        """Copies of `book_id` on loan once the borrows of it in progress have finished, asked with the
        (librarian) caller's token. Raises DependencyUnavailable when borrow-service cannot say."""
        response = self._changes_client.get(f"/borrows/book/{book_id}/active-count", token=token)
        if response.status_code != 200:
            log.warning("borrow-service answered %s to active-count", response.status_code)
            raise DependencyUnavailable("The borrow-service could not confirm the loans of this book")
        return response.json()["active"]

    def on_loan_or_unknown(self, book_ids):
        """Like on_loan, but None when borrow-service is down: availability is then unknown, never guessed."""
        if not book_ids:
            return {}
        try:
            return self.on_loan(book_ids)
        except DependencyUnavailable:
            return None
