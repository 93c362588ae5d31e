"""The status board's window of months starts at the first instant of its first month, in the
caller's calendar."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from projections.board import window_start


def test_a_window_reaching_back_past_january_starts_in_the_year_before() -> None:
    start = window_start(datetime(2026, 2, 10, tzinfo=UTC), UTC, 3)

    assert start == datetime(2025, 12, 1, tzinfo=UTC)


def test_the_month_a_window_ends_with_is_the_callers_not_utcs() -> None:
    # 20:00 UTC on 30 November is already 1 December in Auckland (UTC+13 in summer).
    start = window_start(datetime(2026, 11, 30, 20, tzinfo=UTC), ZoneInfo("Pacific/Auckland"), 1)

    assert start == datetime(2026, 11, 30, 11, tzinfo=UTC)
