"""Every metric the functions emit (CloudWatch EMF, namespace ``POWERTOOLS_METRICS_NAMESPACE``).

The module's dashboard and alarms name these; a test checks that each name here is emitted by the
code and that every metric the code emits is listed here. Add, never rename: dashboards, alarms
and users' own queries depend on the names.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricSpec:
    name: str
    unit: str  # "Count" or "Seconds"
    dimensions: tuple[str, ...]
    meaning: str


_SPECS = (
    # Webhooks and jobs
    MetricSpec("WebhookRejected", "Count", ("reason",), "deliveries refused (bad signature)"),
    MetricSpec("DuplicateDeliveries", "Count", (), "queued deliveries for a job that already has a runner"),
    MetricSpec("JobsWaitingForApproval", "Count", (), "jobs held by an environment's protection rule"),
    MetricSpec("JobsRefused", "Count", ("reason",), "jobs refused for a configuration reason"),
    MetricSpec("JobsAbandoned", "Count", ("reason",), "jobs given up while GitHub still held them queued"),
    MetricSpec("JobStartLatency", "Seconds", ("start",), "job queued -> in_progress on one of our runners"),
    MetricSpec("JobsQueuedTooLong", "Count", (), "jobs of ours queued longer than the threshold (janitor)"),
    # Runners
    MetricSpec("RunnersAccepted", "Count", (), "runners created for queued jobs"),
    MetricSpec("RunnersLaunched", "Count", (), "runner tasks started"),
    MetricSpec("RunnersFailed", "Count", ("reason",), "runners that ended FAILED, by kind of reason"),
    MetricSpec("RunnersReplaced", "Count", (), "replacements for jobs whose runner took another job"),
    MetricSpec("RunnersRelaunched", "Count", ("cause",), "replacements for runners that died before a job"),
    MetricSpec("RunnersWaitingForCapacity", "Count", (), "launches deferred by max_runners"),
    MetricSpec(
        "RunnersFoundBusy", "Count", (), "runners GitHub reported busy that a timeout would have ended"
    ),
    MetricSpec("RunnersByStatus", "Count", ("status",), "active runners per status (janitor, each run)"),
    MetricSpec("SpotFallbacks", "Count", (), "launches moved from Fargate Spot to on-demand"),
    MetricSpec("LaunchLatency", "Seconds", (), "runner created -> RunTask accepted"),
    MetricSpec("QueueToStartLatency", "Seconds", (), "runner created -> task RUNNING"),
    # Reconciliation
    MetricSpec("JobsReconciled", "Count", (), "queued jobs found on GitHub without a live runner"),
    MetricSpec("WebhooksRedelivered", "Count", (), "failed workflow_job deliveries redelivered"),
    MetricSpec("TasksReconciled", "Count", (), "active records whose task had stopped unreported"),
    MetricSpec("ImageBuildLocksRecovered", "Count", (), "image build locks taken over after a crash"),
    MetricSpec("CredentialsReloaded", "Count", ("secret",), "secrets re-read after a 401 or bad signature"),
    # GitHub and images
    MetricSpec("GitHubRateLimitPauses", "Count", (), "deployment-wide pauses of GitHub calls"),
    MetricSpec("ImageBuildsStarted", "Count", (), "CodeBuild image builds started"),
    MetricSpec("ImageBuildsFailed", "Count", (), "CodeBuild image builds failed"),
    MetricSpec("ImageRebuildsStarted", "Count", (), "scheduled image rebuilds started (each rebuild run)"),
    MetricSpec("ImageRebuildsReady", "Count", (), "scheduled image rebuilds that new launches now use"),
    MetricSpec("ImageRebuildsFailed", "Count", (), "scheduled image rebuilds failed (the old image stays)"),
    # Warm pools
    MetricSpec("WarmPoolTarget", "Count", ("pool",), "warm runners wanted now (janitor, each run)"),
    MetricSpec("WarmPoolLive", "Count", ("pool",), "warm runners alive (janitor, each run)"),
    MetricSpec(
        "WarmPoolIdle", "Count", ("pool",), "warm runners alive and without a job (janitor, each run)"
    ),
    MetricSpec(
        "WarmPoolClaims", "Count", ("pool",), "queued jobs given a warm runner instead of a cold task"
    ),
)

METRICS: dict[str, MetricSpec] = {spec.name: spec for spec in _SPECS}
# The janitor also emits one count per field of its report, named ``Janitor_<field>``.
JANITOR_REPORT_PREFIX = "Janitor_"
