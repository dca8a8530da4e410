"""What user-service asks the other services: borrow-service (circulation) to close an account's loans and
holds before the account is deleted."""

from library_common.errors import Conflict, DependencyUnavailable


class Circulation:
    def __init__(self, client):
        self._client = client

    def close(self, username, token):
        """Before `username` is deleted: Conflict while it has books on loan; otherwise its holds are cancelled.
        Asked with the (librarian) caller's token. Raises DependencyUnavailable when borrow-service cannot
        answer: an account is never deleted blind."""
        response = self._client.request("POST", f"/patrons/{username}/close", token=token)
        if response.status_code == 409:
            raise Conflict(response.json()["message"])
        if response.status_code != 200:
            raise DependencyUnavailable("The borrow-service could not close this account's loans and holds")
        return response.json()["holds_cancelled"]
