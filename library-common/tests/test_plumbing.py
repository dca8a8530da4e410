import pytest
import requests
import responses
from flask import Flask, g

from library_common.api import flatten_validation_errors
from library_common.config import DEV_SECRET, load_settings, refuse_insecure_production, sqlalchemy_url
from library_common.errors import DependencyUnavailable
from library_common.http import ServiceClient


def test_settings_are_cast_to_their_defaults_types():
    settings = load_settings({"LIMIT": 5, "RATIO": 0.5, "ENABLED": False, "NAME": "x"},
                             environ={"LIMIT": "7", "RATIO": "1.5", "ENABLED": "yes", "NAME": "y"})

    assert (settings["LIMIT"], settings["RATIO"], settings["ENABLED"], settings["NAME"]) == (7, 1.5, True, "y")


def test_a_malformed_setting_stops_start_up_with_its_name():
    with pytest.raises(RuntimeError, match="LIMIT"):
        load_settings({"LIMIT": 5}, environ={"LIMIT": "many"})


STRONG = "x7Gm2Qp9Lr4Tv8Wb1Zc6Nd3Fh5Jk0Ys-PaeRu"  # 38 bytes, published nowhere but here


def production(**environ):
    return load_settings({"SECRET_KEY": DEV_SECRET},
                         environ={"APP_ENV": "production", "DATABASE_URL": "postgresql://db/x", **environ})


@pytest.mark.parametrize("secret, reason", [
    ("", "missing"),
    (DEV_SECRET, "published"),
    ("CHANGE-ME-user-service-secret-key", "published"),  # .env.example's placeholder, as copied
    ("change-me-" + "x" * 40, "published"),
    ("s3cr3t-from-vault", "shorter than 32 bytes"),
])
def test_production_refuses_missing_published_or_short_secrets(secret, reason):
    with pytest.raises(RuntimeError, match=f"SECRET_KEY is .*{reason}"):
        refuse_insecure_production(production(SECRET_KEY=secret), ["SECRET_KEY"])


def test_production_refuses_a_published_database_password():
    settings = production(SECRET_KEY=STRONG, DATABASE_URL="", DB_HOST="db", DB_USER="library",
                          DB_PASSWORD="CHANGE-ME-postgres-password")

    with pytest.raises(RuntimeError, match="DB_PASSWORD is a published"):
        refuse_insecure_production(settings, ["SECRET_KEY"])


def test_production_refuses_one_secret_used_twice():
    settings = production(SECRET_KEY=STRONG, DATABASE_URL="", DB_HOST="db", DB_USER="library", DB_PASSWORD=STRONG)

    with pytest.raises(RuntimeError, match="DB_PASSWORD is the same as SECRET_KEY"):
        refuse_insecure_production(settings, ["SECRET_KEY"])


def test_production_refuses_the_development_librarian_password():
    with pytest.raises(RuntimeError, match="BOOTSTRAP_LIBRARIAN"):
        refuse_insecure_production(production(SECRET_KEY=STRONG), ["SECRET_KEY"],
                                   {"BOOTSTRAP_LIBRARIAN's password": "librarian-pass"})


def test_secrets_of_two_services_must_differ():
    from library_common.config import shared_secret_problems

    assert shared_secret_problems({"SECRET_KEY": STRONG, "FRONTEND_SECRET_KEY": STRONG}) == [
        "FRONTEND_SECRET_KEY is the same as SECRET_KEY"]
    assert shared_secret_problems({"SECRET_KEY": STRONG, "FRONTEND_SECRET_KEY": STRONG[::-1]}) == []


def test_production_accepts_real_secrets():
    settings = production(SECRET_KEY=STRONG, DATABASE_URL="postgresql://library:An0ther-Passw0rd@db/x")

    refuse_insecure_production(settings, ["SECRET_KEY"])


def test_development_accepts_the_development_defaults():
    settings = load_settings({"SECRET_KEY": DEV_SECRET}, environ={"DATABASE_URL": "postgresql://db/x"})

    refuse_insecure_production(settings, ["SECRET_KEY"])


@pytest.mark.parametrize("url", ["postgres://u:p@h/db", "postgresql://u:p@h/db", "postgresql+psycopg2://u:p@h/db"])
def test_database_urls_get_the_psycopg2_driver(url):
    assert sqlalchemy_url(url) == "postgresql+psycopg2://u:p@h/db"


def test_validation_errors_are_flattened_per_field():
    messages = {"json": {"title": ["Missing data for required field."], "tags": {0: ["Not a valid string."]}}}

    assert flatten_validation_errors(messages) == {"title": "Missing data for required field.",
                                                   "tags.0": "Not a valid string."}


@pytest.fixture
def client():
    return ServiceClient("test-service", "http://svc.test", connect_timeout=0.5, read_timeout=0.5, retries=2)


@responses.activate
def test_requests_carry_the_request_id_and_token(client):
    responses.get("http://svc.test/thing", json={"ok": True})
    app = Flask(__name__)

    with app.test_request_context():
        g.request_id = "rid-42"
        client.get("/thing", token="tok")

    sent = responses.calls[0].request.headers
    assert sent["X-Request-ID"] == "rid-42" and sent["Authorization"] == "Bearer tok"


@responses.activate
def test_unreachable_services_become_dependency_errors(client):
    responses.get("http://svc.test/thing", body=requests.ConnectionError("refused"))

    with pytest.raises(DependencyUnavailable, match="test-service"):
        client.get("/thing")


@responses.activate
def test_server_errors_become_dependency_errors_after_a_retry(client):
    responses.get("http://svc.test/thing", status=503)

    with pytest.raises(DependencyUnavailable):
        client.get("/thing")
    assert len(responses.calls) == 2


@responses.activate
def test_client_errors_are_returned_to_the_caller(client):
    responses.get("http://svc.test/thing", status=404, json={"message": "nope"})

    assert client.get("/thing").status_code == 404


@responses.activate
def test_a_change_without_an_answer_is_an_unknown_outcome(client):
    from library_common.errors import OutcomeUnknown

    responses.post("http://svc.test/thing", body=requests.ReadTimeout("slow"))
    responses.get("http://svc.test/thing", body=requests.ReadTimeout("slow"))

    with pytest.raises(OutcomeUnknown):
        client.request("POST", "/thing")
    with pytest.raises(DependencyUnavailable) as read_failure:
        client.get("/thing")
    assert not isinstance(read_failure.value, OutcomeUnknown)


def test_the_database_url_can_come_in_parts_with_any_password():
    settings = load_settings({}, environ={"DB_HOST": "db.internal", "DB_NAME": "books", "DB_USER": "library",
                                          "DB_PASSWORD": "p@ss:w/rd?#"})

    from sqlalchemy.engine import make_url

    url = make_url(settings["DATABASE_URL"])
    assert (url.host, url.port, url.database, url.username, url.password) == (
        "db.internal", 5432, "books", "library", "p@ss:w/rd?#")


def test_free_ports_are_all_different():
    from library_common.processes import free_ports

    assert len(set(free_ports(40))) == 40
