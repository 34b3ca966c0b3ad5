"""docs/RELIABILITY.md from the figures the reliability tests wrote (one JSON document per section)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunInfo:
    date: str
    machine: str
    python: str
    seed: int
    scale: str
    command: str
    seconds: float
    pytest_summary: str


def _table(header: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _counts(title: str, counts: Mapping[str, Any]) -> str:
    return _table((title, "count"), sorted(counts.items(), key=lambda item: str(item[0])))


def _percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "-"


def summary(figures: Mapping[str, Any]) -> str:
    campaign, generated = figures["campaign"], figures["fuzz_generated"]
    corpus, model = figures["fuzz_corpus"], figures["model"]
    rows = [
        ("jobs lost (fault campaign)", "0", campaign["lost"]),
        ("jobs duplicated (fault campaign)", "0", campaign["duplicated"]),
        (
            "jobs lost / duplicated (campaign with label sets that contain one another)",
            "0 / 0",
            f"{figures['campaign_overlapping']['lost']} / {figures['campaign_overlapping']['duplicated']}",
        ),
        ("webhook requests fuzzed", "≥ 10,000", f"{generated['requests'] + corpus['requests']:,}"),
        (
            "unhandled exceptions / 5xx (fuzzing)",
            "0 / 0",
            f"{generated['unhandled_exceptions'] + corpus['unhandled_exceptions']} / "
            f"{generated['server_errors'] + corpus['server_errors']}",
        ),
        (
            "side effects of a request without a valid signature",
            "0",
            generated["side_effects_without_signature"] + corpus["side_effects_without_signature"],
        ),
        ("model-based test: examples / steps, invariant violations", "0 violations", _model_line(model)),
    ]
    return _table(("what", "required", "measured"), rows)


def _model_line(model: Mapping[str, Any]) -> str:
    return f"{model['examples']:,} / {model['steps']:,}, 0"


def campaign_section(campaign: Mapping[str, Any]) -> str:
    config = campaign["config"]
    accepted = campaign["accepted"]
    reasons = campaign["failure_reasons"]
    figures = [
        ("jobs queued on GitHub", campaign["jobs_queued"]),
        ("… for this fleet (labels ours)", campaign["jobs_for_this_fleet"]),
        ("… refused at once (unknown class): FAILED with the reason", campaign["jobs_refused"]),
        ("… another fleet's (ignored)", campaign["jobs_foreign"]),
        ("**accepted** (valid jobs with a runner record)", f"**{accepted}**"),
        ("**launched** (runners a task was started for)", f"**{campaign['runners_launched']}**"),
        ("tasks started", campaign["tasks_started"]),
        ("runners FAILED before running a job (the reason in the record)", campaign["runners_failed"]),
        ("surplus runners retired before a task started", campaign["runners_retired_unlaunched"]),
        ("runners neither launched, nor FAILED, nor retired", campaign["runners_unaccounted"]),
        ("valid jobs completed on GitHub", campaign["jobs_completed_on_github"]),
        ("valid jobs still queued on GitHub at the end", campaign["jobs_left_queued_on_github"]),
        (
            "**duplicated** (jobs with 2+ runner records, or 2+ tasks that reached RUNNING)",
            campaign["duplicated"],
        ),
        ("**lost** (never recorded, or queued forever without a FAILED runner)", campaign["lost"]),
        ("DynamoDB version conflicts retried by the store", campaign["version_conflicts_retried"]),
        ("capacity counter / live tasks / active runners at the end", _end_state(campaign)),
        ("simulated time", f"{campaign['simulated_seconds'] / 3600:.1f} h"),
    ]
    rates = [
        (
            "GitHub: 500, 403 secondary rate limit, 429, 502 after acting (each request)",
            config["github_fault_rate"],
        ),
        (
            "RunTask: ThrottlingException, ServerException, failures[] capacity / ENI",
            config["runtask_fault_rate"],
        ),
        ("RunTask: task started but the answer lost", config["lost_response_rate"]),
        ("DynamoDB: version conflict / TransactionConflict (each write)", config["conflict_rate"]),
        ("invocation killed between two AWS calls (each invocation)", config["crash_rate"]),
        ("queued webhook redelivered", config["redelivery_rate"]),
        ("ECS event delivered again, late", config["duplicate_event_rate"]),
    ]
    attempts = campaign["attempts_used"]
    total = sum(attempts.values())
    return "\n\n".join(
        [
            _table(("figure", "value"), figures),
            "Fault rates (per call or invocation, seeded):",
            _table(("fault", "rate"), ((name, f"{rate:.0%}") for name, rate in rates)),
            "Why runners FAILED before running a job: "
            + (", ".join(f"{reason} ({count})" for reason, count in sorted(reasons.items())) or "none")
            + ".",
            "Launch attempts used per runner (failed attempts + the one that started its task):",
            _table(
                ("attempts", "runners", "share"),
                (
                    (n, count, _percent(count, total))
                    for n, count in sorted(attempts.items(), key=lambda i: int(i[0]))
                ),
            ),
            "Faults that fired:",
            _counts("fault", campaign["faults"]),
            "Deliveries and invocations:",
            _counts("delivery", campaign["deliveries"]),
            "Webhook answers:",
            _counts("HTTP status", campaign["webhook_statuses"]),
            "Janitor totals:",
            _counts("janitor", campaign["janitor"]),
        ]
    )


def _end_state(campaign: Mapping[str, Any]) -> str:
    return (
        f"{campaign['capacity_counter_at_end']} / {campaign['live_tasks_at_end']} / "
        f"{campaign['active_runners_at_end']}"
    )


def overlapping_section(overlapping: Mapping[str, Any]) -> str:
    rows = [
        ("jobs queued", overlapping["jobs_queued"]),
        ("accepted", overlapping["accepted"]),
        ("runners launched", overlapping["runners_launched"]),
        ("replacement runners (a runner took a job with fewer labels)", overlapping["runners_replaced"]),
        ("surplus runners retired before a task started", overlapping["runners_retired_unlaunched"]),
        ("valid jobs completed on GitHub", overlapping["jobs_completed_on_github"]),
        ("valid jobs still queued on GitHub at the end", overlapping["jobs_left_queued_on_github"]),
        ("**duplicated**", overlapping["duplicated"]),
        ("**lost**", overlapping["lost"]),
    ]
    return _table(("figure", "value"), rows)


def fuzz_section(generated: Mapping[str, Any], corpus: Mapping[str, Any], handler: Mapping[str, Any]) -> str:
    rows = [
        (
            name,
            f"{data['requests']:,}",
            f"{data['with_valid_signature']:,}",
            f"{data['without_valid_signature']:,}",
            data["unhandled_exceptions"],
            data["server_errors"],
            data["side_effects_without_signature"],
        )
        for name, data in (("generated (hypothesis)", generated), ("hand-written corpus", corpus))
    ]
    statuses: dict[str, int] = {}
    for data in (generated, corpus):
        for status, count in data["statuses"].items():
            statuses[str(status)] = statuses.get(str(status), 0) + count
    handler_statuses = ", ".join(f"{status}: {count}" for status, count in handler["statuses"].items())
    return "\n\n".join(
        [
            _table(
                (
                    "requests",
                    "sent",
                    "valid signature",
                    "no valid signature",
                    "exceptions",
                    "5xx",
                    "side effects without signature",
                ),
                rows,
            ),
            "Answers (both sets):",
            _counts("HTTP status", statuses),
            f"Through the real Lambda handler (`ecsrunner_lambda.control_plane.handler`): "
            f"{handler['requests']:,} generated requests, answers {handler_statuses}; no 5xx, and no "
            "AWS mutation or GitHub call for any request without a valid signature.",
        ]
    )


def model_section(model: Mapping[str, Any]) -> str:
    return "\n\n".join(
        [
            f"{model['examples']:,} examples (`max_examples={model['max_examples']}`), "
            f"{model['steps']:,} rule steps (`stateful_step_count={model['stateful_step_count']}`), "
            "every invariant checked after every step; each example ends by draining the world and "
            "checking every accepted job.",
            _counts("rule", model["rules"]),
            "What the steps did (deliveries by answer, faults armed, crashes):",
            _counts("outcome", model["outcomes"]),
        ]
    )


INTRO = """\
# Reliability

