"""The library's policy: the circulation rules matrix (the most specific rule wins, a loan keeps its rule),
renewals by the rule, the calendar's closed days, and a return on the web that waits for the desk's scan."""

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from threading import Barrier
from zoneinfo import ZoneInfo

import pytest

from borrow_service import calendar, loans, rules
from borrow_service import holds as hold_rules
from borrow_service.deps import deps
from borrow_service.models import ClosedDay, db
from borrow_service.policy import CirculationPolicy
from library_common.auth import Principal
from library_common.deps import replace as replace_deps
from library_common.errors import Conflict

from .conftest import barcode, due_in

LIBRARIAN = ("boss", "librarian")
RULE = {"loan_days": 14, "max_renewals": 2, "no_renewal_before_days": None, "max_loans": 5, "holdable": True,
        "hold_pickup_days": 7}


@pytest.fixture
def rule(client, as_user):
    def save(category, item_type, **fields):
        response = client.put(f"/circulation-rules/{category}/{item_type}", json=RULE | fields,
                              headers=as_user(*LIBRARIAN))
        assert response.status_code == 200, response.json
        return response.json

    return save


def test_the_most_specific_rule_wins_in_koha_s_order(app, rule):
    rule("*", "*", loan_days=21)
    rule("*", "dvd", loan_days=7)
    rule("child", "*", loan_days=10)
    rule("child", "dvd", loan_days=3)
    policy = CirculationPolicy()

    with app.app_context():
        found = {(category, kind): rules.rule_for(category, kind, policy).loan_days
                 for category in ("adult", "child") for kind in ("book", "dvd")}

    assert found == {("adult", "book"): 21, ("adult", "dvd"): 7, ("child", "book"): 10, ("child", "dvd"): 3}


def test_without_a_saved_rule_the_settings_make_the_default(app, client, as_user):
    with app.app_context():
        default = rules.rule_for("adult", "book", deps().policy)

    assert (default.key, default.from_settings, default.max_loans) == ("* × *", True, 3)  # MAX_ACTIVE_LOANS=3
    listed = client.get("/circulation-rules", headers=as_user()).json
    assert [(row["key"], row["from_settings"]) for row in listed] == [("* × *", True)]


def test_rules_name_only_categories_and_types_the_library_has(client, as_user):
    unknown = client.put("/circulation-rules/pensioner/vinyl", json=RULE, headers=as_user(*LIBRARIAN))
    assert unknown.status_code == 400
    assert set(unknown.json["errors"]) == {"patron_category", "item_type"}
    assert "one of adult, child, staff, or * for every one" in unknown.json["errors"]["patron_category"]

    nonsense = client.put("/circulation-rules/child/dvd", json=RULE | {"loan_days": 0, "max_loans": -1},
                          headers=as_user(*LIBRARIAN))
    assert nonsense.status_code == 400 and set(nonsense.json["errors"]) >= {"loan_days", "max_loans"}
    assert client.put("/circulation-rules/child/dvd", json=RULE, headers=as_user("alice")).status_code == 403
    assert client.delete("/circulation-rules/child/dvd", headers=as_user(*LIBRARIAN)).status_code == 404


def test_a_loan_keeps_the_rule_it_was_made_under(rule, borrow, neighbours, client, as_user):
    neighbours.copies[1] = 1
    neighbours.item_types[barcode(1)] = "dvd"
    neighbours.categories["alice"] = "child"
    rule("child", "dvd", loan_days=3, max_renewals=0)

    loan = borrow(1).json
    rule("child", "dvd", loan_days=30, max_renewals=5)  # changed afterwards: new loans only

    lent_for = datetime.fromisoformat(loan["due_date"]) - datetime.fromisoformat(loan["borrow_date"])
    assert (loan["rule"], loan["item_type"], lent_for, loan["renewals_left"]) == (
        "child × dvd", "dvd", timedelta(days=3), 0)
    refused = client.post(f"/borrows/{loan['id']}/renew", headers=as_user())
    assert refused.status_code == 409 and refused.json["message"] == "Loans of this item cannot be renewed"


