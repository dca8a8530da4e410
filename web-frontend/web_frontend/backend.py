"""Everything the pages ask of the three services, through the shared HTTP client.

A service that answers with an error raises BackendError (its status, message and per-field
errors); one that cannot answer raises DependencyUnavailable; a token the services no longer
accept raises SessionExpired.
"""

import threading
from dataclasses import dataclass, field
from urllib.parse import unquote

import cachetools

from library_common.errors import DependencyUnavailable


class SessionExpired(Exception):
    pass


@dataclass
class BackendError(Exception):
    status: int
    message: str
    errors: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    items: list
    total: int
    page: int
    per_page: int
    complete: bool = True  # False: the service stopped counting at `total`
    did_you_mean: str | None = None  # a corrected search that finds more (catalogue searches)
    showing_results_for: str | None = None  # the items are that corrected search's: the search found none
    by_title_instead: bool = False  # best match was asked for, but the search is too broad to rank

    @property
    def pages(self):
        return max(1, -(-self.total // self.per_page))


class Backend:
    def __init__(self, books, users, borrows, genres_seconds=60, titles_seconds=300):
        self.books_service = books
        self.user_service = users
        self.borrow_service = borrows
        # the genre list and the whole catalogue's facets, which most catalogue views show
        self._lists = cachetools.TTLCache(maxsize=2, ttl=genres_seconds)
        self._titles = cachetools.TTLCache(maxsize=10_000, ttl=titles_seconds)
        self._cache_lock = threading.Lock()

    @staticmethod
    def _call(client, method, path, token=None, **kwargs):
        response = client.request(method, path, token=token, **kwargs)
        if response.status_code == 401 and token:
            raise SessionExpired()
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            raise BackendError(response.status_code, body.get("message", "Something went wrong"),
                               body.get("errors") or {})
        return response

    def _page(self, client, path, params, token=None):
        response = self._call(client, "GET", path, token=token, params=params)
        corrections = {name: unquote(response.headers[header]) if header in response.headers else None
                       for name, header in (("did_you_mean", "X-Did-You-Mean"),
                                            ("showing_results_for", "X-Showing-Results-For"))}
        return Page(response.json(), int(response.headers.get("X-Total-Count", 0)),
                    int(params.get("page", 1)), int(params.get("per_page", 20)),
                    response.headers.get("X-Total-Count-Capped") != "true", **corrections,
                    by_title_instead=response.headers.get("X-Sorted-By") == "title")

    # Catalogue
    def books(self, **params):
        return self._page(self.books_service, "/books", params)

    def facets(self, **filters):
        """Counts per genre, author, language and decade of the books matching `filters`; the whole
        catalogue's are kept a minute (every unfiltered view shows them, and they come from a tally)."""
        if filters:
            return self._call(self.books_service, "GET", "/books/facets", params=filters).json()
        with self._cache_lock:
            if "facets" in self._lists:
                return self._lists["facets"]
        facets = self._call(self.books_service, "GET", "/books/facets").json()
        with self._cache_lock:
            self._lists["facets"] = facets
        return facets

    def suggestions(self, text):
        return self._call(self.books_service, "GET", "/books/suggestions", params={"q": text}).json()

    def book(self, book_id):
        return self._call(self.books_service, "GET", f"/books/{book_id}").json()

    def titles(self, book_ids):
        """{book_id: title} for these books; empty when books-service is down (pages then show ids).

        Titles are kept five minutes: they rarely change, and My borrows shows the same ones on
        every view (a title changed through this frontend is forgotten at once).
        """
        ids = sorted(set(book_ids))[:100]
        with self._cache_lock:
            known = {book_id: self._titles[book_id] for book_id in ids if book_id in self._titles}
        missing = [book_id for book_id in ids if book_id not in known]
        if not missing:
            return known
        try:
            books = self._call(self.books_service, "GET", "/books",
                               params={"id": missing, "per_page": 100, "availability": "false"}).json()
        except DependencyUnavailable:
            return known
        fetched = {book["id"]: book["title"] for book in books}
        with self._cache_lock:
            self._titles.update(fetched)
        return known | fetched

    def genres(self):
        """The genre list (for the book form and the librarians' genre page); kept a minute."""
        with self._cache_lock:
            if "genres" in self._lists:
                return self._lists["genres"]
        try:
            genres = self._call(self.books_service, "GET", "/genres").json()
        except DependencyUnavailable:
            return []
        with self._cache_lock:
            self._lists["genres"] = genres
        return genres

    def _forget_genres(self):
        with self._cache_lock:
            self._lists.clear()

    def rename_genre(self, token, genre_id, name):
        genre = self._call(self.books_service, "PATCH", f"/genres/{genre_id}", token=token, json={"name": name}).json()
        self._forget_genres()
        return genre

    def merge_genre(self, token, genre_id, into_id):
        genre = self._call(self.books_service, "POST", f"/genres/{genre_id}/merge", token=token,
                           json={"into": into_id}).json()
        self._forget_genres()
        return genre

    def add_book(self, token, fields):
        book = self._call(self.books_service, "POST", "/books", token=token, json=fields).json()
        self._forget_genres()
        return book

    def update_book(self, token, book_id, fields):
        book = self._call(self.books_service, "PATCH", f"/books/{book_id}", token=token, json=fields).json()
        self._forget_title(book_id)
        self._forget_genres()
        return book

    def _forget_title(self, book_id):
        with self._cache_lock:
            self._titles.pop(book_id, None)

    def delete_book(self, token, book_id):
        self._call(self.books_service, "DELETE", f"/books/{book_id}", token=token)
        self._forget_title(book_id)

    # Accounts
    def register(self, fields):
        return self._call(self.user_service, "POST", "/register", json=fields).json()["data"]

    def login(self, username, password):
        body = self._call(self.user_service, "POST", "/login", json={"username": username, "password": password}).json()
        return body["token"], body["user"]

    def users(self, token, page=1, search=""):
        params = {"page": page, "per_page": 50} | ({"q": search} if search else {})
        return self._page(self.user_service, "/users", params, token=token)

    def set_role(self, token, username, role):
        return self._call(self.user_service, "PATCH", f"/users/{username}", token=token, json={"role": role}).json()

    # Loans
    def borrow(self, token, book_id, username=None):
        body = {"book_id": book_id} | ({"username": username} if username else {})
        return self._call(self.borrow_service, "POST", "/borrowbook", token=token, json=body).json()

    def return_loan(self, token, loan_id):
        return self._call(self.borrow_service, "POST", f"/borrows/{loan_id}/return", token=token).json()

    def renew(self, token, loan_id):
        return self._call(self.borrow_service, "POST", f"/borrows/{loan_id}/renew", token=token).json()

    def loans(self, token, **params):
        return self._page(self.borrow_service, "/borrows", params, token=token)
