import pytest
import requests
import responses

from .conftest import BOOKS, BORROWS, book, facets, listing, loan, patron


def test_catalogue_lists_books_with_availability(client, services):
    services.get(f"{BOOKS}/books", **listing([book(), book(2, title="Dune", available_copies=0, available=False),
                                             book(3, title="Emma", available=None, available_copies=None)]))

    html = client.get("/").get_data(as_text=True)

    assert "The Hitchhiker&#39;s Guide to the Galaxy" in html
    assert "1 of 2 available" in html
    assert "All copies out" in html
    assert "Availability unknown" in html
    assert "3 books" in html


def test_a_search_with_too_many_matches_to_count_says_so(client, services):
    services.get(f"{BOOKS}/books", json=[book()], headers={"X-Total-Count": "500", "X-Total-Count-Capped": "true",
                                                           "X-Sorted-By": "title"})

    html = client.get("/?q=the").get_data(as_text=True)

    assert "More than 500 books match" in html and "Add a word" in html
    assert "listed by title (too many to rank by best match)" in html
    assert "Page 1 of 25" in html


def test_search_parameters_are_passed_on(client, services):
    services.get(f"{BOOKS}/books", **listing([]))

    client.get("/?q=hitch&genre=Science+Fiction&available=y&sort=title&page=2&language=en&decade=1970&author=X")

    sent = next(call.request.url for call in services.calls if "/books?" in call.request.url)
    for part in ("q=hitch", "genre=Science+Fiction", "available=true", "sort=title", "page=2", "per_page=20",
                 "language=en", "decade=1970", "author=X"):
        assert part in sent
    facets_asked = next(call.request.url for call in services.calls if "/books/facets" in call.request.url)
    assert "q=hitch" in facets_asked and "decade=1970" in facets_asked and "page" not in facets_asked


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


def test_the_whole_catalogue_facets_are_asked_for_once_a_minute_not_on_every_view(tokens, services):
    from .conftest import make_app

    client = make_app(tokens, WTF_CSRF_ENABLED=False).test_client()
    services.get(f"{BOOKS}/books", **listing([book()]))

    for _ in range(3):
        assert "Science Fiction <span class=\"facet-count\">1</span>" in client.get("/").get_data(as_text=True)

    assert sum(1 for call in services.calls if call.request.url.endswith("/books/facets")) == 1


def test_a_search_is_listed_by_best_match_unless_another_order_is_chosen(client, services):
    services.get(f"{BOOKS}/books", **listing([book()]))

    client.get("/?q=hitch")
    client.get("/")
    client.get("/?q=hitch&sort=author")

    sent = [call.request.url for call in services.calls if "/books?" in call.request.url]
    assert "sort=relevance" in sent[0] and "sort" not in sent[1] and "sort=author" in sent[2]


def test_facets_beside_the_results_add_and_remove_filters(client, services):
    services.get(f"{BOOKS}/books", **listing([book()]))
    services.replace("GET", f"{BOOKS}/books/facets", json=facets(
        language=[("en", "English", 1)], decade=[("1970", "1970s", 1)]) | {"available": 1})

    html = client.get("/?q=hitch&genre=Science+Fiction").get_data(as_text=True)

    assert 'href="/?genre=Science+Fiction&amp;q=hitch&amp;language=en"' in html
    assert 'aria-current="true" class="chosen">Science Fiction' in html  # in use: its link removes it
    assert 'href="/?q=hitch"' in html and "Remove filter Genre: Science Fiction" in html
    assert "1970s" in html and "Available now" in html
    assert '<input type="hidden" name="genre" value="Science Fiction">' in html  # kept by the next search


def test_the_available_now_filter_in_use_reads_as_such(client, services):
    services.get(f"{BOOKS}/books", **listing([book()]))
    services.replace("GET", f"{BOOKS}/books/facets", json=facets() | {"available": 3})

    response = client.get("/?q=hitch&available=true")

    assert response.status_code == 200
    assert 'aria-label="Remove filter Available now">Available now <span' in response.get_data(as_text=True)


def test_htmx_results_carry_the_filters_for_the_search_form(client, services):
    services.get(f"{BOOKS}/books", **listing([book()]))

    html = client.get("/?genre=Science+Fiction", headers={"HX-Request": "true", "HX-Target": "results"}).get_data(
        as_text=True)

    assert 'id="filter-inputs" hx-swap-oob="true"' in html and 'name="genre" value="Science Fiction"' in html


def test_a_search_that_found_nothing_shows_the_corrected_results(client, services):
    services.get(f"{BOOKS}/books", json=[book(title="The Hobbit")],
                 headers={"X-Total-Count": "1", "X-Did-You-Mean": "hobbit", "X-Showing-Results-For": "hobbit"})

    html = client.get("/?q=hobit").get_data(as_text=True)

    assert "No books match “hobit”. Showing results for <strong>hobbit</strong>" in html
    assert "The Hobbit" in html
    facets_asked = next(call.request.url for call in services.calls if "/books/facets" in call.request.url)
    assert "q=hobbit" in facets_asked  # the facets of the books shown