What the reliability tests in `tests/reliability/` measured, regenerated by `make reliability`
(this file is written by `devtools/ecsrunner_sandbox/reliability_report.py`; edit the generator,
not the file). `make test` runs the same tests at a smaller scale on every change.

Everything runs the real code: the control plane's routing (`handle_control_plane_event`), the
use cases, the DynamoDB store, the ECS, S3, ECR and CodeBuild adapters and the real GitHub client,
against moto in-process and the OpenAPI-validated GitHub stand-in, on a fake clock. ECS and the
runners inside the tasks are simulated from the real event samples (`tests/reliability/fleet.py`);
GitHub's side (jobs, runners coming online with their JIT config, GitHub giving each idle runner
the oldest queued job it can run) is the stand-in's runner simulator."""

DEFINITIONS = """\
- **accepted**: a job whose labels this fleet serves and that has a runner record (the webhook
  created it, possibly in an invocation that then died).
- **launched**: a runner for which a task was started (its ARN recorded, or ECS reported it).
- **duplicated**: a job with more runner records, or more tasks that reached RUNNING, than one plus
  its replacements (a replacement names a runner of the same job that took a job with fewer
  labels, and no other replacement names the same runner); or a runner with two tasks that reached
  RUNNING. (A second task started by a retried RunTask would count even if it were stopped at once.)
- **lost**: a valid job that was never recorded, or that GitHub still holds queued at the end
  without a runner that FAILED (with its reason) to account for it. Runners and jobs are paired by
  label set: GitHub may give a runner any job its labels cover, so the runner launched for a job is
  not necessarily the one that runs it.
- **attempts used**: launch attempts per runner: the failed ones (retried by the janitor with
  backoff) plus the one that started its task.

A crash is `SimulatedCrash`, a `BaseException` the core never catches, raised before the N-th AWS
call of an invocation: what a Lambda timeout does. EventBridge retries a crashed event; GitHub does
not redeliver a failed webhook, so crashes of queued webhooks are injected after the acceptance
write (an unanswered delivery before it is out of ecsrunner's hands; see "Residual risks")."""

