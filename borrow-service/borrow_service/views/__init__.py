"""One module per resource, each with its blueprint (imported here: the package's rules modules keep
their own names, e.g. `borrow_service.borrows` is not `borrow_service.views.borrows`)."""

from . import borrows, circulation, holds, patrons, rules  # noqa: F401
