"""The Activity page: the three services' audit trails merged newest first and paged by a cursor that loses and
repeats nothing, its filters, a service that does not answer, the CSV export, and a book's and a patron's recent
entries."""

import csv
import io
import json
from datetime import date, datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests

from web_frontend import activity as rules
from web_frontend.activity import Filters, Position, ask_after, merge
from web_frontend.views import activity as activity_view

from .conftest import BOOKS, BORROWS, USERS, account, book, categories, patron

SERVICE_URLS = {"books": BOOKS, "users": USERS, "borrows": BORROWS}


def entry(entry_id, at="2026-12-03T18:40:12.123456+00:00", action="book.updated", **fields):
    return {"id": entry_id, "at": at, "actor": "boss", "actor_role": "librarian", "action": action,
            "object_type": action.split(".")[0], "object_id": "7", "related": None, "subject": None,
            "summary": "Dune", "changes": None, "request_id": f"req-{entry_id}", "client_address": "203.0.113.5",
            **fields}


def answer(*entries, has_more=False):
    return {"json": {"items": list(entries), "has_more": has_more}}


def asked(call_or_request):
    """The query a service was sent, one value per name."""
    url = getattr(call_or_request, "request", call_or_request).url
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def audit_calls(services, base):
    return [call for call in services.calls if call.request.url.startswith(f"{base}/audit")]


# ---- merging and the cursor (plain functions) --------------------------------------------------------------------


class FakeAuditTrail:
    """One service's GET /audit as the contract says: newest first by (at, id), `before` and `before_id`, `limit`."""

    def __init__(self, entries):
        self.entries = sorted(entries, key=lambda e: (datetime.fromisoformat(e["at"]), e["id"]), reverse=True)

    def __call__(self, params):
        before = datetime.fromisoformat(params["before"]) if "before" in params else None
        after_cursor = [e for e in self.entries if before is None or datetime.fromisoformat(e["at"]) < before
                        or (datetime.fromisoformat(e["at"]) == before and "before_id" in params
                            and e["id"] < params["before_id"])]
        return {"items": after_cursor[:params["limit"]], "has_more": len(after_cursor) > params["limit"]}


def serve(services, trails):
    """Answer each service's GET /audit from its FakeAuditTrail, reading the query as the service would."""
    def answering(trail):
        def callback(request):
            params = asked(request)
            params["limit"] = int(params.get("limit", 50))
            if "before_id" in params:
                params["before_id"] = int(params["before_id"])
            return 200, {}, json.dumps(trail(params))
        return callback

    for source, trail in trails.items():
        services.add_callback("GET", f"{SERVICE_URLS[source]}/audit", callback=answering(trail))


def moments(*seconds):
    return [f"2026-12-03T10:00:{second:02d}.000001+00:00" for second in seconds]


def trails_with_ties():
    """Three services whose entries share moments: all three at :05, two at :03, one service twice at :04."""
    shared, two, own = moments(5, 3, 4)
    return {
        "books": FakeAuditTrail([entry(1, shared), entry(2, shared), entry(3, two), entry(4, moments(1)[0])]),
        "users": FakeAuditTrail([entry(10, shared), entry(11, two), entry(12, own), entry(13, own)]),
        "borrows": FakeAuditTrail([entry(20, shared), entry(21, shared), entry(22, shared), entry(23, moments(2)[0])]),
    }


def walk(trails, limit):
    """Every page of the merged list, as the Activity page's Older links walk it."""
    position, shown = None, []
    while True:
        page, has_more = merge({source: trail(ask_after(position, source) | {"limit": limit})
                                for source, trail in trails.items()}, limit)
        shown += [(entry["service"], entry["id"]) for entry in page]
        if not has_more:
            return shown
        position = Position.of(page[-1])


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5, 13])
def test_paging_through_the_merged_list_shows_every_entry_once_in_order_even_when_services_share_a_moment(limit):
    trails = trails_with_ties()

    shown = walk(trails, limit)

    everything = walk(trails, 1000)
    assert len(everything) == 12 and len(set(everything)) == 12
    assert shown == everything
    # the merged order: newest first; at one moment books, then users, then borrows; within a service larger ids first
    assert everything[:6] == [("books", 2), ("books", 1), ("users", 10), ("borrows", 22), ("borrows", 21),
                              ("borrows", 20)]
    assert everything[6:9] == [("users", 13), ("users", 12), ("books", 3)]


