"""The notices' hot queries (a patron's inbox and count, the worker's claims, the failed list) use indexes."""

from datetime import datetime, timezone

import pytest

from library_common.testing import analysed, query_plans
from notification_service import delivery
from notification_service.deps import deps


@pytest.fixture
def many_notices(app):
    # 2,000 patrons with 30 notices each; most read and sent, some waiting to be sent, a few failed
    analysed(app, "notices",
             "INSERT INTO notices (dedupe_key, username, kind, subject, summary, body_text, body_html, in_app, "
             "read_at, email_to, email_status, next_attempt_at) "
             "SELECT 'borrows:' || g, 'user' || (g % 2000), 'due_soon', 'Due soon', 'Due', 'Due', '<p>Due</p>', "
             "g % 5 <> 0, CASE WHEN g % 7 <> 0 THEN now() END, 'user' || (g % 2000) || '@example.org', "
             "(ARRAY['sent', 'sent', 'sent', 'pending', 'failed', 'none'])[1 + g % 6], "
             "CASE WHEN g % 6 = 3 THEN now() - interval '1 minute' END "
             "FROM generate_series(1, 60000) AS g")


REQUESTS = [
    ("patron", "GET", "/notifications"),
    ("patron", "GET", "/notifications?unread=true"),
    ("patron", "GET", "/notifications/unread-count"),
    ("patron", "POST", "/notifications/read"),
    ("librarian", "GET", "/notices/failed"),
]


@pytest.mark.parametrize("who, method, url", REQUESTS, ids=[f"{m} {u}" for _w, m, u in REQUESTS])
def test_notice_queries_do_not_scan_the_notices_table(app, client, tokens, many_notices, who, method, url):
    headers = {"patron": tokens.headers("user7"), "librarian": tokens.headers("boss", "librarian")}[who]

    plans = query_plans(app, lambda: client.open(url, method=method, headers=headers), "notices")

    assert plans, "no query was captured"
    for plan in plans:
        assert "Seq Scan on notices" not in plan, plan


def test_the_worker_s_claims_do_not_read_the_whole_table(app, many_notices):
    def claims():
        now = datetime.now(timezone.utc)
        delivery.release_stale_claims(deps().mail, now)
        delivery.claim(deps().mail, now)

    plans = query_plans(app, claims, "notices")

    assert plans
    for plan in plans:
        assert "Seq Scan on notices" not in plan, plan
