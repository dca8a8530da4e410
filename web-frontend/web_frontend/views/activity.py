"""The Activity page, for librarians: what was done to the catalogue, the accounts and at the desk, from the audit
trails of books-service, user-service and borrow-service merged newest first, filtered, paged by a cursor, and
exported as CSV; and the few latest entries that a book's page and a patron's show (see web_frontend.activity)."""

import csv
import io
from datetime import datetime, timezone
from functools import partial

from flask import Blueprint, Response, redirect, request, url_for
from flask_login import current_user

from ..activity import (ACTION_GROUPS, ACTION_WORDS, CSV_COLUMNS, SERVICE_NAMES, SOURCE_PARTS, SOURCES, Position,
                        ask_after, changes_table, csv_row, describe, merge, object_link)
from ..errors import error_page, is_htmx
from ..forms import ActivityForm
from ..formatting import LIBRARY_ZONE, date_and_time
from ..session import for_librarians_only
from .common import attempt_each, backend, page_or_fragment

bp = Blueprint("activity", __name__, url_prefix="/manage")
for_librarians_only(bp)
PER_PAGE = 50
CSV_MAX_ENTRIES = 10_000  # said on the page and in the README: narrow the dates for more
CSV_BATCH = 500  # the services' largest page
RECENT = 8  # on a book's page and a patron's
ACTIVITIES = {"books": "The catalogue service", "users": "The account service", "borrows": "The loans service"}


def read_activity(filters, position=None, limit=PER_PAGE, sources=SOURCES):
    """The first `limit` entries after `position` matching `filters` (the services' query) from `sources`, asked at
    once: (entries, whether there are more, {source: why it is missing})."""
    answers = attempt_each({source: (partial(backend().audit, current_user.token, source,
                                             filters | ask_after(position, source) | {"limit": limit}),
                                     ACTIVITIES[source]) for source in sources})
    entries, has_more = merge({source: answer for source, (answer, _problem) in answers.items() if answer}, limit)
    return entries, has_more, {source: problem for source, (answer, problem) in answers.items() if not answer}


def missing_parts(missing):
    """What the reader is told about services that did not answer."""
    return [f"Not shown: {SOURCE_PARTS[source]} entries. {problem}" for source, problem in missing.items()]


def for_the_page(entries):
    """Each entry as a page shows it: when (the library's clock), who, what in words with a link to its object,
    the changed fields, and where the request came from."""
    return [entry | {"when": date_and_time(entry["at"]), "sentence": describe(entry, object_link(entry)),
                     "changes_table": changes_table(entry), "service_name": SERVICE_NAMES[entry["service"]]}
            for entry in entries]


@bp.get("/activity")
def activity():
    form = ActivityForm(request.args)
    position = Position.from_args(request.args)
    entries, older, problems = [], None, []
    if form.validate():
        entries, has_more, missing = read_activity(form.filters().for_services(LIBRARY_ZONE["zone"]), position)
        older = form.in_use() | Position.of(entries[-1]).link_args() if has_more and entries else None
        problems = missing_parts(missing)
    return page_or_fragment("manage/activity.html", "manage/_activity_results.html", "activity-results",
                            form=form, entries=for_the_page(entries), older=older, position=position,
                            problems=problems, state=form.in_use(), action_groups=ACTION_GROUPS,
                            action_words=ACTION_WORDS, csv_max=CSV_MAX_ENTRIES), \
        400 if form.errors and not is_htmx() else 200  # htmx swaps no 4xx answer: the results then say what is wrong


@bp.get("/activity.csv")
def activity_csv():
    """Every entry matching the filters (up to CSV_MAX_ENTRIES, newest first), walking the merged cursor; refused
    when a service does not answer, since an export that silently lacks a part would mislead an auditor."""
    form = ActivityForm(request.args)
    if not form.validate():
        return redirect(url_for("activity.activity", **form.in_use()))
    filters, entries, position, has_more = form.filters().for_services(LIBRARY_ZONE["zone"]), [], None, True
    while has_more and len(entries) < CSV_MAX_ENTRIES:
        page, has_more, missing = read_activity(filters, position, min(CSV_BATCH, CSV_MAX_ENTRIES - len(entries)))
        if missing:
            return error_page(503, " ".join(missing_parts(missing)) + " The export needs every part: try again in a "
                                                                       "moment, or narrow the filters.")
        entries += page
        position = Position.of(page[-1]) if page else None
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_row(entry) for entry in entries)
    # An export cut at the cap says so in its name: it holds the newest entries only.
    name = f"activity-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}{f'-newest-{len(entries)}' if has_more else ''}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def recent_activity(filters, sources, link_args, link_text):
    """The latest RECENT entries about a book or a patron, for their page: `filters` (the services' query) asked of
    the `sources` that keep such entries, and a link to the Activity page with `link_args`, its filters for them."""
    entries, has_more, missing = read_activity(filters, limit=RECENT, sources=sources)
    return {"entries": for_the_page(entries), "has_more": has_more, "problems": missing_parts(missing),
            "link": url_for("activity.activity", **link_args), "link_text": link_text}


def book_activity(book_id):
    """A book's recent entries: its own, and its copies', loans' and holds' (books-service and borrow-service)."""
    return recent_activity({"object": f"book:{book_id}"}, ("books", "borrows"),
                           {"object_type": "book", "object_id": book_id}, "All the activity on this book")


def patron_activity(username):
    """The recent entries concerning a patron: their account and card (user-service), loans and holds
    (borrow-service)."""
    return recent_activity({"subject": username}, ("users", "borrows"), {"subject": username},
                           f"All the activity concerning {username}")
