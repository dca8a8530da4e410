"""The pages for holds, the desk by scanner, the hold shelf, a patron at a glance and a book's copies."""

import re

import pytest
import requests

from .conftest import BOOKS, BORROWS, USERS, account, book, hold, json_body, listing, loan, patron

pytestmark = pytest.mark.usefixtures("services")


def book_page(client, services, standing, **book_fields):
    services.get(f"{BOOKS}/books/1", json=book(**book_fields))
    services.get(f"{BORROWS}/patrons/alice", json=standing)
    return client.get("/books/1").get_data(as_text=True)


@pytest.mark.parametrize("standing, book_fields, says, offers", [
    (patron(loan=loan(due_date="2026-12-11T10:00:00+00:00", renewals=1, renewals_left=1)), {},
     "You have this — due <strong>11 Dec</strong>", ["Renew", "Return"]),
    (patron(loan=loan(renewals=2, renewals_left=0)), {}, "(0 renewals left)", ["Return"]),
    (patron(hold=hold(position=3, estimated_available="2026-12-14")), {"available_copies": 0, "available": False},
     "You are <strong>3rd in line</strong> — expected around <strong>14 Dec</strong>", ["Cancel my hold"]),
    (patron(hold=hold(status="ready", pickup_by="2026-12-04T10:00:00+00:00", position=None)), {},
     "Ready for you until 4 Dec", ["Borrow"]),
    (patron(), {"available_copies": 0, "available": False, "holds_waiting": 2}, "2 people are waiting for a copy",
     ["Place a hold"]),
    (patron(may_borrow=False, active_loans=5), {}, "You have 5 books on loan, the most at a time", []),
    (patron(may_hold=False), {"available_copies": 0, "available": False}, "You have 10 holds already", []),
    # a library that lends at the desk (WEB_CHECKOUT=false): a free copy is requested, a ready one collected
    (patron(web_checkout=False), {}, "A copy is on the shelf: request it", ["Place a request"]),
    (patron(web_checkout=False, hold=hold(status="ready", pickup_by="2026-12-04T10:00:00+00:00", position=None)), {},
     "Collect it at the desk.", []),
])
def test_the_book_page_says_where_you_stand(client, log_in_as, services, standing, book_fields, says, offers):
    log_in_as("alice")

    html = book_page(client, services, standing, **book_fields)

    assert says in html
    buttons = re.findall(r"<button type=\"submit\"[^>]*>([^<]+)</button>", html.split('id="borrow-panel"')[1])
    assert buttons == offers
    assert html.count("All copies out") <= 1


def test_placing_a_hold_updates_the_panel(client, log_in_as, services):
    log_in_as("alice")
    services.post(f"{BORROWS}/holds", status=201, json=hold(position=1))
    services.get(f"{BOOKS}/books/1", json=book(available_copies=0, available=False))
    services.get(f"{BORROWS}/patrons/alice", json=patron(hold=hold(position=1)))

    html = client.post("/books/1/hold", headers={"HX-Request": "true"}).get_data(as_text=True)

    assert "Hold placed: we will set a copy aside for you" in html and "1st in line" in html and "<html" not in html


def test_my_borrows_lists_holds_and_says_whether_history_is_kept(client, log_in_as, services):
    log_in_as("alice")
    services.get(f"{BORROWS}/borrows", **listing([]))
    services.get(f"{BORROWS}/holds", **listing([hold(1, position=2), hold(2, 2, title="Emma", status="ready",
                                                                           pickup_by="2026-12-04T10:00:00+00:00")]))
    services.get(f"{BORROWS}/patrons/alice", json=patron(keep_history=True))

    html = client.get("/my/borrows").get_data(as_text=True)

    assert "You are 2nd in line; expected around 14 Dec" in html
    assert "Ready for you until 4 Dec" in html
    assert "We keep your reading history" in html and 'href="/account#history"' in html


def test_choosing_to_keep_history_and_deleting_it(client, log_in_as, services):
    log_in_as("alice")
    chosen = services.put(f"{BORROWS}/patrons/alice/settings", json={"username": "alice", "keep_history": True})
    services.delete(f"{BORROWS}/patrons/alice/history", status=204)

    kept = client.post("/my/history/settings", data={"keep_history": "on"})
    deleted = client.post("/my/history/delete")

    assert kept.status_code == deleted.status_code == 302
    assert chosen.calls[0].request.body == b'{"keep_history": true}'
    with client.session_transaction() as session:
        assert ("success", "Your reading history is deleted.") in session["_flashes"]


