"""One module per resource, each with its blueprint (imported here: the package's rules modules keep
their own names, e.g. `notification_service.notices` is not `notification_service.views.notices`)."""

from . import notices, notifications, preferences  # noqa: F401
