"""One run at a time: a named lease in the table, held for the run, ending by itself if the run dies."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from .context import Deadline, Deps

MAX_LEASE = timedelta(minutes=15)  # the janitor function's longest Lambda timeout


@contextmanager
def run_alone(deps: Deps, name: str, deadline: Deadline | None) -> Iterator[bool]:
    """Yields True while this run holds lease ``name`` (until the run ends, or its deadline), False
    when another run holds it."""
    owner = uuid.uuid4().hex
    length = timedelta(seconds=deadline.remaining()) if deadline is not None else MAX_LEASE
    until = deps.clock.now() + min(max(length, timedelta(seconds=1)), MAX_LEASE)
    if not deps.store.claim_lease(name, owner, until):
        yield False
        return
    try:
        yield True
    finally:
        deps.store.release_lease(name, owner)
