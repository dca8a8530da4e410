"""One module per resource, each with its blueprint (imported here: the package's rules modules keep
their own names, e.g. `books_service.books` is not `books_service.views.books`)."""

from . import books, genres, imports, item_types, items  # noqa: F401
