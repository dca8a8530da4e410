"""What notification-service asks the other services, as a service with a token from user-service: their event
logs (borrow-service: loans, holds and reminders; user-service: accounts), and user-service whom to greet and
where to write (the logs name accounts, never their names or addresses) and the links a mail carries."""

from urllib.parse import quote

from library_common.errors import DependencyUnavailable
from library_common.feeds import FeedClient, ServiceTokens
from library_common.http import client_from_settings

SOURCES = {"users": "USER_SERVICE_URL", "borrows": "BORROW_SERVICE_URL"}


def service_tokens_from_settings(settings):
    return ServiceTokens(client_from_settings(settings, "user-service", "USER_SERVICE_URL"),
                         settings["SERVICE_NAME_FOR_TOKENS"], settings["SERVICE_SECRET"])


def feeds_from_settings(settings, tokens):
    """{source: FeedClient} for every event log this service reads."""
    return {source: FeedClient(client_from_settings(settings, f"{source} service", url_setting), tokens)
            for source, url_setting in SOURCES.items()}


class Accounts:
    """user-service's answers for the mail (its `links:mail` scope)."""

    def __init__(self, client, tokens):
        self._client, self._tokens = client, tokens

    def contact(self, username):
        """{username, first_name, email (verified, or None)}; None for an account that is no more."""
        response = self._client.get(f"/contacts/{quote(username, safe='')}", token=self._tokens.token())
        return None if response.status_code == 404 else self._answer(response, "say whom to write to")

    def mailed_link(self, event_id):
        """The link event `event_id` asked to mail, made now ({username, first_name, email, purpose, token,
        expires_at}); None once the request no longer stands."""
        response = self._client.request("POST", "/mailed-links", json={"event_id": event_id},
                                        token=self._tokens.token())
        return None if response.status_code in (404, 409) else self._answer(response, "make a mailed link")

    def _answer(self, response, what):
        if response.status_code == 401:
            self._tokens.forget()
        if response.status_code != 200:
            raise DependencyUnavailable(f"The user-service did not {what} ({response.status_code})")
        return response.json()


def accounts_from_settings(settings, tokens):
    return Accounts(client_from_settings(settings, "user-service", "USER_SERVICE_URL"), tokens)
