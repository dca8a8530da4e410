"""The library's other services get short tokens for their secret, and read the accounts' event log with them."""

import time

import jwt
import pytest

from .conftest import NOTIFIER_SECRET, registration


def service_token(client, secret=NOTIFIER_SECRET, service="notification-service"):
    return client.post("/service-tokens", json={"service": service, "secret": secret})


def test_a_known_service_gets_a_short_token_for_its_secret(client):
    response = service_token(client)

    assert response.status_code == 200 and response.json["expires_in"] == 900
    claims = jwt.decode(response.json["token"], options={"verify_signature": False})
    assert (claims["sub"], claims["role"], claims["exp"] - claims["iat"]) == ("notification-service", "service", 900)


@pytest.mark.parametrize("service, secret", [("notification-service", "wrong"), ("stranger-service", NOTIFIER_SECRET)])
def test_an_unknown_service_or_a_wrong_secret_gets_nothing(client, service, secret):
    response = service_token(client, secret, service)

    assert response.status_code == 401 and "token" not in response.json


def read_feed_until_it_has_events(client, headers, seconds=10):
    """The feed holds events back while an older transaction runs anywhere on the server (tests in other
    databases on it, here), so they appear soon rather than at once."""
    deadline = time.monotonic() + seconds
    while not (feed := client.get("/events", headers=headers)).json["events"] and time.monotonic() < deadline:
        time.sleep(0.05)
    return feed


def test_registrations_appear_in_the_event_log_for_services(client):
    client.post("/register", json=registration("alice"))
    headers = {"Authorization": f"Bearer {service_token(client).json['token']}"}

    feed = read_feed_until_it_has_events(client, headers)
    empty = client.get(f"/events?after={feed.json['next']}", headers=headers)

    assert feed.status_code == 200
    assert [(event["type"], event["subject"]) for event in feed.json["events"]] == [
        ("account.registered", "alice")]
    assert feed.json["events"][0]["payload"]["first_name"] == "Alice"
    assert empty.json == {"events": [], "next": feed.json["next"]}


def test_the_event_log_is_for_services_and_librarians(client, make_user, login):
    make_user("alice")
    make_user("boss", role="librarian")

    assert client.get("/events").status_code == 401
    assert client.get("/events", headers=login("alice")).status_code == 403
    assert client.get("/events", headers=login("boss")).status_code == 200
    assert client.get("/events?after=not-a-cursor", headers=login("boss")).status_code == 400


def test_a_service_token_acts_for_no_account(client):
    headers = {"Authorization": f"Bearer {service_token(client).json['token']}"}

    assert client.get("/me", headers=headers).status_code == 403
    assert client.get("/users", headers=headers).status_code == 403


def test_a_mailed_links_token_is_for_services_only(client, make_user, login):
    """A librarian who could read it could open the link, choose the password and take the account over."""
    make_user("boss", role="librarian")
    client.post("/register", json=registration("alice", email="alice@example.org"))
    service = {"Authorization": f"Bearer {service_token(client).json['token']}"}

    def link_requests(headers):
        """The feed holds an event back while an older transaction runs anywhere on the server (transaction
        ids are the server's, and the other test processes use it too): asked again until it is out."""
        for _attempt in range(50):
            found = [event["payload"] for event in client.get("/events", headers=headers).json["events"]
                     if event["type"] == "account.email_verification_requested"]
            if found:
                return found
            time.sleep(0.1)
        return []

    [for_service], [for_librarian] = link_requests(service), link_requests(login("boss"))
    assert for_service["token"] and for_librarian["token"] is None
    assert {key: value for key, value in for_service.items() if key != "token"} == {
        key: value for key, value in for_librarian.items() if key != "token"}