FIXES = """\
Each was found by these tests and fixed in the core; `tests/reliability/test_reliability_regressions.py`
keeps the smallest failing case of each.

1. **Jobs stuck forever after a runner swap** (campaign; `usecases/jobs.py`). GitHub gave runner B
   (launched for job B) job A; when A completed, the control plane retired runner A as surplus, and
   job B never got a runner: 5 of 30 jobs were left queued in the first 30-job campaign. Minimal
   case: jobs A and B queued, runner B online first and takes A, A completes → runner A retired, B
   queued forever. Fix: a job that ran on one of our runners leaves nothing surplus (its own runner
   will take the job whose runner it used); only a job that ran on no runner of ours (cancelled,
   or run by another fleet) retires its idle runner.
2. **A `TransactionConflict` on the job guard lost the job** (campaign; `adapters/dynamodb_store.py`).
   `create()` let `TransactionCanceledException [TransactionConflict, None]` escape: the webhook
   answered 500 and GitHub does not redeliver. Minimal case: one queued job, one conflict on its
   create transaction. Fix: `create()` retries a conflict (bounded, with backoff) and then sees the
   other delivery's guard or writes its own.
3. **A task outlived its runner after a janitor run** (model; `usecases/janitor.py`). The janitor ended
   a runner (a timeout) but StopTask failed; its orphan sweep skipped the task because the runner
   had been active when the run began. Minimal case: one launched runner, the clock past the
   STARTING timeout, one StopTask ServerException during the janitor run. Fix: runners the run
   ended are not exempt from its orphan sweeps.
4. **Signed payloads that cannot be stored answered 500** (fuzzing; `usecases/webhook.py`): a job id
   of 100 digits (`decimal.Rounded` in the DynamoDB serializer), a lone surrogate in the job name
   (botocore cannot encode it), 50,000 labels or a 1 MB job name (DynamoDB's 400 KB item limit).
   Fix: such payloads are refused with 400 before anything is written (ids must be GitHub ids, text
   valid Unicode, names and labels at most 64 KiB).
5. **A body flagged base64 with non-ASCII text answered 500** (fuzzing; `usecases/dispatch.py`):
   `b64decode` raises `ValueError`, not `binascii.Error`, for non-ASCII text. Minimal case:
   `{"isBase64Encoded": true, "body": "\\x80"}`. Fix: 400.
6. **A job whose runner was taken by a job with fewer labels waited forever** (campaign with label
   sets that contain one another; `usecases/jobs.py`). GitHub gives a queued job to any idle runner
   whose labels include the job's: the runner launched for `[self-hosted, linux, class:large]` took
   an older `[self-hosted, linux]` job, and the runner left over (launched for that job) cannot run
   the large one: it waited until GitHub's queue timeout, and the left-over runner was FAILED after
   `WAITING_FOR_JOB_TIMEOUT_SECONDS`. Fix: when `in_progress` (or `completed`, if `in_progress`
   was lost) shows a runner running a job whose labels are a strict subset of its own, the control
   plane creates a replacement runner for the displaced job (its job guard moves to the replacement
   in the same transaction, conditioned on still naming the displaced runner, so redeliveries
   replace once) and retires the taken job's runner if it is idle. Jobs with the same labels need
   nothing: the left-over runner takes the displaced job."""

OVERLAPPING = """\
The main campaign's valid label sets contain no other (`[self-hosted, linux]`,
`[self-hosted, class:large]`, `[self-hosted, image:ubuntu:24.04]`), so runners only swap jobs with
the same labels. This run uses the same shares with sets that all include `[self-hosted, linux]`:
GitHub gives default jobs to large and image runners, and the control plane replaces those runners
for their own jobs (fix 6 above). Same faults, same rules:"""