def test_at_the_cursor_s_moment_a_service_before_it_is_done_its_own_continues_and_one_after_it_starts_over():
    position = Position(datetime.fromisoformat("2026-12-03T18:40:12+00:00"), "users", 42)

    assert ask_after(position, "books") == {"before": "2026-12-03T18:40:12.000000+00:00"}
    assert ask_after(position, "users") == {"before": "2026-12-03T18:40:12.000000+00:00", "before_id": 42}
    assert ask_after(position, "borrows") == {"before": "2026-12-03T18:40:12.000000+00:00",
                                              "before_id": rules.ALL_AT_THAT_MOMENT}
    assert ask_after(None, "books") == {}


def test_a_page_s_cursor_comes_back_from_its_link_and_a_made_up_one_is_ignored():
    position = Position(datetime.fromisoformat("2026-12-03T18:40:12.5+00:00"), "borrows", 7)

    assert Position.from_args(position.link_args()) == position
    for broken in ({}, {"before": "yesterday", "before_service": "books", "before_id": "1"},
                   {"before": "2026-12-03T18:40:12", "before_service": "books", "before_id": "1"},  # no time zone
                   {"before": "2026-12-03T18:40:12+00:00", "before_service": "mail", "before_id": "1"},
                   {"before": "2026-12-03T18:40:12+00:00", "before_service": "books", "before_id": "x"}):
        assert Position.from_args(broken) is None


def test_the_filters_become_the_services_query_with_days_in_the_library_s_time_zone():
    paris = ZoneInfo("Europe/Paris")

    assert Filters(actor=" boss ", action="book.", object_id=" book:7 ", subject="alice", since=date(2026, 12, 1),
                   until=date(2026, 12, 3)).for_services(paris) == {
        "actor": "boss", "action": "book.", "object": "book:7", "subject": "alice",
        "since": "2026-12-01T00:00:00.000000+01:00", "until": "2026-12-04T00:00:00.000000+01:00"}
    assert Filters(object_type="item", object_id="1000000001").for_services(paris) == {"object": "item:1000000001"}
    assert Filters(object_type="loan").for_services(paris) == {"object_type": "loan"}
    assert Filters(object_id="12").for_services(paris) == {"object_id": "12"}


# ---- what an entry says, and where it links -----------------------------------------------------------------------


def test_an_entry_says_what_changed_in_words(app):
    title = {"title": {"before": "Dun", "after": "Dune"}}
    with app.test_request_context():
        assert str(rules.describe(entry(1, changes=title))) == "changed the title of <em>Dune</em> from Dun to Dune"
        assert str(rules.describe(entry(1, changes=title | {"author": {"before": None, "after": "Frank Herbert"},
                                                            "published_year": {"before": 1964, "after": 1965}}))) \
            == "changed the title, author and published year of <em>Dune</em>"
        assert str(rules.describe(entry(2, action="loan.checked_out", summary="1000000001 “Dune” for alice"),
                                  "/manage/users/alice/borrows")) == \
            'checked out <a href="/manage/users/alice/borrows"><em>1000000001 “Dune” for alice</em></a>'
        assert str(rules.describe(entry(3, action="book.archived", summary="<b>x</b>"))) == \
            "recorded “book.archived” on <em>&lt;b&gt;x&lt;/b&gt;</em>"  # an action it does not know; names escaped


def test_every_action_the_filter_offers_has_words_and_its_group_is_its_object_type():
    for object_type, _name, actions in rules.ACTION_GROUPS:
        assert all(action in rules.ACTION_WORDS and action.startswith(f"{object_type}.") for action in actions)


