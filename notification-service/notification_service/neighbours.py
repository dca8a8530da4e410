"""What notification-service asks the other services: their event logs (borrow-service: loans, holds and
reminders; user-service: accounts), read as a service with a token from user-service."""

from library_common.feeds import FeedClient, ServiceTokens
from library_common.http import client_from_settings

# Accounts first: an address verified just before a hold became ready is known when the hold's notice is made.
SOURCES = {"users": "USER_SERVICE_URL", "borrows": "BORROW_SERVICE_URL"}


def feeds_from_settings(settings):
    """{source: FeedClient} for every event log this service reads."""
    tokens = ServiceTokens(client_from_settings(settings, "user-service", "USER_SERVICE_URL"),
                           settings["SERVICE_NAME_FOR_TOKENS"], settings["SERVICE_SECRET"])
    return {source: FeedClient(client_from_settings(settings, f"{source} service", url_setting), tokens)
            for source, url_setting in SOURCES.items()}
