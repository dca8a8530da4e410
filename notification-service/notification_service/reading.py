"""Reading the library's event logs: each page of events becomes notices, and the cursor moves, in one
transaction (see notices). A source that cannot be read now is read next time; the others go on."""

import logging

from flask import current_app

from library_common.errors import DependencyUnavailable
from library_common.transactions import transaction

from . import notices

log = logging.getLogger(__name__)
PAGE = 200


def read_feeds(feeds, accounts, now):
    """Read every source to its end; {source: notices made}."""
    settings = current_app.config
    made = {}
    for source, feed in feeds.items():
        made[source] = 0
        try:
            while True:
                events, cursor = feed.after(notices.cursor_of(source), PAGE)
                with transaction():
                    made[source] += notices.apply_events(source, events, cursor, settings, now, accounts)
                if len(events) < PAGE:
                    break
        except DependencyUnavailable as error:
            log.warning("could not read the %s event log: %s", source, error.message)
    return made
