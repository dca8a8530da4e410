"""The loans' hot queries can be served by indexes, not by reading the whole table."""

import pytest

from library_common.testing import analysed, query_plans


@pytest.fixture
def many_loans(app):
    analysed(app, "loans",
             "INSERT INTO loans (username, book_id, borrow_date, due_date, returned, returned_date, renewals) "
             "SELECT 'user' || (g % 2000), g % 5000, now() - interval '30 days', now() - interval '16 days', "
             "g % 10 <> 0, CASE WHEN g % 10 <> 0 THEN now() - interval '20 days' END, 0 "
             "FROM generate_series(1, 30000) AS g ON CONFLICT DO NOTHING")
    analysed(app, "holds",
             "INSERT INTO holds (book_id, title, username, status, placed_at, ready_at, pickup_by, barcode, closed_at) "
             "SELECT g % 5000, 'Book', 'user' || (g % 2000), "
             "(ARRAY['waiting', 'ready', 'fulfilled', 'expired'])[1 + g % 4], "
             "now(), CASE WHEN g % 4 = 1 THEN now() END, CASE WHEN g % 4 = 1 THEN now() + interval '7 days' END, "
             "CASE WHEN g % 4 = 1 THEN 'B' || g END, CASE WHEN g % 4 > 1 THEN now() END "
             "FROM generate_series(1, 20000) AS g ON CONFLICT DO NOTHING")


REQUESTS = [
    ("patron", "GET", "/borrows?active=true", None),
    ("patron", "GET", "/borrows", None),
    ("librarian", "GET", "/borrows/user/user7?active=true", None),
    ("librarian", "GET", "/borrows/book/42", None),
    ("librarian", "GET", "/borrows?overdue=true", None),
    ("librarian", "GET", "/borrows?active=true", None),
    ("anyone", "GET", "/borrows/active-counts?book_id=1&book_id=2&book_id=3", None),
    ("patron", "POST", "/borrowbook", {"book_id": 4999}),
    ("patron", "POST", "/return", {"book_id": 4999}),
    ("patron", "POST", "/borrows/17/return", None),
    ("patron", "GET", "/holds", None),
    ("librarian", "GET", "/holds?status=ready", None),
    ("librarian", "GET", "/holds?book_id=42&status=waiting", None),
    ("patron", "POST", "/holds", {"book_id": 4998}),
    ("patron", "GET", "/patrons/user7?book_id=42", None),
    ("librarian", "GET", "/circulation/books/42", None),
]


@pytest.mark.parametrize("who, method, url, body", REQUESTS, ids=[f"{m} {u}" for _w, m, u, _b in REQUESTS])
def test_loan_queries_do_not_scan_the_loans_table(app, client, tokens, neighbours, many_loans, who, method, url, body):
    neighbours.copies[4999] = neighbours.copies[4998] = 50
    neighbours.users.add("user7")
    headers = {"patron": tokens.headers("user7"), "librarian": tokens.headers("boss", "librarian"), "anyone": {}}[who]

    plans = query_plans(app, lambda: client.open(url, method=method, json=body, headers=headers), "loans") + \
        query_plans(app, lambda: client.open(url, method=method, json=body, headers=headers), "holds")

    assert plans, "no query was captured"
    for plan in plans:
        assert "Seq Scan on loans" not in plan and "Seq Scan on holds" not in plan, plan


def test_the_worker_s_scans_do_not_read_whole_tables(app, many_loans):
    from datetime import datetime, timezone

    from borrow_service import history, holds
    from borrow_service.deps import deps

    def scans():
        now = datetime.now(timezone.utc)
        holds.expire_uncollected(deps(), now)
        history.anonymise_expired(deps().policy, deps().history_key, now)

    for table in ("loans", "holds"):
        for plan in query_plans(app, scans, table):
            assert f"Seq Scan on {table}" not in plan, plan