def test_a_rule_s_loan_limit_counts_the_items_it_covers(rule, borrow, neighbours):
    for book_id in (1, 2, 3):
        neighbours.copies[book_id] = 1
    neighbours.item_types.update({barcode(1): "dvd", barcode(2): "dvd"})
    rule("*", "dvd", max_loans=1)

    assert borrow(1).status_code == 201
    refused = borrow(2)
    assert refused.status_code == 409 and refused.json["message"].startswith(
        "You have reached the loan limit of 1 dvd items")
    assert borrow(3).status_code == 201  # a book: the * × * rule, which counts every loan


def test_reference_copies_are_not_for_loan_and_not_held(rule, borrow, hold, neighbours, desk):
    neighbours.copies[1] = 1
    neighbours.item_types[barcode(1)] = "reference"
    rule("*", "reference", max_loans=0, holdable=False)

    refused = borrow(1)
    assert refused.status_code == 409 and "for use in the library only" in refused.json["message"]
    assert "not for loan" in desk.check_out(barcode(1), "alice").json["message"]
    held = hold(1, "bob")
    assert held.status_code == 409 and held.json["message"].startswith("Holds are not taken on this book's copies")


def test_the_pickup_window_is_the_rule_s_for_the_waiting_patron(rule, borrow, hold, neighbours, desk, client,
                                                                  as_user):
    neighbours.copies[1] = 1
    neighbours.categories["bob"] = "staff"
    rule("staff", "*", hold_pickup_days=2)
    borrow(1)
    hold(1, "bob")

    desk.check_in(barcode(1))

    ready = client.get("/holds", headers=as_user("bob")).json[0]
    window = datetime.fromisoformat(ready["pickup_by"]) - datetime.fromisoformat(ready["ready_at"])
    assert (ready["status"], window) == ("ready", timedelta(days=2))


def test_no_renewal_before_the_rule_s_days(rule, borrow, neighbours, client, as_user, app):
    neighbours.copies[1] = 1
    rule("*", "*", no_renewal_before_days=3)
    loan = borrow(1).json
    url = f"/borrows/{loan['id']}/renew"

    too_soon = client.post(url, headers=as_user())
    assert too_soon.status_code == 409
    assert too_soon.json["message"].startswith("Too soon to renew: renewals open on ")
    assert too_soon.json["message"].endswith(", 3 days before it is due")
    opens = datetime.fromisoformat(loan["renewable_from"])  # ISO 8601, as every other date in the API
    assert opens == datetime.fromisoformat(loan["due_date"]) - timedelta(days=3)
    due_in(app, loan["id"], days=2)
    assert client.post(url, headers=as_user()).status_code == 200


def test_an_expired_card_borrows_nothing(borrow, neighbours):
    neighbours.copies[1] = 1
    neighbours.expired_cards.add("alice")

    refused = borrow(1)

    assert refused.status_code == 409
    assert refused.json["message"] == "Your library card expired on 1 Nov 2026: please renew it at the desk to borrow"


# The calendar

LONDON = ZoneInfo("Europe/London")


def closed(app, *days, weekday=None):
    with app.app_context():
        db.session.add_all([ClosedDay(day=day, reason="test") for day in days])
        if weekday is not None:
            db.session.add(ClosedDay(weekday=weekday, reason="every week"))
        db.session.commit()


def test_a_date_on_a_closed_day_moves_to_the_next_open_one_at_the_same_local_time(app):
    closed(app, date(2026, 12, 25), date(2026, 12, 26), weekday=6)  # Christmas, Boxing Day, and Sundays
    christmas_morning = datetime(2026, 12, 25, 10, tzinfo=LONDON)

    with app.app_context():
        moved = calendar.next_open(christmas_morning, LONDON)
        unmoved = calendar.next_open(datetime(2026, 12, 24, 10, tzinfo=LONDON), LONDON)

    assert moved == datetime(2026, 12, 28, 10, tzinfo=LONDON)  # the 27th is a Sunday
    assert unmoved == datetime(2026, 12, 24, 10, tzinfo=LONDON)


