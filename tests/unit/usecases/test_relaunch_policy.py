"""How soon a job whose runner died gets its next one."""

from __future__ import annotations

from ecsrunner_core.usecases.relaunch import relaunch_delay


def test_relaunches_start_at_once_then_back_off_to_ten_minutes() -> None:
    delays = [relaunch_delay(n).total_seconds() for n in range(1, 8)]
    assert delays == [0, 30, 60, 120, 240, 480, 600]
