import requests

from .conftest import BOOKS, BORROWS, book, hold, json_body, listing, loan, patron


def my_holds_and_settings(services, username="alice", holds=()):
    services.get(f"{BORROWS}/holds", **listing(list(holds)))
    services.get(f"{BORROWS}/patrons/{username}", json=patron(username))


def test_my_borrows_shows_current_loans_with_titles_and_history(client, services, log_in_as):
    log_in_as("alice")
    my_holds_and_settings(services)
    services.get(f"{BORROWS}/borrows", **listing([loan(1, overdue=True)]),
                 match=[responses_query({"active": "true"})])
    services.get(f"{BORROWS}/borrows", **listing([loan(2, 2, returned=True,
                                                       returned_date="2026-11-10T10:00:00+00:00")]),
                 match=[responses_query({"active": "false"})])
    services.get(f"{BOOKS}/books", **listing([book(1), book(2, title="Dune")]),
                 match=[responses_query({"availability": "false"})])  # titles only: no loan counts needed

    html = client.get("/my/borrows").get_data(as_text=True)

    assert "The Hitchhiker&#39;s Guide to the Galaxy" in html and "Dune" in html
    assert 'class="overdue"' in html and "Overdue" in html
    assert "10 Nov 2026" in html


def test_titles_are_asked_for_once_and_again_after_an_edit(client, services, log_in_as):
    log_in_as("boss", "librarian")
    my_holds_and_settings(services, "boss")
    services.get(f"{BORROWS}/borrows", **listing([loan(1)]))
    titles = services.get(f"{BOOKS}/books", **listing([book(1)]), match=[responses_query({"id": "1"})])
    services.get(f"{BOOKS}/books/1", json=book(1))
    services.patch(f"{BOOKS}/books/1", json=book(1, title="Renamed"))

    for _ in range(3):
        assert "The Hitchhiker&#39;s Guide" in client.get("/my/borrows").get_data(as_text=True)
    assert titles.call_count == 1
    client.post("/manage/books/1/edit", data={"title": "Renamed", "author": "Douglas Adams", "genre": "SF",
                                             "copies": "1"})
    client.get("/my/borrows")
    assert titles.call_count == 2


def test_renewing_with_htmx_returns_the_updated_row(client, services, log_in_as):
    log_in_as("alice")
    services.post(f"{BORROWS}/borrows/1/renew", json=loan(1, due_date="2026-12-18T10:00:00+00:00", renewals=1))
    services.get(f"{BOOKS}/books", **listing([book(1)]))

    html = client.post("/my/borrows/1/renew", headers={"HX-Request": "true"}).get_data(as_text=True)

    assert html.lstrip().startswith('<tr id="loan-1"') and "18 Dec 2026" in html
    assert 'hx-swap-oob="true"' in html and "Renewed: now due 18 Dec 2026." in html  # the news replaces the last


def test_a_refused_renewal_is_announced_not_swapped(client, services, log_in_as):
    log_in_as("alice")
    services.post(f"{BORROWS}/borrows/1/renew", status=409, json={"message": "Already renewed 2 times"})

    response = client.post("/my/borrows/1/renew", headers={"HX-Request": "true"})

    assert response.headers["HX-Retarget"] == "#flash"
    assert "Already renewed 2 times" in response.get_data(as_text=True)


def test_returning_without_javascript_redirects_with_a_message(client, services, log_in_as):
    log_in_as("alice")
    services.post(f"{BORROWS}/borrows/1/return", json=loan(1, returned=True, returned_date="2026-11-25T10:00:00+00:00"))

    response = client.post("/my/borrows/1/return")

    assert response.status_code == 302 and response.headers["Location"] == "/my/borrows"


def test_my_borrows_when_loans_are_down_is_a_friendly_503(client, services, log_in_as):
    log_in_as("alice")
    services.get(f"{BORROWS}/borrows", body=requests.ConnectionError("down"))

    response = client.get("/my/borrows")

    assert response.status_code == 503
    assert "Part of the library is unavailable" in response.get_data(as_text=True)


def responses_query(params):
    from responses import matchers

    return matchers.query_param_matcher(params, strict_match=False)


def test_a_loan_not_renewable_yet_says_from_when_instead_of_offering_the_button(client, services, log_in_as):
    log_in_as("alice")
    my_holds_and_settings(services)
    services.get(f"{BORROWS}/borrows", **listing([loan(1, renewable_from="2999-01-02T10:00:00+00:00"),
                                                  loan(2, 2, renewable_from="2000-01-02T10:00:00+00:00")]),
                 match=[responses_query({"active": "true"})])
    services.get(f"{BORROWS}/borrows", **listing([]), match=[responses_query({"active": "false"})])
    services.get(f"{BOOKS}/books", **listing([book(1), book(2, title="Dune")]))

    html = client.get("/my/borrows").get_data(as_text=True)

    assert "Renewable from 2 Jan 2999" in html
    assert 'action="/my/borrows/1/renew"' not in html and 'action="/my/borrows/2/renew"' in html


def test_renew_all_renews_each_loan_and_says_which_could_not(client, services, log_in_as):
    log_in_as("alice")
    services.get(f"{BORROWS}/borrows", **listing([loan(1, title="Dune"), loan(2, 2, title="Emma")]))
    services.post(f"{BORROWS}/borrows/1/renew", json=loan(1, title="Dune", due_date="2026-12-18T10:00:00+00:00"))
    waiting = "Another patron is waiting for this book, so it cannot be renewed; please return it by its due date"
    services.post(f"{BORROWS}/borrows/2/renew", status=409, json={"message": waiting})

    response = client.post("/my/borrows/renew-all")

    assert response.status_code == 302 and response.headers["Location"] == "/my/borrows"
    with client.session_transaction() as session:
        assert session["_flashes"] == [
            ("success", "Renewed 1 of 2: “Dune” (now due 18 Dec 2026)."),
            ("error", "Not renewed: “Emma”: Another patron is waiting for this book, so it cannot be renewed; please "
                      "return it by its due date.")]


def test_a_loan_someone_waits_for_says_so_instead_of_offering_renew(client, services, log_in_as):
    log_in_as("alice")
    my_holds_and_settings(services)
    services.get(f"{BORROWS}/borrows", **listing([loan(1, holds_waiting=2), loan(2, 2, holds_waiting=0)]),
                 match=[responses_query({"active": "true"})])
    services.get(f"{BORROWS}/borrows", **listing([]), match=[responses_query({"active": "false"})])
    services.get(f"{BOOKS}/books", **listing([book(1), book(2, title="Dune")]))

    html = client.get("/my/borrows").get_data(as_text=True)

    assert "Someone is waiting for it: it cannot be renewed" in html
    assert 'action="/my/borrows/1/renew"' not in html and 'action="/my/borrows/2/renew"' in html


def test_a_reader_suspends_a_hold_and_gives_it_an_end(client, services, log_in_as):
    log_in_as("alice")
    changed = services.patch(f"{BORROWS}/holds/3", json=hold(3, title="Dune", suspended_until="2027-01-10",
                                                             not_needed_after=None))

    client.post("/my/holds/3/dates", data={"suspended_until": "2027-01-10", "not_needed_after": ""})

    assert json_body(changed.calls[0]) == {"suspended_until": "2027-01-10", "not_needed_after": None}
    with client.session_transaction() as session:
        assert session["_flashes"] == [("success", "Your hold on “Dune”: copies pass you by until 10 Jan 2027.")]