def test_a_search_that_found_few_offers_a_correction(client, services):
    services.get(f"{BOOKS}/books", json=[book(title="Tolkein's Typo")],
                 headers={"X-Total-Count": "1", "X-Did-You-Mean": "tolkien%20hobbit"})

    html = client.get("/?q=tolkein+hobbit&genre=Fantasy").get_data(as_text=True)

    assert "Did you mean" in html and "<strong>tolkien hobbit</strong>" in html
    assert 'href="/?genre=Fantasy&amp;q=tolkien+hobbit"' in html


def test_the_search_box_suggests_titles_and_authors(client, services):
    services.get(f"{BOOKS}/books/suggestions", json=[{"kind": "author", "text": "J. R. R. Tolkien"},
                                                     {"kind": "title", "text": "The Hobbit"}])

    html = client.get("/suggestions?q=tolk", headers={"HX-Request": "true"}).get_data(as_text=True)

    assert '<option value="J. R. R. Tolkien" label="Author">' in html
    assert '<option value="The Hobbit" label="Title">' in html


def test_suggestions_are_quietly_absent_when_books_service_is(client, services):
    services.get(f"{BOOKS}/books/suggestions", body=requests.ConnectionError("down"))

    response = client.get("/suggestions?q=tolk")

    assert response.status_code == 200 and "<option" not in response.get_data(as_text=True)


def test_covers_are_the_library_s_own_and_a_book_without_one_shows_its_placeholder(client, services):
    services.get(f"{BOOKS}/books", **listing([book(has_cover=True), book(2, title="Dune", has_cover=False)]))
    services.get(f"{BOOKS}/books/1", json=book(has_cover=True))

    html = client.get("/").get_data(as_text=True)
    page = client.get("/books/1").get_data(as_text=True)

    assert html.count("<img") == 1 and '<img src="/books/1/cover" alt=""' in html  # no cover, no (broken) image
    assert '<span class="cover-initials">TH</span>' in html and '<span class="cover-initials">D</span>' in html
    assert '<img src="/books/1/cover" alt=""' in page


def test_a_cover_is_passed_on_from_books_service_with_its_etag(client, services):
    services.get(f"{BOOKS}/books/1/cover", body=b"\x89PNG\r\n\x1a\n...", content_type="image/png",
                 headers={"ETag": '"abc"', "Cache-Control": "public, max-age=86400"})
    services.get(f"{BOOKS}/books/2/cover", status=304, headers={"ETag": '"def"'},
                 match=[responses.matchers.header_matcher({"If-None-Match": '"def"'})])
    services.get(f"{BOOKS}/books/3/cover", status=404, json={"message": "Book 3 has no cover"})
    services.get(f"{BOOKS}/books/4/cover", body="<svg onload=alert(1)>", content_type="image/svg+xml")

    served = client.get("/books/1/cover")
    unchanged = client.get("/books/2/cover", headers={"If-None-Match": '"def"'})

    assert served.status_code == 200 and served.data == b"\x89PNG\r\n\x1a\n..."
    assert served.headers["Content-Type"] == "image/png" and served.headers["ETag"] == '"abc"'
    assert served.headers["Cache-Control"] == "public, max-age=86400"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert unchanged.status_code == 304 and unchanged.headers["ETag"] == '"def"'
    assert client.get("/books/3/cover").status_code == 404
    assert client.get("/books/4/cover").status_code == 404  # only the image types books-service keeps


def test_the_content_security_policy_allows_images_from_the_library_alone(client, services):
    services.get(f"{BOOKS}/books", **listing([]))

    policy = client.get("/").headers["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["img-src"] == "'self' data:"
    assert directives["default-src"] == "'self'" and "script-src 'self'" in policy



def test_the_facets_are_left_out_when_they_cannot_be_counted(client, services):
    services.get(f"{BOOKS}/books", **listing([book()]))
    services.replace("GET", f"{BOOKS}/books/facets", body=requests.ConnectionError("down"))

    html = client.get("/?q=hitch").get_data(as_text=True)

    assert "The Hitchhiker" in html and 'class="facets"' not in html


def test_a_book_page_shows_the_original_title_of_a_translation(client, services):
    services.get(f"{BOOKS}/books/1", json=book(title="The Stranger", original_title="L’Étranger"))
    services.get(f"{BOOKS}/books/2", json=book(2, title="Dune", original_title="Dune"))

    translated = client.get("/books/1").get_data(as_text=True)
    same = client.get("/books/2").get_data(as_text=True)

    assert "<dt>Original title</dt><dd>L’Étranger</dd>" in translated
    assert "Original title" not in same  # only when it differs