def test_a_return_from_my_borrows_refreshes_the_history_and_replaces_the_last_news(client, log_in_as, services):
    log_in_as("alice")
    services.post(f"{BORROWS}/borrows/1/return", json=loan(1, returned=True, returned_date="2026-11-25T10:00:00+00:00"))
    services.get(f"{BOOKS}/books", **listing([book(1)]))

    response = client.post("/my/borrows/1/return", headers={"HX-Request": "true"})

    assert response.headers["HX-Trigger"] == "loan-returned"
    html = response.get_data(as_text=True)
    assert "Returned 25 Nov 2026" in html and 'hx-swap-oob="true"' in html and "Returned. Thank you!" in html


def desk(client, path, data):
    return client.post(path, data=data, headers={"HX-Request": "true"})


def test_a_check_in_by_scanner_answers_with_the_slip_and_a_focused_field(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.post(f"{BORROWS}/checkin", json={
        "route": "hold_shelf", "loan": loan(title="Dune", returned=True), "hold": hold(
            username="bob", status="ready", pickup_by="2026-12-04T10:00:00+00:00")})

    response = desk(client, "/manage/desk/checkin", {"barcode": "1000000001"})

    html = response.get_data(as_text=True)
    assert "Hold shelf for bob, pickup by 4 Dec 2026" in html and "“Dune”" in html
    assert re.search(r'<input[^>]*autofocus[^>]*name="barcode"|<input[^>]*name="barcode"[^>]*autofocus', html)
    assert 'value="1000000001"' not in html  # cleared for the next scan
    assert response.headers["HX-Trigger"] == "desk-changed"


def test_a_refused_scan_keeps_the_barcode(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.post(f"{BORROWS}/checkin", status=409, json={"message": "Item 1000000001 (Dune) is not on loan"})

    html = desk(client, "/manage/desk/checkin", {"barcode": "1000000001"}).get_data(as_text=True)

    assert "Not checked in: Item 1000000001 (Dune) is not on loan" in html and 'value="1000000001"' in html


@pytest.mark.parametrize("found, says", [
    ([], "Nobody matches “smith”"),
    ([{"username": "asmith", "first_name": "Ann", "last_name": "Smith"},
      {"username": "bsmith", "first_name": "Bo", "last_name": "Smith"}], "2 people match “smith”: asmith (Ann Smith)"),
])
def test_the_desk_needs_one_patron(client, log_in_as, services, found, says):
    log_in_as("boss", "librarian")
    services.get(f"{USERS}/users", **listing(found))

    html = desk(client, "/manage/desk/checkout", {"patron": "smith", "barcode": "1000000001"}).get_data(as_text=True)

    assert says in html


def test_the_desk_lends_to_a_patron_found_by_name_and_keeps_them_for_the_next_item(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{USERS}/users", **listing([{"username": "asmith", "first_name": "Ann", "last_name": "Smith"}]))
    lent = services.post(f"{BORROWS}/checkout", status=201, json=loan(username="asmith", title="Emma"))

    html = desk(client, "/manage/desk/checkout", {"patron": "Ann", "barcode": "1000000001"}).get_data(as_text=True)

    assert lent.calls[0].request.body == b'{"barcode": "1000000001", "username": "asmith"}'
    assert "Checked out" not in html and "“Emma”" in html and 'value="Ann"' in html


def test_the_hold_shelf(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{BORROWS}/holds", **listing([hold(1, status="ready", username="bob", barcode="1000000009",
                                                     pickup_by="2026-12-04T10:00:00+00:00")]),
                 match=[responses_query({"status": "ready"})])
    services.get(f"{BORROWS}/holds", **listing([hold(2, status="expired", barcode="1000000007",
                                                     ready_at="2026-11-20T10:00:00+00:00",
                                                     closed_at="2026-11-27T10:00:00+00:00")]))

    html = client.get("/manage/holds").get_data(as_text=True)

    assert "4 Dec 2026" in html and "1000000009" in html and "bob" in html
    assert "Take these off the hold shelf" in html.replace("take", "Take") and "1000000007" in html