def test_the_changes_table_has_only_the_sides_the_entry_has():
    assert rules.changes_table(entry(1, action="book.created", changes={
        "title": {"after": "Dune"}, "subjects": {"after": ["Arrakis", "Spice"]}})) == (
        ["Field", "After"], [("title", "Dune"), ("subjects", "Arrakis; Spice")])
    assert rules.changes_table(entry(1, action="book.deleted", changes={"title": {"before": "Dune"}})) == (
        ["Field", "Before"], [("title", "Dune")])
    assert rules.changes_table(entry(1, changes={"published_year": {"before": None, "after": 1965},
                                                 "available": {"before": True, "after": False}})) == (
        ["Field", "Before", "After"], [("published year", "nothing", "1965"), ("available", "yes", "no")])
    assert rules.changes_table(entry(1, changes={})) == (["Field"], [])


@pytest.mark.parametrize("fields, link", [
    ({"action": "book.updated"}, "/books/7"),
    ({"action": "book.deleted"}, None),
    ({"action": "item.updated", "object_id": "1000000001", "related": "book:7"}, "/books/7"),
    ({"action": "account.role_changed", "object_id": "alice", "subject": "alice"}, "/manage/users/alice"),
    ({"action": "card.replaced", "object_id": "alice", "subject": "alice"}, "/manage/users/alice"),
    ({"action": "loan.checked_in", "object_id": "5", "related": "book:7", "subject": "alice"},
     "/manage/users/alice/borrows"),
    ({"action": "hold.moved", "object_id": "9", "related": "book:7", "subject": "alice"}, "/manage/books/7/holds"),
    ({"action": "import.committed", "object_id": "3"}, "/manage/imports/3"),
    ({"action": "rule.set", "object_id": "child:dvd"}, "/manage/policy"),
    ({"action": "closure.deleted", "object_id": "4"}, "/manage/policy"),
    ({"action": "genre.renamed", "object_id": "2"}, "/manage/genres"),
])
def test_an_entry_links_to_its_object(app, fields, link):
    with app.test_request_context():
        assert rules.object_link(entry(1, **fields)) == link


