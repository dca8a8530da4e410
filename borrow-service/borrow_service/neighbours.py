"""What borrow-service asks the other services: does this book exist (and how many copies), does this user exist."""

from dataclasses import dataclass

from library_common.errors import DependencyUnavailable, NotFound


@dataclass(frozen=True)
class BookCopies:
    book_id: int
    title: str
    copies: int


class Catalogue:
    def __init__(self, client):
        self._client = client

    def book(self, book_id):
        # availability=false: books-service must not call back here while we wait for it.
        response = self._client.get(f"/books/{book_id}", params={"availability": "false"})
        if response.status_code == 404:
            raise NotFound(f"No book with id {book_id}")
        if response.status_code != 200:
            raise DependencyUnavailable("The books-service could not describe this book")
        body = response.json()
        return BookCopies(book_id=body["id"], title=body["title"], copies=body["copies"])


@dataclass(frozen=True)
class Account:
    username: str  # as registered (usernames are case-insensitive)
    active: bool


class Directory:
    def __init__(self, client):
        self._client = client

    def account(self, username, token):
        """The user of that name, asked with the caller's token; NotFound for no such (or a deleted) user."""
        response = self._client.get(f"/users/{username}", token=token)
        if response.status_code == 404:
            raise NotFound(f"No user named {username!r}")
        if response.status_code != 200:
            raise DependencyUnavailable("The user-service could not confirm this user")
        body = response.json()
        return Account(username=body["username"], active=body["active"] is True)
