"""What user-service asks the other services: borrow-service (circulation) whether an account has books on loan."""

from library_common.errors import DependencyUnavailable


class Circulation:
    def __init__(self, client):
        self._client = client

    def has_active_loans(self, username, token):
        """Whether `username` has a loan not yet returned, asked with the (librarian) caller's token.

        Raises DependencyUnavailable when borrow-service cannot say: an account is never deleted blind.
        """
        response = self._client.get(f"/borrows/user/{username}", token=token, params={"active": "true", "per_page": 1})
        if response.status_code != 200:
            raise DependencyUnavailable("The borrow-service could not say whether this account has books on loan")
        return int(response.headers.get("X-Total-Count", "0")) > 0
