"""The audit trail through the running services: a checkout at the desk, as the librarian, is read back from
borrow-service's trail with the request id and the person's address (as the frontend passes it on)."""

import uuid

import pytest
import requests

from library_common.testing import register_patron

pytestmark = pytest.mark.integration


def test_a_desk_checkout_is_read_back_from_the_trail(stack):
    patron = stack.approve(register_patron(stack.users, "audited", "correct horse battery"))
    librarian = stack.login(*stack.librarian)
    book = requests.post(f"{stack.books}/books", json={"title": "Audited", "author": "A. Uditor", "genre": "Essays"},
                         headers=librarian, timeout=10).json()
    [item] = requests.get(f"{stack.books}/books/{book['id']}/items", timeout=10).json()
    request_id = f"audit-{uuid.uuid4().hex[:8]}"

    # the test speaks as the frontend does: from its address, naming the person's in X-Forwarded-For
    lent = requests.post(f"{stack.borrows}/checkout", json={"barcode": item["barcode"], "username": patron},
                         headers={**librarian, "X-Request-ID": request_id, "X-Forwarded-For": "198.51.100.23"},
                         timeout=10)
    assert lent.status_code == 201, lent.text

    answer = requests.get(f"{stack.borrows}/audit", params={"object": f"book:{book['id']}"}, headers=librarian,
                          timeout=10).json()
    [entry] = answer["items"]
    assert not answer["has_more"]
    assert {key: entry[key] for key in ("actor", "actor_role", "action", "object_type", "object_id", "related",
                                        "subject", "request_id", "client_address")} == {
        "actor": stack.librarian[0], "actor_role": "librarian", "action": "loan.checked_out", "object_type": "loan",
        "object_id": str(lent.json()["id"]), "related": f"book:{book['id']}", "subject": patron,
        "request_id": request_id, "client_address": "198.51.100.23"}
    patron_headers = stack.login(patron, "correct horse battery")
    assert requests.get(f"{stack.borrows}/audit", headers=patron_headers, timeout=10).status_code == 403
