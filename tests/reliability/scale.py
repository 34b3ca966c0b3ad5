"""How much each reliability test does: a short run in ``make test``, a long one in ``make reliability``.

``RELIABILITY_SCALE=long`` selects the long run; ``RELIABILITY_SEED`` seeds the campaigns (faults,
arrivals, runner names); ``HYPOTHESIS_PROFILE=ci`` (set by ``make test``) derandomizes hypothesis, as
in the domain tests, and so does the long run. ``RELIABILITY_FIGURES=<path>`` makes the tests
write what they measured into that directory, one JSON file per section (the report reads them).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings


@dataclass(frozen=True)
class Scale:
    name: str
    model_examples: int
    model_steps: int
    campaign_jobs: int
    overlapping_jobs: int
    pool_jobs: int
    fuzz_requests: int
    handler_requests: int


SHORT = Scale(
    "short",
    model_examples=12,
    model_steps=25,
    campaign_jobs=100,
    overlapping_jobs=40,
    pool_jobs=40,
    fuzz_requests=2000,
    handler_requests=60,
)
LONG = Scale(
    "long",
    model_examples=500,
    model_steps=60,
    campaign_jobs=1000,
    overlapping_jobs=500,
    pool_jobs=500,
    fuzz_requests=10000,
    handler_requests=500,
)
SCALE = LONG if os.environ.get("RELIABILITY_SCALE") == "long" else SHORT
SEED = int(os.environ.get("RELIABILITY_SEED", "20261123"))
DERANDOMIZE = os.environ.get("HYPOTHESIS_PROFILE") == "ci" or SCALE is LONG
SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]


def _settings(**sizes: int) -> settings:
    return settings(
        deadline=None,
        derandomize=DERANDOMIZE,
        database=None,
        suppress_health_check=SLOW_OK,
        print_blob=True,
        **sizes,
    )


def model_settings() -> settings:
    return _settings(max_examples=SCALE.model_examples, stateful_step_count=SCALE.model_steps)


def fuzz_settings() -> settings:
    return _settings(max_examples=SCALE.fuzz_requests)


def record_figures(section: str, figures: dict[str, Any]) -> None:
    """Write ``figures`` to ``<RELIABILITY_FIGURES>/<section>.json``, if that variable is set."""
    target = os.environ.get("RELIABILITY_FIGURES")
    if not target:
        return
    path = Path(target) / f"{section}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"scale": SCALE.name, **figures}, indent=2, sort_keys=True, default=str))
