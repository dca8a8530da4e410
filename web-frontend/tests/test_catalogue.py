import pytest
import requests

from .conftest import BOOKS, BORROWS, book, listing, loan, patron


def test_catalogue_lists_books_with_availability(client, services):
    services.get(f"{BOOKS}/books", **listing([book(), book(2, title="Dune", available_copies=0, available=False),
                                             book(3, title="Emma", available=None, available_copies=None)]))

    html = client.get("/").get_data(as_text=True)

    assert "The Hitchhiker&#39;s Guide to the Galaxy" in html
    assert "1 of 2 available" in html
    assert "All copies on loan" in html
    assert "Availability unknown" in html
    assert "3 books" in html


def test_a_search_with_too_many_matches_to_count_says_so(client, services):
    services.get(f"{BOOKS}/books", json=[book()], headers={"X-Total-Count": "500", "X-Total-Count-Capped": "true"})

    html = client.get("/?q=the").get_data(as_text=True)

    assert "More than 500 books match" in html and "Add a word" in html
    assert "Page 1 of 25" in html


def test_search_parameters_are_passed_on(client, services):
    services.get(f"{BOOKS}/books", **listing([]))

    client.get("/?q=hitch&genre=Science+Fiction&available=y&sort=title&page=2")

    sent = services.calls[-1].request.url
    for part in ("q=hitch", "genre=Science+Fiction", "available=true", "sort=title", "page=2", "per_page=20"):
        assert part in sent


def test_htmx_search_gets_only_the_results_fragment(client, services):
    services.get(f"{BOOKS}/books", **listing([book()]))

    response = client.get("/?q=hitch", headers={"HX-Request": "true", "HX-Target": "results"})

    html = response.get_data(as_text=True)
    assert "<html" not in html and "book-card" in html
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("query, text", [("", "The catalogue is empty."), ("?q=zzz", "No books match your search")])
def test_empty_states(client, services, query, text):
    services.get(f"{BOOKS}/books", **listing([]))

    assert text in client.get(f"/{query}").get_data(as_text=True)


def test_catalogue_says_so_when_books_service_is_down(client, services):
    services.get(f"{BOOKS}/books", body=requests.ConnectionError("down"))

    response = client.get("/")

    assert response.status_code == 200
    assert "The catalogue is unavailable right now" in response.get_data(as_text=True)


def test_book_page_invites_visitors_to_log_in_and_come_back(client, services):
    services.get(f"{BOOKS}/books/1", json=book())

    html = client.get("/books/1").get_data(as_text=True)

    assert 'href="/login?next=/books/1"' in html
    assert "1979" in html


def test_unknown_book_is_a_friendly_404(client, services):
    services.get(f"{BOOKS}/books/9", status=404, json={"message": "No book with id 9"})

    response = client.get("/books/9")

    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_borrowing_with_htmx_updates_the_panel(client, services, log_in_as):
    log_in_as("alice")
    services.post(f"{BORROWS}/borrowbook", status=201, json={
        "id": 1, "username": "alice", "book_id": 1, "borrow_date": "2026-11-25T10:00:00+00:00",
        "due_date": "2026-12-09T10:00:00+00:00", "returned": False})
    services.get(f"{BOOKS}/books/1", json=book(available_copies=0, available=False))
    services.get(f"{BORROWS}/patrons/alice", json=patron(loan=loan(due_date="2026-12-09T10:00:00+00:00")))

    response = client.post("/books/1/borrow", headers={"HX-Request": "true", "HX-Target": "borrow-panel"})

    html = response.get_data(as_text=True)
    assert "Borrowed!" in html and "9 Dec 2026" in html and "<html" not in html
    assert "You have this — due <strong>9 Dec</strong>" in html
    assert services.calls[-3].request.headers["Authorization"].startswith("Bearer ")


def test_a_refused_borrow_says_why(client, services, log_in_as):
    log_in_as("alice")
    services.post(f"{BORROWS}/borrowbook", status=409, json={"message": "No copy of this book is free right now"})

    response = client.post("/books/1/borrow")

    assert response.status_code == 302
    with client.session_transaction() as session:
        assert ("error", "No copy of this book is free right now") in session["_flashes"]


def test_borrowing_needs_a_login(client):
    response = client.post("/books/1/borrow")

    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


def test_genres_are_asked_for_once_a_minute_not_on_every_view(tokens, services):
    from .conftest import make_app

    client = make_app(tokens, WTF_CSRF_ENABLED=False).test_client()
    services.get(f"{BOOKS}/books", **listing([]))

    for _ in range(3):
        assert "Science Fiction (1)" in client.get("/").get_data(as_text=True)

    assert sum(1 for call in services.calls if call.request.url.endswith("/genres")) == 1
