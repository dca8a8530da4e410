"""borrow-service's audit trail: what librarians do at the desk is recorded with the change, a patron's own
borrowing is not, and GET /audit reads it back."""

import asyncio

import sqlalchemy as sa

from borrow_service import create_app, jobs
from borrow_service.models import db
from library_common.testing import audit_migration_goes_back_and_forth
from library_common.worker import job_app, run_worker

from .conftest import barcode, due_in


def trail(client, as_user, **query):
    response = client.get("/audit", query_string=query, headers=as_user("boss", "librarian"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_a_desk_checkout_past_the_rule_is_one_entry_with_the_reason(client, as_user, neighbours):
    neighbours.copies[1] = 1
    response = client.post("/checkout", json={"barcode": barcode(1), "username": "alice",
                                              "override_reason": "Teacher's class set"},
                           headers={**as_user("boss", "librarian"), "X-Request-ID": "desk-42"},
                           environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert response.status_code == 201, response.get_json()
    [entry] = trail(client, as_user)
    loan = response.get_json()
    assert entry | {"at": None, "id": None} == {
        "id": None, "at": None, "actor": "boss", "actor_role": "librarian", "action": "loan.overridden",
        "object_type": "loan", "object_id": str(loan["id"]), "related": "book:1", "subject": "alice",
        "summary": "B001-1 “Book 1” for alice", "request_id": "desk-42", "client_address": "192.0.2.9",
        "changes": entry["changes"]}
    assert entry["changes"]["override_reason"] == {"after": "Teacher's class set"}
    assert entry["changes"]["overridden_by"] == {"after": "boss"}
    assert entry["changes"]["barcode"] == {"after": "B001-1"}


def test_a_desk_check_in_and_a_renewal_for_a_patron_record_before_and_after(app, client, as_user, neighbours, desk):
    neighbours.copies[1] = 1
    loan = desk.check_out(barcode(1), "alice").get_json()
    due_in(app, loan["id"], 1)
    renewed = client.post(f"/borrows/{loan['id']}/renew", headers=as_user("boss", "librarian"))
    assert renewed.status_code == 200, renewed.get_json()
    assert desk.check_in(barcode(1)).status_code == 200
    check_in, renewal, checkout = trail(client, as_user)
    assert checkout["action"] == "loan.checked_out" and checkout["changes"]["barcode"] == {"after": barcode(1)}
    assert renewal["action"] == "loan.renewed"
    assert renewal["changes"]["renewals"] == {"before": 0, "after": 1}
    assert renewal["changes"]["due_date"]["before"] < renewal["changes"]["due_date"]["after"]
    assert check_in["action"] == "loan.checked_in"
    assert check_in["changes"]["returned"] == {"before": False, "after": True}


def test_a_patrons_own_borrowing_renewing_returning_and_holds_record_nothing(client, as_user, neighbours, borrow,
                                                                             hold):
    neighbours.copies[1] = 1
    loan = borrow(1).get_json()
    assert client.post(f"/borrows/{loan['id']}/renew", headers=as_user()).status_code in (200, 409)
    placed = hold(1)
    assert placed.status_code == 201
    assert client.post(f"/holds/{placed.get_json()['id']}/cancel", headers=as_user("bob")).status_code == 200
    assert client.post(f"/borrows/{loan['id']}/return", headers=as_user()).status_code == 200
    assert trail(client, as_user) == []


def test_holds_placed_moved_and_cancelled_for_patrons_are_recorded(client, as_user, neighbours, borrow, hold):
    neighbours.copies[1] = 1
    borrow(1)
    first = hold(1, caller="boss", role="librarian", username="bob").get_json()
    second = hold(1, caller="boss", role="librarian", username="carol").get_json()
    moved = client.post(f"/holds/{second['id']}/move", json={"direction": "up", "reason": "Course reading"},
                        headers=as_user("boss", "librarian"))
    assert moved.status_code == 200, moved.get_json()
    client.post(f"/holds/{first['id']}/cancel", headers=as_user("boss", "librarian"))
    entries = trail(client, as_user, action="hold.")
    assert [(entry["action"], entry["subject"]) for entry in entries] == [
        ("hold.cancelled", "bob"), ("hold.moved", "carol"), ("hold.placed", "carol"), ("hold.placed", "bob")]
    assert entries[1]["changes"]["place"] == {"before": 2, "after": 1}
    assert entries[0]["changes"]["status"] == {"before": "waiting", "after": "cancelled"}
    assert len(trail(client, as_user, object="book:1")) == 4  # the holds belong to their book


def test_rules_and_closures_changed_are_recorded(client, as_user):
    librarian = as_user("boss", "librarian")
    rule = {"loan_days": 28, "max_renewals": 3, "max_loans": 20, "holdable": True, "hold_pickup_days": 7}
    assert client.put("/circulation-rules/*/*", json=rule, headers=librarian).status_code == 200
    assert client.put("/circulation-rules/*/*", json=rule | {"loan_days": 21}, headers=librarian).status_code == 200
    closure = client.post("/calendar/closures", json={"day": "2099-12-25", "reason": "Christmas"}, headers=librarian)
    assert client.delete(f"/calendar/closures/{closure.get_json()[0]['id']}", headers=librarian).status_code == 204
    assert client.delete("/circulation-rules/*/*", headers=librarian).status_code == 204
    deleted, reopened, closed, changed, created = trail(client, as_user)
    assert (created["action"], created["object_id"], created["changes"]["loan_days"]) == (
        "rule.set", "* × *", {"before": None, "after": 28.0})
    assert changed["changes"] == {"loan_days": {"before": 28.0, "after": 21.0}}
    assert (closed["action"], closed["changes"]["day"]) == ("closure.added", {"after": "2099-12-25"})
    assert reopened["action"] == "closure.deleted"
    assert (deleted["action"], deleted["changes"]["loan_days"]) == ("rule.deleted", {"before": 21.0})


def test_a_checkout_that_fails_leaves_no_entry(client, as_user, neighbours, desk):
    neighbours.copies[1] = 1
    neighbours.statuses[barcode(1)] = "missing"
    assert desk.check_out(barcode(1), "alice").status_code == 409
    assert trail(client, as_user) == []


def test_the_trail_is_for_librarians_and_cannot_be_changed(app, client, as_user, neighbours, desk):
    assert client.get("/audit").status_code == 401
    assert client.get("/audit", headers=as_user()).status_code == 403
    assert client.get("/audit?limit=0", headers=as_user("boss", "librarian")).get_json()["errors"] == {
        "limit": "Must be greater than or equal to 1 and less than or equal to 500."}
    neighbours.copies[1] = 1
    desk.check_out(barcode(1), "alice")
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)("/audit", headers=as_user("boss", "librarian")).status_code == 405
    with app.app_context():
        for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
            try:
                with db.engine.begin() as connection:
                    connection.execute(sa.text(statement))
            except sa.exc.DBAPIError as error:
                assert "The audit trail cannot be changed" in str(error)
            else:
                raise AssertionError(f"{statement} was allowed")
    assert len(trail(client, as_user)) == 1


def test_pages_of_the_trail_lose_and_double_nothing(client, as_user, neighbours, desk):
    for book_id in range(1, 4):
        neighbours.copies[book_id] = 1
        desk.check_out(barcode(book_id), "alice")
        desk.check_in(barcode(book_id))
    everything = trail(client, as_user)
    assert len(everything) == 6
    seen, query = [], {"limit": 4}
    while True:
        response = client.get("/audit", query_string=query, headers=as_user("boss", "librarian")).get_json()
        seen += response["items"]
        if not response["has_more"]:
            break
        query = {"limit": 4, "before": seen[-1]["at"], "before_id": seen[-1]["id"]}
    assert [entry["id"] for entry in seen] == [entry["id"] for entry in everything]
    assert len(trail(client, as_user, subject="alice", action="loan.checked_in")) == 3


def test_the_migration_goes_back_and_forth(postgres_server_url):
    audit_migration_goes_back_and_forth(create_app, postgres_server_url, "borrows", "0008")


def test_the_worker_prunes_entries_older_than_the_retention(app, client, as_user, neighbours, desk):
    neighbours.copies[1] = 1
    desk.check_out(barcode(1), "alice")
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO audit_log (at, actor, actor_role, action, object_type, object_id) VALUES "
            "(clock_timestamp() - interval '731 days', 'boss', 'librarian', 'loan.checked_out', 'loan', '999')"))
    assert jobs.schedule(app.config)["prune_audit_log"] == 3600

    async def defer_then_work():
        worker_jobs = job_app(app)
        async with worker_jobs.open_async():
            await worker_jobs.tasks["borrow_service:prune_audit_log"].defer_async(timestamp=0)
        await run_worker(app, wait=False)

    asyncio.run(defer_then_work())
    assert [entry["action"] for entry in trail(client, as_user)] == ["loan.checked_out"]
    assert trail(client, as_user, object_id="999") == []
