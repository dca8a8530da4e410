"""What borrow-service asks the other services: books-service about books and their items (copies with
barcodes, and whether each can circulate), user-service about patrons."""

from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote

from library_common.errors import DependencyUnavailable, NotFound


@dataclass(frozen=True)
class BookItems:
    book_id: int
    title: str | None
    circulating: tuple[str, ...]  # barcodes of the items that can be lent (inventory status 'available')
    types: dict = field(default_factory=dict)  # barcode -> item type, for every item

    def type_of(self, barcode):
        return self.types.get(barcode, DEFAULT_ITEM_TYPE)


@dataclass(frozen=True)
class ItemInfo:
    barcode: str
    book_id: int
    title: str
    status: str
    item_type: str = "book"

    @property
    def circulating(self):
        return self.status == "available"


@dataclass(frozen=True)
class Patron:
    username: str  # as registered (usernames are case-insensitive)
    active: bool
    provisional: bool  # registered online, not approved yet: may hold, not borrow
    awaiting: str | None  # what approves it: "email_confirmation" (or a librarian), "librarian_approval"; or None
    category: str = "adult"  # the patron category the circulation rules go by
    card_expires_on: date | None = None  # None: the card does not expire
    card_expired: bool = False


DEFAULT_ITEM_TYPE = "book"  # what an item is when books-service does not say


class Catalogue:
    def __init__(self, client):
        self._client = client

    def items(self, book_id):
        """A book's items. Asked while holding the book's lock, so an item withdrawn meanwhile is never lent."""
        response = self._client.get(f"/books/{book_id}/items")
        if response.status_code == 404:
            raise NotFound(f"No book with id {book_id}")
        items = self._answer(response, "list this book's copies")
        title = items[0]["title"] if items else self.title(book_id)
        return BookItems(book_id, title, tuple(item["barcode"] for item in items if item["status"] == "available"),
                         {item["barcode"]: item.get("item_type", DEFAULT_ITEM_TYPE) for item in items})

    def title(self, book_id):
        # availability=false: books-service must not call back here while we wait for it.
        response = self._client.get(f"/books/{book_id}", params={"availability": "false"})
        if response.status_code == 404:
            raise NotFound(f"No book with id {book_id}")
        return self._answer(response, "describe this book")["title"]

    def item(self, barcode):
        response = self._client.get(f"/items/{quote(barcode, safe='')}")
        if response.status_code == 404:
            raise NotFound(f"No item with barcode {barcode!r}")
        body = self._answer(response, "find this item")
        return ItemInfo(body["barcode"], body["book_id"], body["title"], body["status"],
                        body.get("item_type", DEFAULT_ITEM_TYPE))

    def item_types(self):
        """The codes of the item types the catalogue knows (a circulation rule may name only those)."""
        return {kind["code"] for kind in self._answer(self._client.get("/item-types"), "list the item types")}

    @staticmethod
    def _answer(response, what):
        if response.status_code != 200:
            raise DependencyUnavailable(f"The books-service could not {what}")
        return response.json()


class Directory:
    def __init__(self, client):
        self._client = client

    def patron(self, username, token):
        """The patron as registered, asked with the caller's token (the patron's own, or a librarian's)."""
        response = self._client.get(f"/users/{username}", token=token)
        if response.status_code == 404:
            raise NotFound(f"No user named {username!r}")
        if response.status_code != 200:
            raise DependencyUnavailable("The user-service could not confirm this user")
        body = response.json()
        expires = body.get("card_expires_on")
        return Patron(body["username"], body["active"], body["provisional"], body["awaiting"],
                      body.get("category", "adult"), date.fromisoformat(expires) if expires else None,
                      bool(body.get("card_expired")))

    def categories(self, token):
        """The codes of the patron categories user-service knows (a circulation rule may name only those)."""
        response = self._client.get("/patron-categories", token=token)
        if response.status_code != 200:
            raise DependencyUnavailable("The user-service could not list the patron categories")
        return {category["code"] for category in response.json()}
