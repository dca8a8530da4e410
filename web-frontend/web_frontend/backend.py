"""Everything the pages ask of the three services, through the shared HTTP client.

A service that answers with an error raises BackendError (its status, message and per-field
errors); one that cannot answer raises DependencyUnavailable; a token the services no longer
accept raises SessionExpired.
"""

import contextlib
import threading
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

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
    def __init__(self, books, users, borrows, notifications, lists_seconds=5, titles_seconds=300):
        self.books_service = books
        self.user_service = users
        self.borrow_service = borrows
        self.notification_service = notifications
        # The genre list, the item types and the whole catalogue's facets, which most views show: kept a few seconds,
        # so a burst of page views shares one answer, and a change made through another process (each gunicorn
        # worker has its own cache) shows within that.
        self._lists = cachetools.TTLCache(maxsize=3, ttl=lists_seconds)
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
        catalogue's are kept a few seconds (every unfiltered view shows them)."""
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

    def cover(self, book_id, etag=None):
        """books-service's answer for the book's cover (the image; 304 when `etag` is still its ETag);
        BackendError 404 when it has none."""
        return self._call(self.books_service, "GET", f"/books/{book_id}/cover",
                          headers={"If-None-Match": etag} if etag else {})

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

    def genres(self, fresh=False):
        """The genre list (for the book form; `fresh` for the librarians' genre page, where a rename must show
        at once); kept a few seconds."""
        with self._cache_lock:
            if "genres" in self._lists and not fresh:
                return self._lists["genres"]
        try:
            genres = self._call(self.books_service, "GET", "/genres").json()
        except DependencyUnavailable:
            return []
        with self._cache_lock:
            self._lists["genres"] = genres
        return genres

    def items(self, book_id):
        return self._call(self.books_service, "GET", f"/books/{book_id}/items").json()

    def item(self, barcode):
        return self._call(self.books_service, "GET", f"/items/{quote(barcode, safe='')}").json()

    def add_item(self, token, book_id, barcode=None, details=None):
        body = ({"barcode": barcode} if barcode else {}) | (details or {})
        return self._call(self.books_service, "POST", f"/books/{book_id}/items", token=token, json=body).json()

    def change_item(self, token, barcode, changes):
        return self._call(self.books_service, "PATCH", f"/items/{quote(barcode, safe='')}", token=token,
                          json=changes).json()

    def item_types(self, fresh=False):
        """The library's item types (for the copies' forms and the book page; `fresh` for the librarians' page
        of them); kept a few seconds."""
        with self._cache_lock:
            if "item_types" in self._lists and not fresh:
                return self._lists["item_types"]
        item_types = self._call(self.books_service, "GET", "/item-types").json()
        with self._cache_lock:
            self._lists["item_types"] = item_types
        return item_types

    def add_item_type(self, token, code, name):
        added = self._call(self.books_service, "POST", "/item-types", token=token,
                           json={"code": code, "name": name}).json()
        self._forget_item_types()
        return added

    def rename_item_type(self, token, code, name):
        renamed = self._call(self.books_service, "PATCH", f"/item-types/{quote(code, safe='')}", token=token,
                             json={"name": name}).json()
        self._forget_item_types()
        return renamed

    def delete_item_type(self, token, code):
        self._call(self.books_service, "DELETE", f"/item-types/{quote(code, safe='')}", token=token)
        self._forget_item_types()

    def _forget_item_types(self):
        with self._cache_lock:
            self._lists.pop("item_types", None)

    def book_by_isbn(self, isbn):
        """The book with this ISBN, if the catalogue has it (to point at it when a new one clashes)."""
        found = self._call(self.books_service, "GET", "/books", params={"q": isbn, "availability": "false"}).json()
        return next((book for book in found if book["isbn"] == isbn), None)

    def _forget_genres(self):
        with self._cache_lock:
            self._lists.clear()

    def rename_genre(self, token, genre_id, name):
        genre = self._call(self.books_service, "PATCH", f"/genres/{genre_id}", token=token, json={"name": name}).json()
        self._forget_genres()
        return genre

    def delete_genre(self, token, genre_id):
        self._call(self.books_service, "DELETE", f"/genres/{genre_id}", token=token)
        self._forget_genres()

    def merge_genre(self, token, genre_id, into_id):
        genre = self._call(self.books_service, "POST", f"/genres/{genre_id}/merge", token=token,
                           json={"into": into_id}).json()
        self._forget_genres()
        return genre

    def add_book(self, token, fields):
        book = self._call(self.books_service, "POST", "/books", token=token, json=fields).json()
        self._forget_genres()
        return book

    def update_book(self, token, book_id, fields, version=None):
        """`version`: the book's version the change was made from (If-Match: 412 when saved since)."""
        book = self._call(self.books_service, "PATCH", f"/books/{book_id}", token=token, json=fields,
                          headers={"If-Match": version} if version else {}).json()
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

    def user(self, token, username):
        return self._call(self.user_service, "GET", f"/users/{username}", token=token).json()

    def logout(self, token, everywhere=False):
        """End the token's session at user-service, or `everywhere` every session of its account (a token it
        already refuses is fine)."""
        with contextlib.suppress(SessionExpired):
            self._call(self.user_service, "POST", "/logout/everywhere" if everywhere else "/logout", token=token)

    def users(self, token, page=1, search="", provisional=False):
        """`provisional`: only the accounts waiting for approval."""
        params = {"page": page, "per_page": 50} | ({"q": search} if search else {}) | (
            {"provisional": "true"} if provisional else {})
        return self._page(self.user_service, "/users", params, token=token)

    def approve(self, token, username):
        """A librarian approves an account registered online: it may borrow from now on."""
        return self._call(self.user_service, "POST", f"/users/{username}/approval", token=token).json()

    def set_role(self, token, username, role):
        return self._call(self.user_service, "PATCH", f"/users/{username}", token=token, json={"role": role}).json()

    def change_account(self, token, username, changes):
        """Names, e-mail address, password (with `current_password`), `active`: what user-service lets the caller."""
        return self._call(self.user_service, "PATCH", f"/users/{username}", token=token, json=changes).json()

    def resend_verification(self, token, username):
        return self._call(self.user_service, "POST", f"/users/{username}/email-verifications", token=token).json()

    def verify_email(self, link_token):
        return self._call(self.user_service, "POST", "/email-verifications", json={"token": link_token}).json()

    def request_password_reset(self, username_or_email):
        return self._call(self.user_service, "POST", "/password-resets",
                          json={"username_or_email": username_or_email}).json()

    def check_password_link(self, link_token):
        """Nothing when the link would still set a password; BackendError (400, 403) saying why not."""
        self._call(self.user_service, "POST", "/password-resets/check", json={"token": link_token})

    def reset_password(self, link_token, password):
        return self._call(self.user_service, "POST", "/password-resets/confirm",
                          json={"token": link_token, "password": password}).json()

    def register_patron(self, token, fields):
        """A patron registered at the desk (librarians): no password; a welcome link goes to their address."""
        return self._call(self.user_service, "POST", "/users", token=token, json=fields).json()

    def send_password_reset(self, token, username):
        return self._call(self.user_service, "POST", f"/users/{username}/password-reset", token=token).json()

    def give_desk_password(self, token, username):
        """A first password for a patron without an e-mail address: {username, password, message}, shown once."""
        return self._call(self.user_service, "POST", f"/users/{username}/desk-password", token=token).json()

    # Library cards and patron categories (user-service)
    def card_holder(self, token, number):
        """The account whose card this is; BackendError 404 for none, 409 for a card reported lost."""
        return self._call(self.user_service, "GET", f"/cards/{quote(number, safe='')}", token=token).json()

    def replace_card(self, token, username):
        return self._call(self.user_service, "POST", f"/users/{username}/card", token=token).json()

    def renew_card(self, token, username):
        return self._call(self.user_service, "POST", f"/users/{username}/card/renewal", token=token).json()

    def patron_categories(self, token):
        return self._call(self.user_service, "GET", "/patron-categories", token=token).json()

    def add_patron_category(self, token, code, name):
        return self._call(self.user_service, "POST", "/patron-categories", token=token,
                          json={"code": code, "name": name}).json()

    def rename_patron_category(self, token, code, name):
        return self._call(self.user_service, "PATCH", f"/patron-categories/{quote(code, safe='')}", token=token,
                          json={"name": name}).json()

    def delete_patron_category(self, token, code):
        self._call(self.user_service, "DELETE", f"/patron-categories/{quote(code, safe='')}", token=token)

    # Loans
    def borrow(self, token, book_id, username=None):
        body = {"book_id": book_id} | ({"username": username} if username else {})
        return self._call(self.borrow_service, "POST", "/borrowbook", token=token, json=body).json()

    def check_out_item(self, token, barcode, username, override=None):
        """`override`: {override_reason, due_date?}, to lend past the rule (recorded with the loan)."""
        return self._call(self.borrow_service, "POST", "/checkout", token=token,
                          json={"barcode": barcode, "username": username, **(override or {})}).json()

    def check_in_item(self, token, barcode):
        return self._call(self.borrow_service, "POST", "/checkin", token=token, json={"barcode": barcode}).json()

    def copies_out(self, token, book_id):
        return self._call(self.borrow_service, "GET", f"/circulation/books/{book_id}", token=token).json()

    def patron(self, token, username, book_id=None):
        params = {"book_id": book_id} if book_id else None
        return self._call(self.borrow_service, "GET", f"/patrons/{username}", token=token, params=params).json()

    def keep_history(self, token, username, keep):
        return self._call(self.borrow_service, "PUT", f"/patrons/{username}/settings", token=token,
                          json={"keep_history": keep}).json()

    def forget_history(self, token, username):
        self._call(self.borrow_service, "DELETE", f"/patrons/{username}/history", token=token)

    def place_hold(self, token, book_id, username=None):
        body = {"book_id": book_id} | ({"username": username} if username else {})
        return self._call(self.borrow_service, "POST", "/holds", token=token, json=body).json()

    def cancel_hold(self, token, hold_id):
        return self._call(self.borrow_service, "POST", f"/holds/{hold_id}/cancel", token=token).json()

    def holds(self, token, **params):
        return self._page(self.borrow_service, "/holds", params, token=token)

    def move_hold(self, token, hold_id, direction, reason):
        return self._call(self.borrow_service, "POST", f"/holds/{hold_id}/move", token=token,
                          json={"direction": direction, "reason": reason}).json()

    def change_hold_dates(self, token, hold_id, dates):
        return self._call(self.borrow_service, "PATCH", f"/holds/{hold_id}", token=token, json=dates).json()

    def return_loan(self, token, loan_id):
        return self._call(self.borrow_service, "POST", f"/borrows/{loan_id}/return", token=token).json()

    def renew(self, token, loan_id):
        return self._call(self.borrow_service, "POST", f"/borrows/{loan_id}/renew", token=token).json()

    def loans(self, token, **params):
        return self._page(self.borrow_service, "/borrows", params, token=token)

    # Notifications
    def notifications(self, token, **params):
        return self._page(self.notification_service, "/notifications", params, token=token)

    def unread_notifications(self, token):
        return self._call(self.notification_service, "GET", "/notifications/unread-count", token=token).json()["unread"]

    def mark_read(self, token, notice_id):
        return self._call(self.notification_service, "POST", f"/notifications/{notice_id}/read", token=token).json()

    def mark_all_read(self, token):
        return self._call(self.notification_service, "POST", "/notifications/read", token=token).json()["marked"]

    def notification_preferences(self, token):
        return self._call(self.notification_service, "GET", "/preferences", token=token).json()

    def choose_notifications(self, token, choices):
        return self._call(self.notification_service, "PUT", "/preferences", token=token,
                          json={"choices": choices}).json()

    # Imports (books-service; librarians)
    def imports(self, token, page=1):
        return self._page(self.books_service, "/imports", {"page": page, "per_page": 20}, token=token)

    def import_(self, token, import_id):
        return self._call(self.books_service, "GET", f"/imports/{import_id}", token=token).json()

    def import_records(self, token, import_id, outcome=None, page=1):
        params = {"page": page, "per_page": 50} | ({"outcome": outcome} if outcome else {})
        return self._page(self.books_service, f"/imports/{import_id}/records", params, token=token)

    def upload_import(self, token, upload, options):
        """Send the uploaded file on to books-service as it came (multipart), with the options."""
        return self._call(self.books_service, "POST", "/imports", token=token, data=options,
                          files={"file": (upload.filename or "upload", upload.stream,
                                          upload.mimetype or "application/octet-stream")}).json()

    def restage_import(self, token, import_id, mapping=None, header=None):
        """Stage again with a column mapping, or with the first row read as a record (`header` False) or as names."""
        body = {name: value for name, value in (("mapping", mapping), ("header", header)) if value is not None}
        return self._call(self.books_service, "POST", f"/imports/{import_id}/staging", token=token, json=body).json()

    def discard_import(self, token, import_id):
        self._call(self.books_service, "DELETE", f"/imports/{import_id}", token=token)

    def commit_import(self, token, import_id, on_match):
        return self._call(self.books_service, "POST", f"/imports/{import_id}/commit", token=token,
                          json={"on_match": on_match}).json()

    def revert_import(self, token, import_id):
        return self._call(self.books_service, "POST", f"/imports/{import_id}/revert", token=token).json()

    def failed_notices(self, token, page=1):
        return self._page(self.notification_service, "/notices/failed", {"page": page, "per_page": 50}, token=token)

    def retry_notice(self, token, notice_id):
        return self._call(self.notification_service, "POST", f"/notices/{notice_id}/retry", token=token).json()

    # The library's policy (borrow-service): the circulation rules matrix and the calendar

    def circulation_rules(self, token):
        return self._call(self.borrow_service, "GET", "/circulation-rules", token=token).json()

    def save_rule(self, token, patron_category, item_type, fields):
        return self._call(self.borrow_service, "PUT", f"/circulation-rules/{quote(patron_category, safe='*')}/"
                          f"{quote(item_type, safe='*')}", token=token, json=fields).json()

    def delete_rule(self, token, patron_category, item_type):
        self._call(self.borrow_service, "DELETE", f"/circulation-rules/{quote(patron_category, safe='*')}/"
                   f"{quote(item_type, safe='*')}", token=token)

    def calendar(self):
        return self._call(self.borrow_service, "GET", "/calendar").json()

    def close_library(self, token, closure):
        return self._call(self.borrow_service, "POST", "/calendar/closures", token=token, json=closure).json()

    def reopen_library(self, token, closure_id):
        self._call(self.borrow_service, "DELETE", f"/calendar/closures/{closure_id}", token=token)

    # The audit trails (librarians): each service keeps the entries of the data it owns

    def audit(self, token, source, params):
        """One service's audit entries (`source`: books, users or borrows), newest first: {items, has_more}."""
        client = {"books": self.books_service, "users": self.user_service, "borrows": self.borrow_service}[source]
        return self._call(client, "GET", "/audit", token=token, params=params).json()
