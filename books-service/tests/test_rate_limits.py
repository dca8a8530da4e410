"""Expensive anonymous reads are limited per client (issue 12, finding 5)."""

import pytest

from books_service import create_app
from library_common import deps

from .conftest import BORROW_SERVICE


@pytest.fixture
def limited(app, tokens):
    limited = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "BORROW_SERVICE_URL": BORROW_SERVICE,
                          "HTTP_RETRIES": 0, "TESTING": True, "RATE_LIMIT_EXPENSIVE_SEARCH": "2/minute"})
    deps.replace(limited, token_verifier=tokens.verifier())
    return limited


def client_at(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


@pytest.mark.parametrize("query", ["q=guide&sort=relevance", "available=true"])
def test_expensive_searches_are_limited_per_client(limited, query):
    flooder, neighbour = client_at(limited, "203.0.113.7"), client_at(limited, "198.51.100.7")

    statuses = [flooder.get(f"/books?{query}").status_code for _ in range(3)]
    refused = flooder.get(f"/books?{query}")

    assert statuses == [200, 200, 429]
    assert refused.json["message"].startswith(
        "Too many searches by relevance or for available books from your address; try again in")
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.json["retry_after"] == int(refused.headers["Retry-After"])
    assert neighbour.get(f"/books?{query}").status_code == 200


def test_plain_pages_and_searches_are_not_limited(limited):
    flooder = client_at(limited, "203.0.113.8")

    assert {flooder.get("/books?q=guide&page=2").status_code for _ in range(5)} == {200}
    assert {flooder.get("/books?available=false&sort=title").status_code for _ in range(5)} == {200}