def test_csv_cells_that_a_spreadsheet_would_run_are_made_text():
    assert [rules.spreadsheet_safe(value) for value in ("=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "Dune", None, 7)] \
        == ["'=1+1", "'+SUM(A1)", "'-2", "'@cmd", "'\tx", "Dune", "", "7"]


# ---- the page ----------------------------------------------------------------------------------------------------


def test_patrons_are_refused_and_visitors_asked_to_log_in(client, log_in_as):
    visitor = client.get("/manage/activity")
    assert visitor.status_code == 302 and "/login?next=" in visitor.headers["Location"]
    assert client.get("/manage/activity.csv").status_code == 302

    log_in_as("alice", "patron")
    assert client.get("/manage/activity").status_code == 403
    assert client.get("/manage/activity.csv").status_code == 403


def test_librarians_have_an_activity_link_and_patrons_do_not(client, services, log_in_as):
    services.get(f"{BOOKS}/books", **{"json": [], "headers": {"X-Total-Count": "0"}})
    log_in_as("boss", "librarian")
    assert 'href="/manage/activity">Activity</a>' in client.get("/").get_data(as_text=True)

    log_in_as("alice", "patron")
    assert 'href="/manage/activity"' not in client.get("/").get_data(as_text=True)


def test_the_page_merges_the_three_services_newest_first_and_each_is_sent_the_filters(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.get(f"{BOOKS}/audit", **answer(entry(4, "2026-12-03T18:40:12.000002+00:00",
                                                  changes={"title": {"before": "Dun", "after": "Dune"}})))
    services.get(f"{USERS}/audit", **answer(entry(9, "2026-12-03T18:40:13+00:00", action="account.role_changed",
                                                  object_type="account", object_id="carol", subject="carol",
                                                  summary="carol", request_id="req-users",
                                                  changes={"role": {"before": "patron", "after": "librarian"}})))
    services.get(f"{BORROWS}/audit", **answer(entry(2, "2026-12-03T18:40:12.000001+00:00", action="loan.checked_out",
                                                    object_type="loan", related="book:7", subject="alice")))

    response = client.get("/manage/activity?actor=boss&action=book.updated&object_id=book:7&subject=alice"
                          "&since=2026-12-01&until=2026-12-03")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for base in (BOOKS, USERS, BORROWS):
        assert asked(audit_calls(services, base)[0]) == {
            "actor": "boss", "action": "book.updated", "object": "book:7", "subject": "alice", "limit": "50",
            "since": "2026-12-01T00:00:00.000000+00:00", "until": "2026-12-04T00:00:00.000000+00:00"}
    assert html.index("changed the role of") < html.index("changed the title of") < html.index("checked out")
    assert '<time datetime="2026-12-03T18:40:13+00:00">3 Dec 2026, 18:40:13</time>' in html
    assert 'changed the title of <a href="/books/7"><em>Dune</em></a> from Dun to Dune' in html
    assert '<td data-label="Before">patron</td><td data-label="After">librarian</td>' in html
    assert "request req-users · from 203.0.113.5" in html
    assert 'value="boss"' in html and '<option value="book.updated" selected>' in html  # the filters stay shown
    assert 'href="/manage/activity.csv?actor=boss&amp;action=book.updated' in html
    assert "Older" not in html  # nothing more


def test_older_pages_continue_from_the_last_entry_shown_and_newest_goes_back(client, services, log_in_as):
    log_in_as("boss", "librarian")
    last = entry(4, "2026-12-03T18:40:12.000002+00:00")
    services.get(f"{BOOKS}/audit", **answer(last, has_more=True))
    services.get(f"{USERS}/audit", **answer())
    services.get(f"{BORROWS}/audit", **answer())

    html = client.get("/manage/activity?actor=boss").get_data(as_text=True)
    older = ("/manage/activity?actor=boss&amp;before=2026-12-03T18:40:12.000002%2B00:00&amp;"
             "before_service=books&amp;before_id=4")
    assert f'href="{older}">Older' in html and "Newest" not in html

    client.get(older.replace("&amp;", "&"))
    asked_next = {source: asked(audit_calls(services, base)[-1]) for source, base in SERVICE_URLS.items()}
    assert asked_next["books"] == {"actor": "boss", "limit": "50", "before": "2026-12-03T18:40:12.000002+00:00",
                                   "before_id": "4"}
    assert asked_next["users"]["before_id"] == str(rules.ALL_AT_THAT_MOMENT)
    assert asked_next["borrows"]["before_id"] == str(rules.ALL_AT_THAT_MOMENT)
    assert '<a href="/manage/activity?actor=boss">← Newest</a>' in client.get(
        older.replace("&amp;", "&")).get_data(as_text=True)


def test_a_service_that_does_not_answer_leaves_the_others_entries_and_says_what_is_missing(client, services,
                                                                                          log_in_as):
    log_in_as("boss", "librarian")
    services.get(f"{BOOKS}/audit", **answer(entry(4)))
    services.get(f"{USERS}/audit", **answer(entry(9, action="card.renewed", summary="alice", actor="user-service",
                                                  actor_role="service", request_id=None, client_address=None)))
    services.get(f"{BORROWS}/audit", body=requests.ConnectionError("down"))

    response = client.get("/manage/activity")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "changed the book" in html and "renewed the library card of" in html
    assert '<strong>user-service</strong> <span class="badge badge-unknown">service</span>' in html
    assert "card.renewed · user-service</small>" in html  # no request, no address: nothing said of them
    assert ("Not shown: circulation&#39;s (loans, holds, rules, calendar) entries. The loans service is unavailable "
            "right now.") in html


def test_a_session_the_services_no_longer_accept_is_sent_to_log_in_again(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.get(f"{BOOKS}/audit", **answer())
    services.get(f"{USERS}/audit", status=401, json={"message": "Token expired"})
    services.get(f"{BORROWS}/audit", **answer())

    response = client.get("/manage/activity")

    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_nothing_found_says_what_to_try(client, services, log_in_as):
    log_in_as("boss", "librarian")
    for base in (BOOKS, USERS, BORROWS):
        services.get(f"{base}/audit", **answer())

    assert "Nothing is recorded yet" in client.get("/manage/activity").get_data(as_text=True)
    filtered = client.get("/manage/activity?actor=nobody").get_data(as_text=True)
    assert "Nothing matches these filters. Try another person or action" in filtered
    assert '<a href="/manage/activity">clear the filters</a>' in filtered


def test_filters_that_make_no_sense_are_shown_with_why_and_nothing_is_asked(client, services, log_in_as):
    log_in_as("boss", "librarian")

    for query, why in (("since=2026-12-05&until=2026-12-01", "The last day comes before the first"),
                       ("action=DROP TABLE", "Choose an action from the list"),
                       ("since=2026-13-01", "Not a valid date value")):
        response = client.get(f"/manage/activity?{query}")

        assert response.status_code == 400 and why in response.get_data(as_text=True)
    htmx = client.get("/manage/activity?until=2026-12-01&since=2026-12-05",
                      headers={"HX-Request": "true", "HX-Target": "activity-results"})
    assert htmx.status_code == 200  # htmx swaps no 4xx answer
    assert "Nothing shown: check the filters. To: The last day comes before the first" in htmx.get_data(as_text=True)
    assert not [call for call in services.calls if "/audit" in call.request.url]


def test_htmx_gets_the_results_alone(client, services, log_in_as):
    log_in_as("boss", "librarian")
    for base in (BOOKS, USERS, BORROWS):
        services.get(f"{base}/audit", **answer())

    html = client.get("/manage/activity", headers={"HX-Request": "true", "HX-Target": "activity-results"}) \
        .get_data(as_text=True)

    assert "Nothing is recorded yet" in html and "<form" not in html


# ---- the CSV export ----------------------------------------------------------------------------------------------


def test_the_csv_holds_every_matching_entry_walking_the_cursor_with_formulas_made_text(client, services, log_in_as,
                                                                                      monkeypatch):
    monkeypatch.setattr(activity_view, "CSV_BATCH", 2)  # three batches for five entries
    log_in_as("boss", "librarian")
    serve(services, {
        "books": FakeAuditTrail([entry(5, "2026-12-03T18:40:15+00:00", summary="=HYPERLINK(\"http://evil\")",
                                       changes={"title": {"before": "Dun", "after": "Dune"}}),
                                 entry(3, "2026-12-03T18:40:13+00:00"), entry(1, "2026-12-03T18:40:11+00:00")]),
        "users": FakeAuditTrail([]),
        "borrows": FakeAuditTrail([entry(4, "2026-12-03T18:40:14+00:00", actor="@admin"),
                                   entry(2, "2026-12-03T18:40:12+00:00")])})

    response = client.get("/manage/activity.csv?actor=boss")

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="activity-')
    assert "newest" not in response.headers["Content-Disposition"]  # all of them
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["at", "service", "actor", "actor_role", "action", "object_type", "object_id", "related",
                       "subject", "summary", "changes", "request_id", "client_address"]
    assert [(row[1], row[11]) for row in rows[1:]] == [
        ("books-service", "req-5"), ("borrow-service", "req-4"), ("books-service", "req-3"),
        ("borrow-service", "req-2"), ("books-service", "req-1")]
    assert rows[1] == ["2026-12-03T18:40:15+00:00", "books-service", "boss", "librarian", "book.updated", "book", "7",
                       "", "", "'=HYPERLINK(\"http://evil\")", '{"title": {"after": "Dune", "before": "Dun"}}',
                       "req-5", "203.0.113.5"]
    assert rows[2][2] == "'@admin"
    assert all(asked(call)["actor"] == "boss" for call in services.calls if "/audit" in call.request.url)


def test_the_csv_stops_at_its_cap_and_says_so_in_its_name(client, services, log_in_as, monkeypatch):
    monkeypatch.setattr(activity_view, "CSV_MAX_ENTRIES", 3)
    monkeypatch.setattr(activity_view, "CSV_BATCH", 2)
    log_in_as("boss", "librarian")
    serve(services, {"books": FakeAuditTrail([entry(number, moments(number)[0]) for number in range(1, 6)]),
                     "users": FakeAuditTrail([]), "borrows": FakeAuditTrail([])})

    response = client.get("/manage/activity.csv")

    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert [row[11] for row in rows[1:]] == ["req-5", "req-4", "req-3"]
    assert response.headers["Content-Disposition"].endswith('-newest-3.csv"')


def test_the_csv_is_refused_when_a_part_is_missing(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.get(f"{BOOKS}/audit", **answer(entry(1)))
    services.get(f"{USERS}/audit", status=503, json={"message": "down"})
    services.get(f"{BORROWS}/audit", **answer())

    response = client.get("/manage/activity.csv")

    assert response.status_code == 503
    assert "the accounts&#39; (accounts, library cards, patron categories) entries" in response.get_data(as_text=True)


# ---- a book's and a patron's recent entries ---------------------------------------------------------------------


def book_page_services(services, username):
    services.get(f"{BOOKS}/books/1", json=book())
    services.get(f"{BOOKS}/books/1/items", json=[])
    services.get(f"{BOOKS}/item-types", json=[])
    services.get(f"{BORROWS}/patrons/{username}", json=patron(username))
    services.get(f"{BORROWS}/circulation/books/1", json={"items": {}, "holds_waiting": 0, "unnumbered_loans": 0})


def test_a_book_s_page_shows_librarians_its_recent_activity(client, services, log_in_as):
    log_in_as("boss", "librarian")
    book_page_services(services, "boss")
    services.get(f"{BOOKS}/audit", **answer(entry(4, object_id="1", changes={"title": {"before": "Dun",
                                                                                        "after": "Dune"}})))
    services.get(f"{BORROWS}/audit", **answer(entry(2, "2026-12-03T18:40:13+00:00", action="hold.placed",
                                                    object_id="3", related="book:1", subject="alice")))

    html = client.get("/books/1").get_data(as_text=True)

    assert "Recent activity" in html
    assert html.index("placed a hold on") < html.index("changed the title of")
    assert '<a href="/manage/activity?object_type=book&amp;object_id=1">All the activity on this book</a>' in html
    for base in (BOOKS, BORROWS):
        assert asked(audit_calls(services, base)[0]) == {"object": "book:1", "limit": "8"}
    assert not audit_calls(services, USERS)  # accounts are never about a book


def test_patrons_see_no_activity_on_a_book_s_page_and_nothing_is_asked(client, services, log_in_as):
    log_in_as("alice", "patron")
    book_page_services(services, "alice")

    html = client.get("/books/1").get_data(as_text=True)

    assert "Recent activity" not in html
    assert not [call for call in services.calls if "/audit" in call.request.url]


def test_a_patron_s_page_shows_the_activity_concerning_them(client, services, log_in_as):
    log_in_as("boss", "librarian")
    services.get(f"{USERS}/users/alice", json=account())
    services.get(f"{USERS}/patron-categories", json=categories())
    services.get(f"{BORROWS}/patrons/alice", json=patron())
    for listing in ("borrows", "holds"):
        services.get(f"{BORROWS}/{listing}", json=[], headers={"X-Total-Count": "0"})
    services.get(f"{USERS}/audit", **answer(entry(9, action="card.renewed", object_type="card", object_id="alice",
                                                  subject="alice", summary="alice")))
    services.get(f"{BORROWS}/audit", body=requests.ConnectionError("down"))

    html = client.get("/manage/users/alice").get_data(as_text=True)

    assert 'renewed the library card of <a href="/manage/users/alice"><em>alice</em></a>' in html
    assert "Not shown: circulation&#39;s (loans, holds, rules, calendar) entries." in html
    assert '<a href="/manage/activity?subject=alice">All the activity concerning alice</a>' in html
    assert asked(audit_calls(services, USERS)[0]) == {"subject": "alice", "limit": "8"}
    assert not audit_calls(services, BOOKS)


def test_the_parallel_calls_carry_the_request_id(client, services, log_in_as):
    log_in_as("boss", "librarian")
    for base in (BOOKS, USERS, BORROWS):
        services.get(f"{base}/audit", **answer())

    client.get("/manage/activity", headers={"X-Request-ID": "from-the-browser-1234"})

    calls = audit_calls(services, BOOKS) + audit_calls(services, USERS) + audit_calls(services, BORROWS)
    assert len(calls) == 3
    assert {call.request.headers.get("X-Request-ID") for call in calls} == {"from-the-browser-1234"}
    assert all(call.request.headers["Authorization"].startswith("Bearer ") for call in calls)