def test_the_library_s_day_is_its_own_timezone_s_not_utc_s(app):
    closed(app, date(2027, 1, 2))
    late_on_the_first_in_utc = datetime(2027, 1, 1, 23, 30, tzinfo=timezone.utc)  # 2 Jan 08:30 in Sydney

    with app.app_context():
        in_utc = calendar.next_open(late_on_the_first_in_utc, ZoneInfo("UTC"))
        in_sydney = calendar.next_open(late_on_the_first_in_utc, ZoneInfo("Australia/Sydney"))

    assert in_utc == late_on_the_first_in_utc
    assert in_sydney == late_on_the_first_in_utc + timedelta(days=1)


def test_the_local_time_survives_a_change_of_summer_time(app):
    closed(app, date(2027, 3, 27), date(2027, 3, 28))  # the clocks go forward in London on the 28th

    with app.app_context():
        moved = calendar.next_open(datetime(2027, 3, 27, 17, tzinfo=LONDON), LONDON)

    assert moved.astimezone(LONDON).hour == 17 and moved.astimezone(LONDON).day == 29


def test_a_library_closed_every_day_keeps_the_rule_s_date(app):
    closed(app, weekday=0)
    with app.app_context():
        for weekday in range(1, 7):
            db.session.add(ClosedDay(weekday=weekday))
        db.session.commit()
        moment = datetime(2027, 1, 4, 12, tzinfo=timezone.utc)
        assert calendar.next_open(moment, LONDON) == moment


def test_due_dates_skip_the_days_the_library_is_closed(borrow, neighbours, client, as_user):
    neighbours.copies[1] = 1
    today = datetime.now(timezone.utc).date()
    closing = client.post("/calendar/closures", json={"day": (today + timedelta(days=14)).isoformat(),
                                                      "last_day": (today + timedelta(days=15)).isoformat(),
                                                      "reason": "Stocktaking"}, headers=as_user(*LIBRARIAN))
    assert closing.status_code == 201 and len(closing.json) == 2

    loan = borrow(1).json

    assert datetime.fromisoformat(loan["due_date"]).date() == today + timedelta(days=16)
    listed = client.get("/calendar").json
    assert [row["reason"] for row in listed["days"]] == ["Stocktaking", "Stocktaking"]


def test_closures_are_checked_and_only_librarians_make_them(client, as_user):
    yesterday = (datetime.now(timezone.utc).date() - timedelta(days=1)).isoformat()
    assert client.post("/calendar/closures", json={"day": yesterday}, headers=as_user(*LIBRARIAN)).status_code == 400
    assert client.post("/calendar/closures", json={"weekday": 6}, headers=as_user()).status_code == 403
    sundays = client.post("/calendar/closures", json={"weekday": 6, "reason": "Sundays"}, headers=as_user(*LIBRARIAN))
    assert sundays.status_code == 201
    again = client.post("/calendar/closures", json={"weekday": 6}, headers=as_user(*LIBRARIAN))
    assert again.status_code == 409 and again.json["message"] == "The library is closed on Sundays already"
    both = client.post("/calendar/closures", json={"weekday": 1, "day": "2030-01-01"}, headers=as_user(*LIBRARIAN))
    assert both.status_code == 400
    closure_id = sundays.json[0]["id"]
    assert client.delete(f"/calendar/closures/{closure_id}", headers=as_user(*LIBRARIAN)).status_code == 204
    assert client.get("/calendar").json["weekdays"] == []


# A return on the web is not a return to the shelf

def test_a_web_return_while_a_patron_waits_awaits_the_desk_s_scan(borrow, hold, neighbours, desk, client, as_user):
    neighbours.copies[1] = 1
    loan = borrow(1).json
    waiting = hold(1, "bob").json

    returned = client.post(f"/borrows/{loan['id']}/return", headers=as_user())

    assert returned.status_code == 200 and returned.json["returned"] is True
    assert client.get(f"/holds/{waiting['id']}", headers=as_user("bob")).json["status"] == "waiting"
    out = client.get("/circulation/books/1", headers=as_user(*LIBRARIAN)).json
    assert out["items"][barcode(1)]["state"] == "awaiting_check_in"
    assert borrow(1, "carol").status_code == 409  # nobody else takes the copy in the bag

    scanned = desk.check_in(barcode(1))

    assert scanned.status_code == 200 and scanned.json["route"] == "hold_shelf"
    assert scanned.json["hold"]["username"] == "bob"
    assert client.get(f"/holds/{waiting['id']}", headers=as_user("bob")).json["status"] == "ready"


