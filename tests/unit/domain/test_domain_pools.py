"""Warm pool definitions: cron schedules in a time zone, sizes, labels, validation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from ecsrunner_core.domain.pools import Cron, PoolError, pool_labels, pools_from_json
from hypothesis import given
from hypothesis import strategies as st

# Monday 2026-11-30
MONDAY_NOON_UTC = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def pools(spec: dict[str, object]) -> dict[str, object]:
    return {pool.name: pool for pool in pools_from_json(json.dumps(spec))}


WORKING_HOURS = {
    "medium": {
        "class": "medium",
        "size": 1,
        "schedules": [
            {"cron": "0 8 * * MON-FRI", "size": 3, "timezone": "Europe/Paris"},
            {"cron": "0 19 * * 1-5", "size": 0, "timezone": "Europe/Paris"},
        ],
    }
}


def test_the_size_is_the_last_schedule_entry_that_fired_in_its_time_zone() -> None:
    pool = pools(WORKING_HOURS)["medium"]
    paris = ZoneInfo("Europe/Paris")
    assert pool.target_size(datetime(2026, 11, 30, 7, 59, tzinfo=paris)) == 0  # Friday 19:00 fired last
    assert pool.target_size(datetime(2026, 11, 30, 8, 0, tzinfo=paris)) == 3
    assert pool.target_size(datetime(2026, 11, 30, 18, 59, tzinfo=paris)) == 3
    assert pool.target_size(datetime(2026, 11, 30, 19, 0, tzinfo=paris)) == 0
    assert pool.target_size(datetime(2026, 12, 5, 12, 0, tzinfo=paris)) == 0  # Saturday
    # 07:30 UTC is 08:30 in Paris in winter.
    assert pool.target_size(datetime(2026, 11, 30, 7, 30, tzinfo=UTC)) == 3


def test_without_schedules_the_size_is_constant() -> None:
    pool = pools({"p": {"class": "large", "size": 2, "image": "ubuntu:24.04"}})["p"]
    assert pool.target_size(MONDAY_NOON_UTC) == 2
    assert pool.image == "docker.io/library/ubuntu:24.04"
    assert pool.max_idle_seconds == 4 * 3600


@pytest.mark.parametrize(
    ("expression", "minutes", "hours", "weekdays"),
    [
        ("*/15 * * * *", {0, 15, 30, 45}, set(range(24)), set(range(7))),
        ("5,35 9-17/4 * * 0,7", {5, 35}, {9, 13, 17}, {0}),
        ("0 0 * * SUN", {0}, {0}, {0}),
    ],
)
def test_cron_fields(expression: str, minutes: set[int], hours: set[int], weekdays: set[int]) -> None:
    cron = Cron.parse(expression)
    assert (set(cron.minutes), set(cron.hours), set(cron.weekdays)) == (minutes, hours, weekdays)


def test_day_of_month_or_day_of_week_as_in_cron() -> None:
    cron = Cron.parse("0 12 1 * MON")  # the 1st, and every Monday
    assert cron.day_matches(datetime(2026, 12, 1, tzinfo=UTC))  # a Tuesday, the 1st
    assert cron.day_matches(datetime(2026, 12, 7, tzinfo=UTC))  # a Monday
    assert not cron.day_matches(datetime(2026, 12, 8, tzinfo=UTC))


@given(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)))
def test_last_fired_is_the_latest_matching_minute_not_after_now(now: datetime) -> None:
    cron = Cron.parse("17 */5 * * 2-4")
    fired = cron.last_fired(now, ZoneInfo("UTC"))
    assert fired is not None and fired <= now
    assert fired.minute == 17 and fired.hour % 5 == 0 and fired.isoweekday() % 7 in {2, 3, 4}
    assert (now - fired).days <= 7


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"Bad Name": {"class": "m", "size": 1}}, "warm pool name"),
        ({"p": {"size": 1}}, "class is required"),
        ({"p": {"class": "m", "size": -1}}, "size must be an integer from 0 to 100"),
        ({"p": {"class": "m", "size": 101}}, "size must be an integer from 0 to 100"),
        ({"p": {"class": "m", "size": 1, "image": "UPPER:case"}}, "image"),
        ({"p": {"class": "m", "size": 1, "max_idle_seconds": 10}}, "max_idle_seconds"),
        ({"p": {"class": "m", "size": 1, "schedules": [{"cron": "0 8 * *", "size": 1}]}}, "5 fields"),
        ({"p": {"class": "m", "size": 1, "schedules": [{"cron": "61 8 * * *", "size": 1}]}}, "outside 0-59"),
        (
            {
                "p": {
                    "class": "m",
                    "size": 1,
                    "schedules": [{"cron": "0 8 * * *", "size": 1, "timezone": "Mars/X"}],
                }
            },
            "time zone",
        ),
    ],
)
def test_invalid_pools_name_the_pool_and_field(spec: dict[str, object], message: str) -> None:
    with pytest.raises(PoolError, match=message):
        pools_from_json(json.dumps(spec))


def test_no_pools() -> None:
    assert pools_from_json("") == ()
    assert pools_from_json("{}") == ()


def test_labels_cover_the_jobs_the_pool_serves_and_no_other_class_or_image() -> None:
    labels = pool_labels("medium", "x64", None, {"gpu"})
    assert labels == ("self-hosted", "linux", "x64", "class:medium", "gpu")
    pool = pools({"p": {"class": "medium", "size": 1}})["p"]
    from dataclasses import replace

    pool = replace(pool, labels=labels)
    assert pool.covers(["self-hosted", "Linux"]) and pool.covers(["self-hosted", "class:medium", "x64"])
    assert not pool.covers(["self-hosted", "class:large"])
    assert not pool.covers(["self-hosted", "image:ubuntu:24.04"])
