"""One module per resource, each with its blueprint (imported here: the package's rules modules keep
their own names, e.g. `user_service.accounts` is not `user_service.views.accounts`)."""

from . import accounts, cards, categories, contacts, email_links, keys, service_tokens, users  # noqa: F401