def test_a_web_return_with_nobody_waiting_frees_the_copy_at_once(borrow, client, as_user, neighbours):
    neighbours.copies[1] = 1
    loan = borrow(1).json

    client.post(f"/borrows/{loan['id']}/return", headers=as_user())

    assert client.get("/borrows/active-counts?book_id=1").json["counts"] == {"1": 0}
    assert borrow(1, "bob").status_code == 201


def test_a_web_return_racing_the_desk_s_scan_ends_the_loan_once(app, borrow, hold, neighbours):
    neighbours.copies[1] = 1
    loan = borrow(1).json
    hold(1, "bob")
    start = Barrier(2)

    def web_return():
        start.wait()
        with app.app_context():
            return loans.return_loan(deps(), loan_id=loan["id"], actor=Principal("alice", "patron"),
                                     now=datetime.now(timezone.utc)).returned

    def scan():
        start.wait()
        with app.app_context():
            return loans.check_in_item(deps(), barcode=barcode(1), now=datetime.now(timezone.utc)).route

    with ThreadPoolExecutor(2) as pool:
        outcomes = []
        for future in [pool.submit(web_return), pool.submit(scan)]:
            try:
                outcomes.append(future.result())
            except Conflict as refused:
                outcomes.append(refused.message)

    # Whichever came first, the copy is on bob's hold shelf once, and the loan ended once.
    assert outcomes[1] == "hold_shelf"
    assert outcomes[0] in (True, "This book has been returned already")
    with app.app_context():
        assert loans.copies_out(1)["items"][barcode(1)]["state"] == "on_hold_shelf"


def test_a_loan_in_a_list_says_whether_someone_waits_for_its_book(borrow, hold, neighbours, client, as_user):
    neighbours.copies.update({1: 1, 2: 1})
    borrow(1)
    borrow(2)
    hold(1, "bob")

    listed = {loan["book_id"]: loan["holds_waiting"] for loan in client.get("/borrows", headers=as_user()).json}

    assert listed == {1: 1, 2: 0}


# The hold queue: moved by a librarian with a reason; suspended; not needed after a day

def line_of(client, as_user, book_id=1):
    holds = client.get(f"/holds?book_id={book_id}&status=waiting", headers=as_user(*LIBRARIAN)).json
    return [hold["username"] for hold in sorted(holds, key=lambda hold: hold["position"])]


@pytest.fixture
def three_waiting(borrow, hold, neighbours):
    neighbours.copies[1] = 1
    borrow(1, "alice")
    return [hold(1, who).json for who in ("bob", "carol", "dave")]


def test_a_librarian_moves_a_patron_up_the_line_with_a_reason(client, as_user, three_waiting, desk):
    dave = three_waiting[2]

    moved = client.post(f"/holds/{dave['id']}/move", json={"direction": "up", "reason": "Course reading"},
                        headers=as_user(*LIBRARIAN))

    assert moved.status_code == 200 and moved.json["position"] == 2
    assert moved.json["moved_note"].startswith("Moved up by boss on ") and moved.json["moved_note"].endswith(
        ": Course reading")
    assert line_of(client, as_user) == ["bob", "dave", "carol"]
    first = client.post(f"/holds/{three_waiting[0]['id']}/move", json={"direction": "up", "reason": "Again"},
                        headers=as_user(*LIBRARIAN))
    assert first.status_code == 409 and first.json["message"] == "bob is first in line already"
    assert client.post(f"/holds/{dave['id']}/move", json={"direction": "up", "reason": "Mine"},
                       headers=as_user("dave")).status_code == 403
    desk.check_in(barcode(1))
    assert client.get(f"/holds/{three_waiting[0]['id']}", headers=as_user("bob")).json["status"] == "ready"


