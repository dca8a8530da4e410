"""Per-client limits counted in PostgreSQL (issue 12, finding 5): they hold across processes, and
simultaneous requests are each counted."""

import threading
from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from prometheus_client import REGISTRY

from library_common import deps as app_deps
from library_common.api import Api, Blueprint, register_error_handlers
from library_common.databases import recreate_database
from library_common.rate_limits import Limit, RateLimiter, human_duration, rate_limit_table
from library_common.testing import empty_tables

LIMITS = {"register": Limit(3, timedelta(hours=1), "sign-ups")}
T0 = datetime.now(timezone.utc)


class Deps:  # what the decorator needs of an app's deps
    def __init__(self, limiter):
        self.rate_limiter = limiter


@pytest.fixture(scope="module")
def database(postgres_server_url):
    return recreate_database(postgres_server_url, "test_rate_limits")


def make_app(database):
    """One "worker": its own app, engine and connection pool, over the shared database."""
    app = Flask(__name__)
    app.config.update(SQLALCHEMY_DATABASE_URI=database, API_TITLE="t", API_VERSION="1", OPENAPI_VERSION="3.0.3")
    db = SQLAlchemy(app)
    rate_limit_table(db.metadata)
    with app.app_context():
        db.create_all()
    blp = Blueprint("signup", __name__)

    @blp.route("/register", methods=["POST"])
    @blp.rate_limited("register")
    def register():
        return {"ok": True}

    api = Api(app)
    api.register_blueprint(blp)
    register_error_handlers(app, api)
    app_deps.attach(app, Deps(RateLimiter(LIMITS)))
    return app, db


@pytest.fixture
def workers(database):
    apps = [make_app(database) for _ in range(2)]
    yield [app for app, _db in apps]
    app, db = apps[0]
    with app.app_context():
        empty_tables(db)
    for app, db in apps:
        with app.app_context():
            db.engine.dispose()


def hit(app, client="203.0.113.1", now=T0):
    with app.app_context():
        RateLimiter(LIMITS).hit("register", client, now)


def test_the_limit_holds_across_workers(workers):
    first, second = workers
    hit(first)
    hit(second)
    hit(first)

    refused = REGISTRY.get_sample_value("library_rate_limit_refusals_total", {"limit": "register"}) or 0

    response = second.test_client().post("/register", environ_base={"REMOTE_ADDR": "203.0.113.1"})

    assert response.status_code == 429
    assert REGISTRY.get_sample_value("library_rate_limit_refusals_total", {"limit": "register"}) == refused + 1
    assert response.json["message"].startswith("Too many sign-ups from your address; try again in")
    assert 0 < response.json["retry_after"] <= 3600
    assert response.headers["Retry-After"] == str(response.json["retry_after"])


def test_each_client_has_its_own_count(workers):
    for _ in range(3):
        hit(workers[0], "203.0.113.1")

    assert workers[1].test_client().post("/register", environ_base={"REMOTE_ADDR": "203.0.113.2"}).status_code == 200


def test_a_new_window_starts_afresh(workers):
    for _ in range(3):
        hit(workers[0], now=T0)

    hit(workers[0], now=T0 + timedelta(hours=1))  # no 429


def test_simultaneous_requests_are_each_counted(workers):
    outcomes = []

    def register():
        outcomes.append(workers[len(outcomes) % 2].test_client().post(
            "/register", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code)

    threads = [threading.Thread(target=register) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == [200] * 3 + [429] * 9


@pytest.mark.parametrize("text", ["10", "10/fortnight", "0/hour", "-1/hour", "ten/hour", ""])
def test_malformed_limits_stop_start_up_with_the_setting_name(text):
    with pytest.raises(RuntimeError, match="RATE_LIMIT_REGISTER"):
        Limit.parse("RATE_LIMIT_REGISTER", text, "sign-ups")


def test_limits_parse():
    assert Limit.parse("X", "10/hour", "things") == Limit(10, timedelta(hours=1), "things")
    assert Limit.parse("X", " 120 / minute ", "things").count == 120


@pytest.mark.parametrize("seconds, text", [(1, "1 second"), (12, "12 seconds"), (60, "60 seconds"),
                                           (61, "2 minutes"), (3600, "60 minutes"), (5400, "2 hours")])
def test_durations_for_people(seconds, text):
    assert human_duration(seconds) == text