RESIDUAL = """\
- A `queued` webhook whose invocation fails before the runner record is written (a Lambda crash in
  the first few milliseconds, or DynamoDB unavailable) is not retried by GitHub. The job is then
  not ecsrunner's; redeliver failed deliveries from the webhook's "Recent deliveries" page or the
  REST API (`POST /repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}/attempts`).
- A runner whose task stops before it takes a job (a Spot interruption, an image that cannot be
  pulled) is FAILED with ECS's reason, and no second runner is launched for its job: the job waits
  for an idle runner with its labels, or until GitHub's queue timeout (re-run it). The model-based
  test checks that every such job is accounted for by a FAILED runner. Relaunching for the job
  could reuse the replacement mechanism above; it is not done yet.
- Faults here are injected one call at a time at the botocore boundary; real AWS may fail in
  correlated bursts, which the janitor absorbs with the same retries but more slowly."""

REPRODUCE = """\
```sh
make reliability                                  # this file (the long run)
RELIABILITY_ARGS="--scale short" make reliability # the make-test scale, a few minutes
RELIABILITY_ARGS="--seed 7" make reliability      # another seed for the campaigns
HYPOTHESIS_PROFILE=ci .venv/bin/python -m pytest tests/reliability   # the tests alone
```

`make test` runs `tests/reliability` at the short scale (12 model examples of up to 25 steps, a
100-job campaign, a 40-job overlapping-labels campaign, 2,000 generated requests plus the corpus,
60 requests through the Lambda handler)."""


def render(figures: Mapping[str, Any], info: RunInfo) -> str:
    return (
        "\n\n".join(
            [
                INTRO,
                _table(
                    ("run", ""),
                    [
                        ("date (UTC)", info.date),
                        ("machine", info.machine),
                        ("Python", info.python),
                        ("scale", info.scale),
                        ("seed", info.seed),
                        ("command", f"`{info.command}`"),
                        ("result", info.pytest_summary),
                        ("wall time", f"{info.seconds / 60:.1f} min"),
                    ],
                ),
                "## Summary",
                summary(figures),
                "## Fault-injection campaign",
                DEFINITIONS,
                campaign_section(figures["campaign"]),
                "## Webhook fuzzing",
                "Generated requests (hypothesis: bodies of every JSON shape, mutated real payloads, "
                "binary, text; signatures valid, missing, forged, `sha1=`, upper case, over another "
                "body; odd methods, paths and base64 flags) and a hand-written corpus (truncated real "
                "payloads, 2 MiB bodies, bodies at and over the 1 MiB limit, JSON nested 200,000 deep, "
                "invalid UTF-8, lone surrogates, wrong JSON types, unicode and control characters in "
                "labels, missing headers, an empty secret). Required and checked for every request: no "
                "exception escapes, no 5xx, and a request without a valid signature answers 401/400/404/"
                "413 and makes no DynamoDB, ECS or S3 mutation and no GitHub call.",
                fuzz_section(figures["fuzz_generated"], figures["fuzz_corpus"], figures["fuzz_handler"]),
                "## Model-based test",
                "A hypothesis `RuleBasedStateMachine` (`tests/reliability/model.py`) over a fresh "
                "deployment per example: queued jobs of every label kind, redeliveries, "
                "queued → waiting → queued, runners taking the oldest job they can run (often not their "
                "own), completions and cancellations, ECS events PROVISIONING … STOPPED delivered in any "
                "order, twice, or replayed late, Spot interruptions, CodeBuild SUCCEEDED/FAILED, janitor "
                "runs with the clock moved up to past the TTL, and one fault per invocation (RunTask, "
                "StopTask, DynamoDB conflicts, S3, GitHub 500/403/429/502-after-acting, a crash before "
                "the N-th AWS call). Invariants after every step: one runner record per job (plus one per "
                "replacement), the newest behind the job guard; one live task per runner, and per job "
                "no more than its runners; statuses only along the transition table and "
                "terminal ones never change; an acknowledged valid job always has a record; refused "
                "labels are FAILED with the reason; the capacity counter equals the slot holders; after "
                "a janitor run no live task lacks an active record and no active record is past its "
                "TTL. At the end: every accepted job was launched or FAILED with a reason (or ran "
                "elsewhere), and every valid job still queued is accounted for by a FAILED runner.",
                model_section(figures["model"]),
                "## Bugs found and fixed",
                FIXES,
                "## Label sets that contain one another",
                OVERLAPPING,
                overlapping_section(figures["campaign_overlapping"]),
                "## Residual risks",
                RESIDUAL,
                "## Reproduce",
                REPRODUCE,
            ]
        )
        + "\n"
    )