def test_a_patron_at_a_glance(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{USERS}/users/alice", json=account())
    services.get(f"{BORROWS}/patrons/alice", json=patron(overdue_loans=1))
    services.get(f"{BORROWS}/borrows", **listing([loan(title="Dune", overdue=True)]))
    services.get(f"{BORROWS}/holds", **listing([hold()]))

    html = client.get("/manage/users/alice").get_data(as_text=True)

    assert "Alice Liddell" in html and "<strong>1</strong> overdue" in html
    assert "Renew Dune for alice" not in html  # an overdue loan is not renewed
    assert "2nd in line" in html


def test_a_book_s_copies_for_librarians(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{BOOKS}/books/1", json=book())
    services.get(f"{BORROWS}/patrons/boss", json=patron("boss"))
    services.get(f"{BOOKS}/books/1/items", json=[
        {"barcode": "1000000001", "book_id": 1, "title": "T", "status": "available"},
        {"barcode": "1000000002", "book_id": 1, "title": "T", "status": "damaged"}])
    services.get(f"{BORROWS}/circulation/books/1", json={"items": {"1000000001": {
        "state": "on_loan", "username": "alice", "due_date": "2026-12-04T10:00:00+00:00"}}, "holds_waiting": 0,
        "unnumbered_loans": 0})

    html = client.get("/books/1?added=1000000002").get_data(as_text=True)

    assert "1000000001" in html and "alice" in html and "4 Dec 2026" in html
    assert '<option value="damaged" selected>' in html
    assert "Print barcode labels for the new copies" in html


def test_labels_are_code_128_images(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{BOOKS}/books/1", json=book())
    services.get(f"{BOOKS}/books/1/items", json=[{"barcode": "1000000001", "book_id": 1, "title": "T",
                                                  "status": "available"}])

    html = client.get("/manage/books/1/labels").get_data(as_text=True)

    assert 'src="data:image/svg+xml;base64,' in html and 'alt="Barcode 1000000001"' in html


def test_a_duplicate_isbn_points_at_the_book_that_has_it(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.post(f"{BOOKS}/books", status=409, json={"message": "A book with this ISBN is already in the catalogue",
                                                      "errors": {"isbn": "Already in the catalogue"}})
    services.get(f"{BOOKS}/books", json=[book(7, isbn="9780330258647", title="Dune")])

    html = client.post("/manage/books/new", data={"title": "Dune", "author": "F", "genre": "SF",
                                                  "isbn": "0-330-25864-8", "copies": "1"}).get_data(as_text=True)

    assert 'href="/books/7"' in html and "already in the catalogue" in html


def test_the_favicon_is_served(client):
    assert client.get("/favicon.ico").status_code == 200


def responses_query(params):
    from responses import matchers

    return matchers.query_param_matcher(params, strict_match=False)


def test_the_desk_says_so_when_loans_are_down(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.post(f"{BORROWS}/checkin", body=requests.ConnectionError("down"))

    html = desk(client, "/manage/desk/checkin", {"barcode": "1000000001"}).get_data(as_text=True)

    assert "Not checked in: The loans service is unavailable right now" in html


def test_deleting_a_book_asks_first(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{BOOKS}/books/1", json=book(title="Dune & Sons"))
    services.get(f"{BORROWS}/patrons/boss", json=patron("boss"))
    deleted = services.delete(f"{BOOKS}/books/1", status=204)

    question = client.get("/manage/books/1/delete").get_data(as_text=True)
    response = client.post("/manage/books/1/delete")

    assert "<h1>Delete “Dune &amp; Sons”?</h1>" in question and "its 2 copies from the catalogue" in question
    assert 'action="/manage/books/1/delete"' in question and '<a href="/books/1">Keep it</a>' in question
    assert len(deleted.calls) == 1 and response.headers["Location"] == "/"


def test_a_row_s_check_in_button_gives_the_scanner_s_slip_and_the_new_count(client, log_in_as, services):
    log_in_as("boss", "librarian")
    scanned = services.post(f"{BORROWS}/checkin", json={
        "route": "hold_shelf", "loan": loan(7, title="Dune", returned=True), "hold": hold(
            username="bob", status="ready", pickup_by="2026-12-04T10:00:00+00:00")})
    services.get(f"{BORROWS}/borrows", json=[loan(2)], headers={"X-Total-Count": "4"})

    response = client.post("/manage/loans/7/checkin", data={"barcode": "1000000007", "back": "/manage/loans?page=2"},
                           headers={"HX-Request": "true"})

    html = response.get_data(as_text=True)
    assert json_body(scanned.calls[0]) == {"barcode": "1000000007"}  # the scanner's routing, not a web return
    assert '<tr id="desk-loan-7" class="returned to-hold-shelf">' in html
    assert "Hold shelf for bob, pickup by 4 Dec 2026" in html
    assert '<span id="active-count" hx-swap-oob="true">4</span>' in html


def test_without_javascript_the_row_s_check_in_returns_where_the_librarian_was(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.post(f"{BORROWS}/checkin", json={"route": "shelf", "loan": loan(7, title="Dune", returned=True),
                                               "hold": None})

    on_a_patron_s_page = client.post("/manage/loans/7/checkin", data={"barcode": "1000000007",
                                                                       "back": "/manage/users/alice"})
    elsewhere = client.post("/manage/loans/7/checkin", data={"barcode": "1000000007",
                                                              "back": "https://evil.example/manage/"})

    assert on_a_patron_s_page.headers["Location"] == "/manage/users/alice"
    assert elsewhere.headers["Location"] == "/manage/loans"


def test_the_loans_desk_list_keeps_its_hx_select_to_itself(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{BORROWS}/borrows", **listing([loan(7, title="Dune")]))

    html = client.get("/manage/loans").get_data(as_text=True)

    assert 'hx-disinherit="*"' in html
    assert '<input type="hidden" name="barcode" value="1000000007">' in html


def test_a_scanned_barcode_is_trimmed(client, log_in_as, services):
    log_in_as("boss", "librarian")
    scanned = services.post(f"{BORROWS}/checkin", json={"route": "shelf", "loan": loan(title="Dune", returned=True),
                                                        "hold": None})

    desk(client, "/manage/desk/checkin", {"barcode": " 1000000001\t"})

    assert json_body(scanned.calls[0]) == {"barcode": "1000000001"}


def test_a_missing_copy_that_turns_up_at_check_in_is_marked_found(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.post(f"{BORROWS}/checkin", status=409, json={
        "message": "Item 1000000001 (Dune) is marked missing and is not on loan: mark it found to put it back in "
                   "circulation", "errors": {"item_status": "missing"}})
    found = services.patch(f"{BOOKS}/items/1000000001", json={"barcode": "1000000001", "book_id": 1, "title": "Dune",
                                                                "status": "available"})

    scanned = desk(client, "/manage/desk/checkin", {"barcode": "1000000001"}).get_data(as_text=True)
    marked = desk(client, "/manage/desk/found", {"barcode": "1000000001"}).get_data(as_text=True)

    assert "is marked missing" in scanned and 'action="/manage/desk/found"' in scanned
    assert '<input type="hidden" name="barcode" value="1000000001">' in scanned
    assert json_body(found.calls[0]) == {"status": "available"}
    assert "Marked found: back in circulation" in marked and "Returned by" not in marked


def test_a_copy_not_on_loan_for_another_reason_is_not_offered_mark_found(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.post(f"{BORROWS}/checkin", status=409, json={
        "message": "Item 1000000001 (Dune) is on the hold shelf for bob until 4 Dec 2026: it is not on loan",
        "errors": {"hold_shelf": "bob"}})

    scanned = desk(client, "/manage/desk/checkin", {"barcode": "1000000001"}).get_data(as_text=True)

    assert "on the hold shelf for bob" in scanned and "Mark found" not in scanned


def test_check_out_starts_on_the_patron_and_shows_their_standing(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{USERS}/users", **listing([{"username": "asmith", "first_name": "Ann", "last_name": "Smith"}]))
    services.get(f"{BORROWS}/patrons/asmith", json=patron(
        "asmith", category="child", active_loans=5, overdue_loans=2, ready_holds=1, card_expired=False,
        card_expires_on="2027-06-30"))
    services.get(f"{BORROWS}/borrows", **listing([]))

    desk_page = client.get("/manage/loans?mode=checkout").get_data(as_text=True)
    standing = client.get("/manage/desk/patron?patron=Ann", headers={"HX-Request": "true"}).get_data(as_text=True)

    assert re.search(r'<input[^>]*autofocus[^>]*name="patron"|<input[^>]*name="patron"[^>]*autofocus', desk_page)
    assert "<strong>asmith</strong></a>\n      (child)" in standing and "5 of 5 on loan" in standing
    assert "2 overdue" in standing and "1 on the hold shelf for them" in standing
    assert "Card valid until 30 Jun 2027" in standing and "They are at their loan limit." in standing


def test_an_expired_card_is_said_before_the_first_scan(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{USERS}/users", **listing([{"username": "lapsed", "first_name": "La", "last_name": "Psed"}]))
    services.get(f"{BORROWS}/patrons/lapsed", json=patron("lapsed", category="adult", card_expired=True,
                                                         card_expires_on="2026-11-01"))

    standing = client.get("/manage/desk/patron?patron=lapsed", headers={"HX-Request": "true"}).get_data(as_text=True)

    assert "Card expired 1 Nov 2026" in standing and "Their card has expired: renew it on their page" in standing


def test_a_librarian_lends_past_the_rule_with_a_reason(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{USERS}/users", **listing([{"username": "asmith", "first_name": "Ann", "last_name": "Smith"}]))
    services.get(f"{BORROWS}/patrons/asmith", json=patron("asmith"))
    lent = services.post(f"{BORROWS}/checkout", status=201, json=loan(
        username="asmith", title="Emma", override_reason="Exam week", overridden_by="boss",
        due_date="2027-01-05T23:59:00+00:00"))

    html = desk(client, "/manage/desk/checkout", {"patron": "asmith", "barcode": "1000000001",
                                                  "override_reason": "Exam week", "due_date": "2027-01-05"})

    assert json_body(lent.calls[0]) == {"barcode": "1000000001", "username": "asmith",
                                        "override_reason": "Exam week", "due_date": "2027-01-05"}
    assert "Due 5 Jan 2027 (past the rule: Exam week)" in html.get_data(as_text=True)


def test_a_due_date_of_one_s_own_needs_a_reason(client, log_in_as, services):
    log_in_as("boss", "librarian")

    html = desk(client, "/manage/desk/checkout", {"patron": "asmith", "barcode": "1000000001",
                                                  "due_date": "2027-01-05"}).get_data(as_text=True)

    assert "Say why this loan has its own due date" in html and '<details class="override" open>' in html


def test_a_librarian_sees_a_title_s_line_and_moves_a_reader_with_a_reason(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.get(f"{BOOKS}/books/1", json=book(1))
    services.get(f"{BORROWS}/holds", **listing([hold(2, username="carol", position=2,
                                                     suspended_until="2027-01-10", not_needed_after=None,
                                                     moved_note=None),
                                                hold(1, username="bob", position=1, suspended_until=None,
                                                     not_needed_after=None, moved_note="Moved up by boss: x")]))
    moved = services.post(f"{BORROWS}/holds/2/move", json=hold(2, username="carol", position=1))

    page = client.get("/manage/books/1/holds").get_data(as_text=True)
    client.post("/manage/books/1/holds/2/move", data={"direction": "up", "reason": "Course reading"})

    assert page.index(">bob</a>") < page.index(">carol</a>") and "Away until 10 Jan 2027" in page
    assert "Moved up by boss: x" in page
    assert 'Up<span class="sr-only"> bob' not in page and 'Down<span class="sr-only"> carol' not in page
    assert 'Down<span class="sr-only"> bob' in page and 'Up<span class="sr-only"> carol' in page
    assert json_body(moved.calls[0]) == {"direction": "up", "reason": "Course reading"}
    with client.session_transaction() as session:
        assert ("success", "Moved carol up: now 1st in line.") in session["_flashes"]


def test_moving_a_reader_needs_a_reason(client, log_in_as, services):
    log_in_as("boss", "librarian")

    client.post("/manage/books/1/holds/2/move", data={"direction": "up", "reason": ""})

    with client.session_transaction() as session:
        assert ("error", "Say why you move them") in session["_flashes"]


def test_a_copy_pulled_from_the_shelf_for_a_request_gets_a_slip(client, log_in_as, services):
    log_in_as("boss", "librarian")
    services.post(f"{BORROWS}/checkin", json={"route": "hold_shelf", "loan": None, "hold": hold(
        title="Dune", username="bob", status="ready", barcode="1000000002", pickup_by="2026-12-04T10:00:00+00:00")})

    html = desk(client, "/manage/desk/checkin", {"barcode": "1000000002"}).get_data(as_text=True)

    assert "Hold shelf for bob, pickup by 4 Dec 2026" in html and "“Dune”" in html and "Returned by" not in html
