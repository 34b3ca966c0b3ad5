"""The model-based test (see ``tests/reliability/model.py``): random interleavings of webhooks, ECS
and CodeBuild events, janitor runs and faults, with the invariants checked after every step."""

from __future__ import annotations

from hypothesis.stateful import run_state_machine_as_test

from tests.reliability.model import TALLY, ControlPlaneModel
from tests.reliability.scale import SCALE, model_settings, record_figures


def test_no_job_is_lost_or_duplicated_in_any_interleaving() -> None:
    examples_before, steps_before = TALLY.examples, TALLY.steps
    run_state_machine_as_test(ControlPlaneModel, settings=model_settings())
    examples, steps = TALLY.examples - examples_before, TALLY.steps - steps_before
    assert examples >= SCALE.model_examples  # hypothesis ran what was asked (it may replay more)
    assert TALLY.rules["queue_job"] and TALLY.rules["deliver"] and TALLY.rules["janitor"]
    record_figures(
        "model",
        {
            "examples": examples,
            "steps": steps,
            "max_examples": SCALE.model_examples,
            "stateful_step_count": SCALE.model_steps,
            "rules": dict(sorted(TALLY.rules.items())),
            "outcomes": dict(sorted(TALLY.outcomes.items())),
        },
    )
