"""The expected date of a hold, on constructed histories with known answers."""

from datetime import datetime, timedelta, timezone

from borrow_service.estimates import CopyOut, Habits, expected_available

NOW = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
DAY = timedelta(days=1)
ON_TIME = Habits(lateness=timedelta(0), loan_length=14 * DAY, pickup_delay=2 * DAY)


def due_in(days):
    return CopyOut(due_date=NOW + days * DAY)


def test_next_in_line_gets_the_copy_on_its_due_date():
    assert expected_available(NOW, 1, [due_in(10)], ON_TIME) == NOW + 10 * DAY


def test_the_library_s_lateness_moves_the_date():
    late, early = Habits(2 * DAY, 14 * DAY, 2 * DAY), Habits(-3 * DAY, 14 * DAY, 2 * DAY)

    assert expected_available(NOW, 1, [due_in(10)], late) == NOW + 12 * DAY
    assert expected_available(NOW, 1, [due_in(10)], early) == NOW + 7 * DAY


def test_an_overdue_copy_counts_as_coming_back_soon():
    assert expected_available(NOW, 1, [due_in(-4)], ON_TIME) == NOW + DAY
    assert expected_available(NOW, 1, [due_in(1)], Habits(-3 * DAY, 14 * DAY, 2 * DAY)) == NOW + DAY


def test_each_hold_ahead_keeps_the_copy_for_a_pickup_and_a_loan():
    # one copy back in 10 days; two ahead each keep it 2 + 14 days
    assert expected_available(NOW, 3, [due_in(10)], ON_TIME) == NOW + (10 + 16 + 16) * DAY


def test_with_several_copies_the_line_takes_whichever_is_free_first():
    # copies back in 5 and 10 days: #1 takes the 5-day one (free again at 21), #2 the 10-day one (26)
    copies = [due_in(10), due_in(5)]

    assert [expected_available(NOW, position, copies, ON_TIME) for position in (1, 2, 3, 4)] == [
        NOW + 5 * DAY, NOW + 10 * DAY, NOW + 21 * DAY, NOW + 26 * DAY]


def test_a_copy_on_the_hold_shelf_is_free_after_its_patron_collects_and_reads_it():
    ready_yesterday = CopyOut(ready_at=NOW - DAY, pickup_by=NOW + 6 * DAY)

    # collected a day from now (2 days after it was ready), then a 14-day loan
    assert expected_available(NOW, 1, [ready_yesterday], ON_TIME) == NOW + 15 * DAY


def test_a_copy_on_the_hold_shelf_passes_on_by_its_deadline_at_the_latest():
    slow = Habits(timedelta(0), 14 * DAY, 10 * DAY)
    ready_today = CopyOut(ready_at=NOW, pickup_by=NOW + 7 * DAY)

    assert expected_available(NOW, 1, [ready_today], slow) == NOW + (7 + 14) * DAY


def test_without_copies_there_is_no_date():
    assert expected_available(NOW, 1, [], ON_TIME) is None
