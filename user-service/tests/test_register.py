import pytest

from .conftest import registration


def test_register_returns_the_seed_shape(client):
    response = client.post("/register", json=registration())

    assert response.status_code == 201
    assert response.json["message"] == "User registered successfully"
    data = response.json["data"]
    assert {k: data[k] for k in ("username", "first_name", "last_name", "role")} == {
        "username": "alice", "first_name": "Alice", "last_name": "Liddell", "role": "patron"}
    assert data["created_at"]
    assert "password" not in data and "password_hash" not in data


def test_username_is_taken_case_insensitively(client):
    client.post("/register", json=registration("alice"))

    response = client.post("/register", json=registration("ALICE"))

    assert response.status_code == 409
    assert response.json == {"message": "That username is taken", "errors": {"username": "That username is taken"}}


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"username": "al"}, "username"),
        ({"username": "a" * 33}, "username"),
        ({"username": "alice smith"}, "username"),
        ({"username": "alice<script>"}, "username"),
        ({"username": "alice\n"}, "username"),  # a ghost twin of alice (issue 12, finding 7)
        ({"username": "alice\r\n"}, "username"),
        ({"password": "short"}, "password"),
        ({"password": "alice"}, "password"),
        ({"username": "alice123", "password": "ALICE123"}, "password"),
        ({"first_name": ""}, "first_name"),
        ({"first_name": "   "}, "first_name"),
        ({"last_name": "x" * 101}, "last_name"),
        ({"last_name": "nul\x00byte"}, "last_name"),
        ({"first_name": 42}, "first_name"),
        ({"role": "librarian"}, "role"),
    ],
)
def test_invalid_registrations_get_per_field_errors(client, overrides, field):
    response = client.post("/register", json=registration(**overrides))

    assert response.status_code == 400
    assert response.json["message"]
    assert field in response.json["errors"]


@pytest.mark.parametrize("missing", ["username", "password", "first_name", "last_name"])
def test_missing_fields_are_named(client, missing):
    body = registration()
    del body[missing]

    response = client.post("/register", json=body)

    assert response.status_code == 400
    assert response.json["errors"][missing] == "Missing data for required field."


@pytest.mark.parametrize(
    "data, content_type",
    [("{not json", "application/json"), ("[1, 2]", "application/json"), ('"text"', "application/json"),
     ("null", "application/json")],
)
def test_malformed_bodies_are_400_json(client, data, content_type):
    response = client.post("/register", data=data, content_type=content_type)

    assert response.status_code == 400
    assert isinstance(response.json["message"], str)


def test_oversized_body_is_413_json(client):
    response = client.post("/register", json=registration(first_name="x" * (2 * 1024 * 1024)))

    assert response.status_code == 413
    assert response.json["message"]


def test_unicode_names_are_kept(client):
    response = client.post("/register", json=registration(first_name="Zoë 👩‍🚀", last_name="\u200fعلي"))

    assert response.status_code == 201
    assert response.json["data"]["first_name"] == "Zoë 👩‍🚀"
