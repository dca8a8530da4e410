"""Only the proxies we name may say who the client is (finding 3: a caller picked its own address)."""

import pytest
from flask import Flask, jsonify, request

from library_common.observability import trust_proxies
from library_common.proxies import parse_trusted_proxies


@pytest.fixture
def client():
    def make(trusted):
        app = Flask(__name__)
        trust_proxies(app, trusted)

        @app.get("/whoami")
        def whoami():
            return jsonify(address=request.remote_addr, scheme=request.scheme)

        return app.test_client()

    return make


def ask(client, peer, **headers):
    return client.get("/whoami", environ_base={"REMOTE_ADDR": peer}, headers=headers).json


def test_a_caller_that_is_not_a_trusted_proxy_cannot_pick_its_address(client):
    answer = ask(client("127.0.0.1/32"), "203.0.113.5", **{"X-Forwarded-For": "198.51.100.1",
                                                          "X-Forwarded-Proto": "https"})

    assert answer == {"address": "203.0.113.5", "scheme": "http"}


def test_with_no_trusted_proxies_nobody_is_believed(client):
    assert ask(client(""), "127.0.0.1", **{"X-Forwarded-For": "198.51.100.1"})["address"] == "127.0.0.1"


def test_a_trusted_proxy_names_the_client_and_the_scheme(client):
    answer = ask(client("127.0.0.1"), "127.0.0.1", **{"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"})

    assert answer == {"address": "198.51.100.1", "scheme": "https"}


def test_the_chain_is_read_from_the_right_skipping_trusted_hops(client):
    behind_two_proxies = client("10.0.0.0/8, 127.0.0.1/32")

    # The caller wrote "1.2.3.4"; the load balancer (10.0.1.9) appended the real client; the frontend
    # (127.0.0.1, the direct peer) appended the load balancer.
    answer = ask(behind_two_proxies, "127.0.0.1", **{"X-Forwarded-For": "1.2.3.4, 198.51.100.7, 10.0.1.9"})

    assert answer["address"] == "198.51.100.7"


def test_garbage_in_the_chain_stops_the_walk_at_the_last_trusted_hop(client):
    answer = ask(client("127.0.0.1"), "127.0.0.1", **{"X-Forwarded-For": "not-an-address"})

    assert answer["address"] == "127.0.0.1"


def test_ipv6_proxies_and_clients(client):
    assert ask(client("::1"), "::1", **{"X-Forwarded-For": "2001:db8::7"})["address"] == "2001:db8::7"


@pytest.mark.parametrize("setting", ["1", "2", "not-an-address", "10.0.0.0/33"])
def test_a_hop_count_or_a_malformed_entry_stops_start_up(setting):
    with pytest.raises(RuntimeError, match="TRUSTED_PROXIES"):
        parse_trusted_proxies(setting)
