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
        (
            f"jobs lost / duplicated / killed (fault campaign, {campaign['jobs_queued']:,} jobs)",
            "0 / 0 / 0",
            _lost_duplicated_killed(campaign),
        ),
        (
            "jobs lost / duplicated / killed (label sets that contain one another)",
            "0 / 0 / 0",
            _lost_duplicated_killed(figures["campaign_overlapping"]),
        ),
        (
            "jobs lost / duplicated / killed, warm runners claimed twice (with warm pools)",
            "0 / 0 / 0, 0",
            f"{_lost_duplicated_killed(figures['campaign_pools'])}, "
            f"{figures['campaign_pools']['warm_runners_claimed_twice']}",
        ),
        ("valid jobs refused (only configuration reasons may be)", "0", campaign["refused_valid_jobs"]),
        (
            "deliberate breakages the campaign catches",
            f"{len(figures['breakages'])} of {len(figures['breakages'])}",
            f"{sum(1 for b in figures['breakages'] if _caught_breakage(b))} of {len(figures['breakages'])}",
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


def _lost_duplicated_killed(campaign: Mapping[str, Any]) -> str:
    return f"{campaign['lost']} / {campaign['duplicated']} / {campaign['killed']}"


def _caught_breakage(breakage: Mapping[str, Any]) -> bool:
    return any(
        breakage[key] for key in ("lost", "killed", "duplicated", "refused_valid_jobs", "unrelaunched_deaths")
    )


def _model_line(model: Mapping[str, Any]) -> str:
    return f"{model['examples']:,} / {model['steps']:,}, 0"


def campaign_section(campaign: Mapping[str, Any]) -> str:
    config = campaign["config"]
    reasons = campaign["failure_reasons"]
    figures = [
        ("jobs queued on GitHub", campaign["jobs_queued"]),
        ("… for this fleet (labels ours)", campaign["jobs_for_this_fleet"]),
        ("… with an unknown class (refused for configuration)", campaign["jobs_with_refused_labels"]),
        ("… refused with the reason in a record", campaign["jobs_refused"]),
        ("… another fleet's (ignored)", campaign["jobs_foreign"]),
        ("… behind an environment approval", campaign["jobs_behind_approval"]),
        ("**accepted** (valid jobs with a runner record)", f"**{campaign['accepted']}**"),
        ("runners launched (a task was started)", campaign["runners_launched"]),
        ("tasks started", campaign["tasks_started"]),
        ("runners FAILED before running a job (the reason in the record)", campaign["runners_failed"]),
        (
            "runners that replace another (relaunches and label-subset replacements)",
            campaign["runners_replaced"],
        ),
        ("runners neither launched nor ended with a reason", campaign["runners_unaccounted"]),
        ("valid jobs completed on GitHub", campaign["jobs_completed_on_github"]),
        ("valid jobs still queued on GitHub at the end", campaign["jobs_left_queued_on_github"]),
        ("**lost** (valid jobs GitHub still holds queued at the end)", f"**{campaign['lost']}**"),
        (
            "**duplicated** (a job's runners not one chain of successors, or two live idle runners "
            "for one job at once)",
            f"**{campaign['duplicated']}** "
            f"({campaign['duplicated_records']} + {campaign['duplicated_live']})",
        ),
        ("**killed** (a job's task stopped while it ran, not by the TTL)", f"**{campaign['killed']}**"),
        ("TTL kills (reported apart)", campaign["ttl_kills"]),
        ("runner deaths before a still-queued job that nothing replaced", campaign["unrelaunched_deaths"]),
        ("valid jobs refused", campaign["refused_valid_jobs"]),
        ("DynamoDB version conflicts retried by the store", campaign["version_conflicts_retried"]),
        ("capacity counter / live tasks / active runners at the end", _end_state(campaign)),
        ("simulated time", f"{campaign['simulated_seconds'] / 3600:.1f} h"),
    ]
    rates = [
        (
            "GitHub: 500, 403 secondary rate limit, 429, 502 after acting; 422 on generate-jitconfig "
            "(each request)",
            config["github_fault_rate"],
        ),
        (
            "RunTask: ThrottlingException, ServerException, failures[] capacity / ENI",
            config["runtask_fault_rate"],
        ),
        ("RunTask: task started but the answer lost", config["lost_response_rate"]),
        ("DynamoDB: version conflict / TransactionConflict (each write)", config["conflict_rate"]),
        ("invocation killed between two AWS calls, anywhere (each invocation)", config["crash_rate"]),
        ("webhook delivery dropped (GitHub records it failed)", config["dropped_webhook_rate"]),
        ("ECS event dropped", config["dropped_event_rate"]),
        ("queued webhook redelivered", config["redelivery_rate"]),
        ("ECS event delivered again, late", config["duplicate_event_rate"]),
        (
            "task dies before its runner takes a job (Spot interruption, CannotPullContainerError)",
            config["task_death_rate"],
        ),
        (
            f"job behind an environment approval ({config['approval_seconds'][0] // 60}-"
            f"{config['approval_seconds'][1] // 60} min)",
            config["approval_rate"],
        ),
    ]
    once = [
        "the first StartBuild: the invocation dies holding the build lock"
        if config["crash_first_build"]
        else "",
        f"the PAT is rotated after {config['rotate_credentials_at']:.0%} of the jobs are queued",
        f"the last {config['outage_jobs']} jobs arrive while the webhook endpoint is down",
    ]
    attempts = campaign["attempts_used"]
    total = sum(attempts.values())
    return "\n\n".join(
        [
            _table(("figure", "value"), figures),
            "Fault rates (per call, delivery, task or invocation, seeded):",
            _table(("fault", "rate"), ((name, f"{rate:.0%}") for name, rate in rates)),
            "And once per campaign: " + "; ".join(item for item in once if item) + ".",
            "What each mechanism caught (each a way a job would otherwise have been lost):",
            _counts("mechanism", campaign["caught"]),
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


def short_campaign_section(campaign: Mapping[str, Any], extra: Iterable[tuple[str, Any]] = ()) -> str:
    rows = [
        ("jobs queued", campaign["jobs_queued"]),
        ("accepted", campaign["accepted"]),
        ("runners launched", campaign["runners_launched"]),
        ("runners that replace another", campaign["runners_replaced"]),
        *extra,
        ("valid jobs completed on GitHub", campaign["jobs_completed_on_github"]),
        ("valid jobs still queued on GitHub at the end", campaign["jobs_left_queued_on_github"]),
        ("**lost**", campaign["lost"]),
        ("**duplicated**", campaign["duplicated"]),
        ("**killed**", campaign["killed"]),
    ]
    return _table(("figure", "value"), rows)


def pools_section(pools: Mapping[str, Any]) -> str:
    return short_campaign_section(
        pools,
        [
            ("warm runners started", pools["warm_runners"]),
            ("jobs that claimed a warm runner", pools["warm_claims"]),
            ("**warm runners claimed twice**", pools["warm_runners_claimed_twice"]),
        ],
    )


def breakages_section(breakages: Iterable[Mapping[str, Any]]) -> str:
    rows = [
        (
            b["breakage"],
            b["jobs"],
            b["lost"],
            b["killed"],
            b["duplicated"],
            b["refused_valid_jobs"],
            b["unrelaunched_deaths"],
            "yes" if _caught_breakage(b) else "**no**",
        )
        for b in breakages
    ]
    return _table(
        (
            "breakage",
            "jobs",
            "lost",
            "killed",
            "duplicated",
            "valid refused",
            "deaths not relaunched",
            "caught",
        ),
        rows,
    )


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
- **lost**: a valid job (labels this fleet serves, no configuration reason to refuse it) that
  GitHub still holds queued at the end, after draining, whatever our records say: a FAILED runner
  does not account for a job. Only jobs refused for a configuration reason (here an unknown class)
  may stay queued; they are counted apart, each with its reason.
- **duplicated**: a job whose runner records do not form one chain of successors (a relaunch or a
  replacement names the runner before it), or two live idle runners for one job at once (checked at
  every janitor run).
- **killed**: a job whose runner's task stopped while the job ran. The simulated GitHub completes a
  job only while its runner's task is alive; a job cut short ends failed on GitHub. Stops by the TTL
  are reported apart.
- **accepted**: a job whose labels this fleet serves and that has a runner record.
- **attempts used**: launch attempts per runner: the failed ones (retried with backoff) plus the one
  that started its task.

A crash is `SimulatedCrash`, a `BaseException` the core never catches, raised before the N-th AWS
call of an invocation: what a Lambda timeout does. Crashes are injected anywhere, including before
the record of a queued delivery is written: GitHub records that delivery as failed, and the
janitor's redelivery and reconciliation must find the job."""

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
   nothing: the left-over runner takes the displaced job.
7. **Jobs lost although a FAILED runner "accounted" for them** (the campaign after lost was redefined
   by GitHub's state; `usecases/tasks.py`, `janitor.py`, `launch.py`, `jobs.py`). A task that died
   before its job (Spot interruption, pull failure, a timeout, attempts spent), an approval longer
   than the WAITING_FOR_JOB timeout, a lost webhook or ECS event, a wedged build lock, a rotated PAT
   and a 422 from generate-jitconfig each left jobs queued on GitHub. Fix: relaunch while GitHub
   holds the job queued, approvals start no task, the janitor reconciles with GitHub (queued jobs,
   failed deliveries), ends runners whose task is gone, takes over stale build locks; credentials
   reload on a 401; 422 is transient. `tests/lifecycle/test_lifecycle_no_job_left_behind.py` keeps
   one case per path.
8. **The janitor stopped busy runners** (`usecases/janitor.py`): the WAITING_FOR_JOB timeout retired
   a runner whose `in_progress` delivery was lost, mid-job, and the STARTING timeout and the TTL
   counted time before the task started. Fix: the clocks start at RunTask and RUNNING, and the
   janitor asks GitHub before ending a runner (a busy one moves to RUNNING); the model-based test
   checks "no task whose runner GitHub reports busy is stopped, except by the TTL" after every
   step."""

OVERLAPPING = """\
The main campaign's valid label sets contain no other (`[self-hosted, linux]`,
`[self-hosted, class:large]`, `[self-hosted, image:ubuntu:24.04]`), so runners only swap jobs with
the same labels. This run uses the same shares with sets that all include `[self-hosted, linux]`:
GitHub gives default jobs to large and image runners, and the control plane replaces those runners
for their own jobs (fix 6 above). Same faults, same rules:"""

RESIDUAL = """\
- Redelivery needs the hook: without `webhook_hook_id` (or `webhook_app_hook`) a failed delivery is
  found by reconciliation alone, which lists queued runs of the repository (or, for an organisation,
  of the repositories that sent jobs recently and the installation's repositories) within
  `reconcile_github_requests` requests per run: a very large organisation may need several runs.
- A job whose runners all die before it starts, `max_job_relaunches` + 1 times, is given up
  visibly (`JobsAbandoned`, the reason in its record) and stays queued until GitHub cancels it.
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
100-job campaign, 40-job campaigns with overlapping labels and with warm pools, the four breakages
on 40 jobs each, 2,000 generated requests plus the corpus, 60 requests through the Lambda handler)."""


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
                "approvals (queued → waiting → queued, approved after up to an hour), lost deliveries, "
                "runners taking the oldest job they can run (often not their "
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
                "TTL, and no task whose runner GitHub reports busy was stopped except by the TTL. At the "
                "end, after draining: no valid job is still queued on GitHub, and every runner that died "
                "before a still-queued job was replaced.",
                model_section(figures["model"]),
                "## Bugs found and fixed",
                FIXES,
                "## Deliberate breakages",
                "Each breakage is patched into the core for one 40-job campaign; the campaign must "
                "notice it (a job lost, killed or duplicated, a valid job refused, or a death not "
                "relaunched). `tests/reliability/test_reliability_breakages.py` fails if it does not.",
                breakages_section(figures["breakages"]),
                "## Label sets that contain one another",
                OVERLAPPING,
                short_campaign_section(figures["campaign_overlapping"]),
                "## Warm pools",
                "The same faults with two warm pools (3 `medium`, 1 `large`) filled by the janitor "
                "before the first job and removed when the faults stop. A warm runner is claimed by one "
                "job at most (a conditional write), and its own job is covered by the usual rules.",
                pools_section(figures["campaign_pools"]),
                "## Residual risks",
                RESIDUAL,
                "## Reproduce",
                REPRODUCE,
            ]
        )
        + "\n"
    )
