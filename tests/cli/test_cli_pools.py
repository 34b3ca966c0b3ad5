"""`pools list`: each warm pool's size now, read from the table's status index."""

from __future__ import annotations

import json
from dataclasses import replace

from ecsrunner_core.domain.pools import pools_from_json
from ecsrunner_core.domain.runner import new_runner_record
from ecsrunner_core.domain.status import RunnerStatus

POOLS = {
    "medium": {"class": "medium", "size": 2, "max_idle_seconds": 3600},
    "nightly": {
        "class": "large",
        "size": 1,
        "image": "ubuntu:24.04",
        "schedules": [{"cron": "* * * * *", "size": 0}],
    },
}


def warm(services, name: str, pool: str, status: RunnerStatus) -> None:
    record = new_runner_record(
        runner_name=name,
        job_id=0,
        repository="octo-org/octo-repo",
        labels=("self-hosted",),
        at=services.clock.now(),
        reason="fills warm pool",
        status=RunnerStatus.STARTING,
        fields={"pool": pool, "class_name": "medium"},
    )
    if status is not RunnerStatus.STARTING:
        moved = record.transition(status, "task running", services.clock.now())
        assert moved is not None
        record = moved
    services.store.create_pool_runner(record, take_slot=False)


def test_pools_list_shows_target_live_and_idle(cli, configure, deployment, services) -> None:
    settings = replace(deployment.settings, warm_pools=pools_from_json(json.dumps(POOLS)))
    configure(settings)
    warm(services, "ecsr-aaaaaaaaaaaaaaaaaaaaaaaaaaa", "medium", RunnerStatus.WAITING_FOR_JOB)
    warm(services, "ecsr-bbbbbbbbbbbbbbbbbbbbbbbbbbb", "medium", RunnerStatus.STARTING)
    result = cli("pools", "list", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out) == [
        {
            "pool": "medium",
            "class": "medium",
            "image": "docker.io/library/ubuntu:22.04",
            "target": 2,
            "live": 2,
            "idle": 1,
            "max_idle_seconds": 3600,
        },
        {
            "pool": "nightly",
            "class": "large",
            "image": "docker.io/library/ubuntu:24.04",
            "target": 0,
            "live": 0,
            "idle": 0,
            "max_idle_seconds": 14400,
        },
    ]
    table = cli("pools", "list").out.splitlines()
    assert table[0].split() == ["POOL", "CLASS", "IMAGE", "TARGET", "LIVE", "IDLE", "MAX", "IDLE"]
    assert table[1].split() == ["medium", "medium", "docker.io/library/ubuntu:22.04", "2", "2", "1", "3600s"]


def test_without_pools_it_says_so(cli, configure, deployment) -> None:
    configure(deployment.settings)
    result = cli("pools", "list")
    assert result.code == 0 and "no warm pools" in result.err + result.out


def test_a_malformed_pool_definition_is_one_line(cli, configure, deployment) -> None:
    configure(deployment.settings, WARM_POOLS='{"Bad Name": {}}')
    result = cli("pools", "list")
    assert result.code != 0 and result.out == ""
    assert "WARM_POOLS" in result.err and "warm pool name" in result.err and "Traceback" not in result.err
