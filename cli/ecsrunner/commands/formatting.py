"""How records read on the console: short image names, ``repo#job``, status colours, READY images."""

from __future__ import annotations

from ecsrunner_core.domain.images import ImageRecord
from ecsrunner_core.domain.runner import RunnerRecord

from ..humanize import size_text

_STATUS_STYLES = {
    "RUNNING": "green",
    "WAITING_FOR_JOB": "cyan",
    "STARTING": "yellow",
    "IMAGE_CREATING": "yellow",
    "FAILED": "red",
    "OFFLINE": "dim",
    "READY": "green",
    "BUILDING": "yellow",
}
_DOCKER_HUB_PREFIXES = ("docker.io/library/", "docker.io/")


def status_style(status: str) -> str | None:
    return _STATUS_STYLES.get(status)


def image_text(canonical: str | None) -> str:
    """Records hold canonical references; Docker Hub's are shown as people write them."""
    if not canonical:
        return "-"
    for prefix in _DOCKER_HUB_PREFIXES:
        if canonical.startswith(prefix):
            return canonical[len(prefix) :]
    return canonical


def job_text(record: RunnerRecord) -> str:
    """``owner/repo#job``, and ``→ #other`` when the runner ran another job than the one that launched it.
    An idle warm runner has no job yet: ``warm pool <name>``."""
    if not record.job_id:
        text = f"warm pool {record.pool}" if record.pool else "-"
    else:
        text = f"{record.repository}#{record.job_id}"
    if record.run_job_id is not None and record.run_job_id != record.job_id:
        other_repo = record.run_job_repository
        prefix = other_repo if other_repo and other_repo != record.repository else ""
        text += f" → {prefix}#{record.run_job_id}"
    return text


def ready_text(how: str, uri: str, image: ImageRecord) -> str:
    size = f", {size_text(image.size_bytes)}" if image.size_bytes is not None else ""
    return f"{how}: {uri} (READY{size})"
