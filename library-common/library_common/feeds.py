"""The event feed a producing service publishes (`GET /events`), and the client other services read it with.

The events themselves are written by the producer's rules (library_common.events.record) in the same
transaction as the change; a reader keeps its cursor in its own database and asks for what follows it.
"""

import logging
import threading
import time
from datetime import datetime, timedelta

from flask import current_app

import marshmallow as ma
from marshmallow import fields, validate

from . import metrics, tracing
from .api import Blueprint
from .auth import READ_EVENTS, current_principal
from .clock import now
from .errors import BadRequest, DependencyUnavailable
from .events import parse_cursor, read_for

log = logging.getLogger(__name__)
MAX_EVENTS = 500


class FeedArgs(ma.Schema):
    after = fields.String(load_default="", validate=validate.Regexp(r"^(\d{1,19}-\d{1,19})?\Z"),
                          metadata={"description": "The cursor of the last event you have (empty: from the start)"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_EVENTS))


class EventSchema(ma.Schema):
    id = fields.Integer()
    cursor = fields.String(metadata={"description": "Ask for what follows it with ?after="})
    type = fields.String(metadata={"description": "e.g. loan.made, hold.ready, account.registered"})
    subject = fields.String(allow_none=True, metadata={"description": "Whom it concerns (a username)"})
    payload = fields.Dict(metadata={"description": "What happened: ids, never names or addresses"})
    occurred_at = fields.DateTime()


class FeedSchema(ma.Schema):
    events = fields.List(fields.Nested(EventSchema))
    next = fields.String(metadata={"description": "The cursor to ask with next time"})


HOUSEKEEPING_SECONDS = 3600


def feed_blueprint(housekeeping=None):
    """`GET /events?after=<cursor>`: for the library's services that read events (not for people: the log says
    whose loans and holds they were).

    `housekeeping(now)`, if given, runs after a read at most once every HOUSEKEEPING_SECONDS in each process: a
    service without a worker (user-service) prunes on the beat its readers keep, every few seconds."""
    blp = Blueprint("events", __name__, description="The service's event log, for the library's other services")
    last_kept = {"at": None}
    keeping = threading.Lock()

    def keep_house():
        with keeping:
            due = last_kept["at"] is None or time.monotonic() - last_kept["at"] >= HOUSEKEEPING_SECONDS
            if due:
                last_kept["at"] = time.monotonic()
        if due:
            housekeeping(now())

    @blp.route("/events")
    @blp.service_required(READ_EVENTS)
    @blp.arguments(FeedArgs, location="query")
    @blp.response(200, FeedSchema)
    @blp.errors(400, 401, 403)
    def events(args):
        """What happened here after `after`, oldest first; only events no running transaction can precede"""
        try:
            parse_cursor(args["after"])
        except ValueError as exc:
            raise BadRequest("Not a cursor", errors={"after": "Not a cursor"}) from exc
        found, cursor = read_for(current_principal().username, args["after"], args["limit"],
                                 timedelta(days=current_app.config["EVENT_RETENTION_DAYS"]), now())
        if housekeeping:
            keep_house()
        return {"events": found, "next": cursor}

    return blp


class FeedClient:
    """Reads another service's feed as a service: a token from user-service's POST /service-tokens, kept
    until shortly before it expires."""

    def __init__(self, feed, token_source):
        self._feed = feed  # a ServiceClient for the producer
        self._tokens = token_source

    def after(self, cursor, limit=100):
        """(events after `cursor`, the next cursor). Raises DependencyUnavailable when it cannot be read."""
        response = self._feed.get("/events", params={"after": cursor, "limit": limit}, token=self._tokens.token())
        if response.status_code == 401:
            self._tokens.forget()
        if response.status_code != 200:
            raise DependencyUnavailable(f"The {self._feed.name} did not give its events ({response.status_code})")
        body = response.json()
        read_at = now()
        for event in body["events"]:
            lag = (read_at - datetime.fromisoformat(event["occurred_at"])).total_seconds()
            metrics.EVENT_LAG.labels(self._feed.neighbour).observe(max(lag, 0))
        return body["events"], body["next"]


def continuing(source, event):
    """`with continuing(source, event):` what a reader does with an event continues the trace that recorded it
    (the `traceparent` its payload keeps: library_common.events.record), when tracing is on and it was traced."""
    return tracing.continued(event["payload"].get(tracing.TRACEPARENT), f"read {source} event {event['type']}",
                             **{"library.event_id": event["id"]})


class ServiceTokens:
    """This service's tokens, asked of user-service with its name and secret (SERVICE_NAME, SERVICE_SECRET)."""

    def __init__(self, users, name, secret, margin_seconds=60):
        self._users, self._name, self._secret, self._margin = users, name, secret, margin_seconds
        self._token, self._expires = None, 0.0
        self._lock = threading.Lock()

    def token(self):
        with self._lock:
            if self._token is None or time.time() > self._expires - self._margin:
                response = self._users.request("POST", "/service-tokens",
                                               json={"service": self._name, "secret": self._secret})
                if response.status_code != 200:
                    log.error("user-service refused a token to %s: %s", self._name, response.status_code)
                    raise DependencyUnavailable("The user-service gave this service no token")
                body = response.json()
                self._token, self._expires = body["token"], time.time() + body["expires_in"]
            return self._token

    def forget(self):
        with self._lock:
            self._token = None
