"""The librarians' Policy page: the circulation rules matrix and the calendar, kept by borrow-service."""

from .conftest import BOOKS, BORROWS, USERS, json_body

SETTINGS_RULE = {"patron_category": "*", "item_type": "*", "loan_days": 14.0, "max_renewals": 2,
                 "no_renewal_before_days": None, "max_loans": 5, "holdable": True, "hold_pickup_days": 7.0,
                 "key": "* × *", "from_settings": True}
CHILD_DVD = SETTINGS_RULE | {"patron_category": "child", "item_type": "dvd", "loan_days": 7.0, "max_loans": 2,
                             "no_renewal_before_days": 2, "key": "child × dvd", "from_settings": False}


def policy_services(services, rules=(SETTINGS_RULE,), calendar=None):
    services.get(f"{BORROWS}/circulation-rules", json=list(rules))
    services.get(f"{BORROWS}/calendar", json=calendar or {"weekdays": [], "days": []})
    services.get(f"{USERS}/patron-categories", json=[{"code": "adult", "name": "Adult", "patrons": 3},
                                                     {"code": "child", "name": "Child", "patrons": 1}])
    services.get(f"{BOOKS}/item-types", json=[{"code": "book", "name": "Book", "items": 9},
                                              {"code": "dvd", "name": "DVD", "items": 2}])


def flashes(client):
    with client.session_transaction() as session:
        return [message for _, message in session.get("_flashes", [])]


def test_the_page_shows_the_matrix_with_names_and_the_calendar(client, services, log_in_as):
    log_in_as("boss", "librarian")
    policy_services(services, rules=(SETTINGS_RULE, CHILD_DVD), calendar={
        "weekdays": [{"id": 1, "day": None, "weekday": 6, "reason": "Sundays"}],
        "days": [{"id": 2, "day": "2026-12-25", "weekday": None, "reason": "Christmas"}]})

    page = client.get("/manage/policy").get_data(as_text=True)

    assert "<td>Child</td>" in page and "<td>DVD</td>" in page and "2 days before due" in page
    assert "The library's settings (LOAN_DAYS, …)" in page  # the * × * rule nobody saved cannot be deleted
    assert page.count("Delete<span") == 1
    assert "Every Sunday — Sundays" in page and "25 Dec 2026 — Christmas" in page
    assert '<option value="child">Child</option>' in page and '<option value="dvd">DVD</option>' in page


def test_saving_a_rule_sends_the_cell_and_its_numbers(client, services, log_in_as):
    log_in_as("boss", "librarian")
    policy_services(services)
    saved = services.put(f"{BORROWS}/circulation-rules/child/dvd", json=CHILD_DVD)

    response = client.post("/manage/policy/rules", data={
        "patron_category": "child", "item_type": "dvd", "loan_days": "7", "max_renewals": "1",
        "no_renewal_before_days": "2", "max_loans": "2", "holdable": "y", "hold_pickup_days": "3.5"})

    assert response.status_code == 302
    assert json_body(saved.calls[0]) == {"loan_days": 7.0, "max_renewals": 1, "no_renewal_before_days": 2,
                                         "max_loans": 2, "holdable": True, "hold_pickup_days": 3.5}
    assert "Saved the rule for child × dvd: new loans go by it." in flashes(client)


def test_a_rule_the_service_refuses_shows_why_on_the_form(client, services, log_in_as):
    log_in_as("boss", "librarian")
    policy_services(services)
    services.put(f"{BORROWS}/circulation-rules/*/book", status=400, json={
        "message": "This rule names what the library does not have", "errors": {}})

    response = client.post("/manage/policy/rules", data={
        "patron_category": "*", "item_type": "book", "loan_days": "14", "max_renewals": "2", "max_loans": "5",
        "hold_pickup_days": "7"})

    assert response.status_code == 400
    assert "This rule names what the library does not have" in response.get_data(as_text=True)


def test_an_unknown_category_is_refused_before_asking(client, services, log_in_as):
    log_in_as("boss", "librarian")
    policy_services(services)

    response = client.post("/manage/policy/rules", data={
        "patron_category": "pensioner", "item_type": "book", "loan_days": "14", "max_renewals": "2",
        "max_loans": "5", "hold_pickup_days": "7"})

    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)


def test_closing_days_and_opening_again(client, services, log_in_as):
    log_in_as("boss", "librarian")
    policy_services(services)
    closed = services.post(f"{BORROWS}/calendar/closures", status=201, json=[
        {"id": 3, "day": "2026-12-24", "weekday": None, "reason": "Stocktaking"},
        {"id": 4, "day": "2026-12-25", "weekday": None, "reason": "Stocktaking"}])
    reopened = services.delete(f"{BORROWS}/calendar/closures/3", status=204)

    client.post("/manage/policy/closures", data={"day": "2026-12-24", "last_day": "2026-12-25",
                                                   "reason": "Stocktaking"})
    client.post("/manage/policy/closures/3/reopen")

    assert json_body(closed.calls[0]) == {"day": "2026-12-24", "last_day": "2026-12-25", "reason": "Stocktaking"}
    assert len(reopened.calls) == 1
    assert flashes(client) == ["Closed on 24 Dec 2026, 25 Dec 2026: due dates and pickup deadlines from now on "
                               "skip them.", "Open again on that day."]


def test_a_closure_needs_a_date_or_a_weekday(client, services, log_in_as):
    log_in_as("boss", "librarian")
    policy_services(services)

    response = client.post("/manage/policy/closures", data={"reason": "Why not"})

    assert response.status_code == 400 and "Choose a date, or a day of the week" in response.get_data(as_text=True)


def test_patrons_do_not_see_the_policy_pages(client, services, log_in_as):
    log_in_as("alice")

    assert client.get("/manage/policy").status_code == 403
    assert client.post("/manage/policy/closures", data={"weekday": "6"}).status_code == 403
