"""One module per resource, each with its blueprint (imported here: the package's rules modules keep
their own names, e.g. `web_frontend.account` is not `web_frontend.views.account`)."""

from . import account, activity, borrows, catalogue, imports, mailbox, manage, notifications, policy  # noqa: F401
