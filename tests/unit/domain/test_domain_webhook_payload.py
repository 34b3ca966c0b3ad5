"""``WorkflowJobEvent.from_payload`` on GitHub's own examples, and on anything else."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from ecsrunner_core.domain.labels import parse_job_labels
from ecsrunner_core.webhook import MalformedPayload, WorkflowJobEvent
from hypothesis import given
from hypothesis import strategies as st

WEBHOOKS = Path(__file__).resolve().parents[2] / "fixtures" / "github" / "webhooks"
EXAMPLES = sorted(p.name for p in WEBHOOKS.glob("workflow_job.*.json"))


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((WEBHOOKS / name).read_text(encoding="utf-8"))
    return data


def test_all_seven_examples_are_present() -> None:
    assert EXAMPLES == [
        "workflow_job.completed.failure.with-organization.json",
        "workflow_job.completed.success.with-organization.json",
        "workflow_job.in_progress.json",
        "workflow_job.in_progress.with-queued-steps.json",
        "workflow_job.queued.json",
        "workflow_job.queued.with-deployment.json",
        "workflow_job.waiting.json",
    ]


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_parses_to_what_it_says(name: str) -> None:
    payload = load(name)
    event = WorkflowJobEvent.from_payload(payload)
    job = payload["workflow_job"]
    assert event.action == payload["action"]
    assert event.job_id == job["id"]
    assert event.run_id == job["run_id"]
    assert event.run_url == job["html_url"]
    assert event.job_name == job["name"]
    assert event.workflow_name == job.get("workflow_name")
    assert event.labels == tuple(job["labels"])
    assert event.runner_name == job["runner_name"]
    assert event.runner_id == job["runner_id"]
    assert event.conclusion == job["conclusion"]
    assert event.repository == payload["repository"]["full_name"]
    assert event.owner == payload["repository"]["owner"]["login"]
    assert event.organization == (payload["organization"]["login"] if "organization" in payload else None)


def test_queued_example() -> None:
    event = WorkflowJobEvent.from_payload(load("workflow_job.queued.json"))
    assert (event.action, event.job_id, event.run_id) == ("queued", 289782451, 2202229078)
    assert event.labels == ("ubuntu-latest",)
    # The example's owner login really is "Octocoders" although full_name says "Codertocat/...":
    # the repository identity comes from full_name, the owner field is passed through as is.
    assert (event.repository, event.owner, event.organization) == (
        "Codertocat/Hello-World",
        "Octocoders",
        None,
    )
    assert event.runner_id == 5  # non-null although queued: nothing may rely on it being null
    assert parse_job_labels(event.labels) is None  # GitHub-hosted: not ours


def test_completed_example_with_organization() -> None:
    event = WorkflowJobEvent.from_payload(load("workflow_job.completed.failure.with-organization.json"))
    assert (event.action, event.conclusion, event.organization) == ("completed", "failure", "Octocoders")
    assert event.runner_name == "GitHub Actions 5"


@pytest.mark.parametrize("name", ["workflow_job.waiting.json", "workflow_job.queued.with-deployment.json"])
def test_another_self_hosted_fleets_job_is_not_ours(name: str) -> None:
    event = WorkflowJobEvent.from_payload(load(name))
    assert event.labels == ("self-hosted", "k8s")
    assert event.runner_name is None
    assert event.runner_id is None
    assert parse_job_labels(event.labels) is None
    assert parse_job_labels(event.labels, frozenset({"k8s"})) is not None


BASE = load("workflow_job.queued.json")


def without(path: tuple[str, ...]) -> dict[str, Any]:
    payload = copy.deepcopy(BASE)
    target = payload
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return payload


def replaced(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    payload = copy.deepcopy(BASE)
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return payload


REQUIRED = [
    ("action",),
    ("workflow_job",),
    ("workflow_job", "id"),
    ("workflow_job", "labels"),
    ("repository",),
    ("repository", "full_name"),
    ("repository", "owner"),
    ("repository", "owner", "login"),
]


@pytest.mark.parametrize("path", REQUIRED, ids=[".".join(p) for p in REQUIRED])
def test_missing_required_field(path: tuple[str, ...]) -> None:
    with pytest.raises(MalformedPayload, match=path[-1]):
        WorkflowJobEvent.from_payload(without(path))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("action",), 1),
        (("workflow_job", "id"), "289782451"),
        (("workflow_job", "id"), True),
        (("workflow_job", "id"), 1.5),
        (("workflow_job", "labels"), "self-hosted"),
        (("workflow_job", "labels"), {"0": "self-hosted"}),
        (("workflow_job", "run_id"), "x"),
        (("workflow_job", "run_id"), False),
        (("workflow_job", "runner_id"), "5"),
        (("workflow_job", "runner_name"), 5),
        (("workflow_job", "conclusion"), ["success"]),
        (("repository", "owner"), "Codertocat"),
        (("organization",), {"id": 1}),
    ],
)
def test_wrong_types_are_malformed(path: tuple[str, ...], value: Any) -> None:
    with pytest.raises(MalformedPayload):
        WorkflowJobEvent.from_payload(replaced(path, value))


def test_optional_fields_may_be_null_or_absent() -> None:
    payload = copy.deepcopy(BASE)
    for key in ("run_id", "html_url", "name", "workflow_name", "runner_name", "runner_id", "conclusion"):
        payload["workflow_job"][key] = None
    event = WorkflowJobEvent.from_payload(payload)
    assert (event.run_id, event.run_url, event.runner_name, event.runner_id) == (None, None, None, None)
    for key in ("run_id", "html_url", "name", "workflow_name", "runner_name", "runner_id", "conclusion"):
        del payload["workflow_job"][key]
    assert WorkflowJobEvent.from_payload(payload).job_name is None


def test_non_object_organization_is_ignored() -> None:
    assert WorkflowJobEvent.from_payload(replaced(("organization",), "Octocoders")).organization is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=15,
)
KEY_PATHS = [
    *REQUIRED,
    ("workflow_job", "run_id"),
    ("workflow_job", "html_url"),
    ("workflow_job", "name"),
    ("workflow_job", "workflow_name"),
    ("workflow_job", "runner_name"),
    ("workflow_job", "runner_id"),
    ("workflow_job", "conclusion"),
    ("organization",),
]


def check(payload: Any) -> None:
    try:
        event = WorkflowJobEvent.from_payload(payload)
    except MalformedPayload as exc:
        assert str(exc)
        return
    assert isinstance(event.action, str)
    assert isinstance(event.job_id, int) and not isinstance(event.job_id, bool)
    assert isinstance(event.labels, tuple)
    assert isinstance(event.repository, str) and isinstance(event.owner, str)
    for value, kind in (
        (event.run_id, int),
        (event.runner_id, int),
        (event.run_url, str),
        (event.runner_name, str),
        (event.conclusion, str),
        (event.organization, str),
    ):
        assert value is None or isinstance(value, kind)


@given(json_values)
def test_arbitrary_json_gives_an_event_or_malformed_payload(payload: Any) -> None:
    check(payload)


@given(st.lists(st.tuples(st.sampled_from(KEY_PATHS), json_values), min_size=1, max_size=4))
def test_corrupted_real_payloads_give_an_event_or_malformed_payload(changes: list[Any]) -> None:
    payload = copy.deepcopy(BASE)
    for path, value in changes:
        target = payload
        for key in path[:-1]:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        target[path[-1]] = value
    check(payload)
