"""Which repositories to reconcile: the configured one, or (organisation scope) the repositories
that sent jobs recently and, with a GitHub App, the ones its installation can see."""

from __future__ import annotations

from datetime import timedelta

from .context import Deps

RECENT = timedelta(days=7)


def remember_repository(deps: Deps, repository: str) -> None:
    """Organisation scope: note that ``repository`` sent a job, so that reconciliation looks there
    (the store writes it at most once an hour per container)."""
    if deps.settings.github_org:
        deps.store.touch_repository(repository, deps.clock.now())