def test_a_suspended_hold_keeps_its_place_and_copies_pass_it_by(client, as_user, three_waiting, desk):
    bob = three_waiting[0]
    until = (datetime.now(timezone.utc).date() + timedelta(days=10)).isoformat()

    suspended = client.patch(f"/holds/{bob['id']}", json={"suspended_until": until}, headers=as_user("bob"))
    desk.check_in(barcode(1))

    assert suspended.status_code == 200 and suspended.json["suspended_until"] == until
    statuses = {hold["username"]: hold["status"] for hold in client.get("/holds?book_id=1",
                                                                      headers=as_user(*LIBRARIAN)).json}
    assert statuses == {"bob": "waiting", "carol": "ready", "dave": "waiting"}
    assert client.get(f"/holds/{bob['id']}", headers=as_user("bob")).json["position"] == 1  # still first


def test_a_hold_not_needed_after_a_day_expires_then(app, client, as_user, three_waiting):
    carol = three_waiting[1]
    tomorrow = datetime.now(timezone.utc).date() + timedelta(days=1)
    client.patch(f"/holds/{carol['id']}", json={"not_needed_after": tomorrow.isoformat()}, headers=as_user("carol"))

    with app.app_context():
        assert hold_rules.expire_unneeded(datetime.now(timezone.utc), deps().policy) == 0
        assert hold_rules.expire_unneeded(datetime.now(timezone.utc) + timedelta(days=2), deps().policy) == 1

    assert client.get(f"/holds/{carol['id']}", headers=as_user("carol")).json["status"] == "expired"
    assert line_of(client, as_user) == ["bob", "dave"]


@pytest.mark.parametrize("body, field", [({"suspended_until": "2001-01-01"}, "suspended_until"),
                                         ({"suspended_until": "2099-02-01", "not_needed_after": "2099-01-01"},
                                          "not_needed_after"),
                                         ({}, "suspended_until")])
def test_hold_dates_are_checked(client, as_user, three_waiting, body, field):
    response = client.patch(f"/holds/{three_waiting[0]['id']}", json=body, headers=as_user("bob"))

    assert response.status_code == 400 and field in response.json["errors"]
    assert client.patch(f"/holds/{three_waiting[0]['id']}", json={"suspended_until": None},
                        headers=as_user("carol")).status_code == 403


# WEB_CHECKOUT=false: borrowing on the web is a request; staff pull copies to the hold shelf

@pytest.fixture
def pulled_by_staff(app):
    with app.app_context():
        policy = deps().policy
    replace_deps(app, policy=dataclasses.replace(policy, web_checkout=False))
    yield
    replace_deps(app, policy=policy)


def test_without_web_checkout_a_patron_places_a_request_instead(pulled_by_staff, borrow, neighbours):
    neighbours.copies[1] = 1

    refused = borrow(1)
    at_the_desk = borrow(1, "boss", "librarian", username="bob")

    assert refused.status_code == 409 and refused.json["message"].startswith(
        "Borrowing on the web is a request at this library: place a request")
    assert at_the_desk.status_code == 201 and at_the_desk.json["username"] == "bob"


def test_a_request_waits_on_the_pull_list_until_the_desk_scans_a_copy_in(app, pulled_by_staff, hold, neighbours,
                                                                          client, as_user, desk):
    neighbours.copies[1] = 2
    request = hold(1, "bob")
    with app.app_context():
        assert hold_rules.allocate_waiting(deps(), datetime.now(timezone.utc)) == 0  # nothing set aside by itself

    pull = client.get("/holds/pull-list", headers=as_user(*LIBRARIAN))
    scanned = desk.check_in(barcode(1, 2))

    assert request.status_code == 201 and request.json["status"] == "waiting"
    assert [(row["hold"]["username"], row["barcodes"]) for row in pull.json] == [("bob", [barcode(1), barcode(1, 2)])]
    assert scanned.status_code == 200 and scanned.json["route"] == "hold_shelf" and scanned.json["loan"] is None
    assert scanned.json["hold"]["username"] == "bob" and scanned.json["hold"]["barcode"] == barcode(1, 2)
    assert client.get("/holds/pull-list", headers=as_user(*LIBRARIAN)).json == []
    assert client.get("/holds/pull-list", headers=as_user("bob")).status_code == 403
