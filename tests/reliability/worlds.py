"""Fresh lifecycle worlds outside pytest fixtures: one per hypothesis example or campaign.

A :class:`tests.lifecycle.support.World` needs an active moto mock and a running GitHub stand-in;
the lifecycle ``make_world`` fixture keeps both for a whole test. Model-based and campaign runs
need a clean deployment per example, so :func:`fresh_world` opens and closes both around one
world. Everything else (provisioning, the real GitHub client, the recorder) is the lifecycle code.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

from ecsrunner_core.domain.classes import DEFAULT_CLASS_SIZES
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, GitHubStandIn
from ecsrunner_sandbox.moto_patches import patched_transactions
from moto import mock_aws
from moto.moto_api import state_manager

from tests.lifecycle.support import World, code_session, deploy_world
from tests.support.fakes import FakeClock


@contextmanager
def fresh_world(
    *,
    seed: int = 0,
    push_default_image: bool = True,
    standin: dict[str, Any] | None = None,
    **overrides: Any,
) -> Iterator[World]:
    """A deployment on a clean moto backend with its own GitHub stand-in (faults seeded by ``seed``;
    ``standin`` holds more of its options, e.g. an App). ``overrides`` go to ``provision``.

    On exit the stand-in must have seen only requests GitHub's OpenAPI description allows. moto runs
    with the sandbox's transaction patch (same semantics, no whole-table copy per transaction), so a
    1,000-job campaign costs O(n), not O(n²).
    """
    # EC2 is only there for subnets: skip loading moto's default AMIs.
    with (
        patch.dict(os.environ, {"MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}),
        mock_aws(),
        patched_transactions(),
    ):
        state_manager.set_transition(
            model_name="ecs::task", transition={"progression": "manual", "times": 1_000_000}
        )
        clock = FakeClock()
        options: dict[str, Any] = {"pat": DEFAULT_PAT, **(standin or {})}
        github = GitHubStandIn(clock=lambda: clock.now().timestamp(), seed=seed, **options)
        github.start()
        try:
            yield deploy_world(
                github,
                clock,
                push_default_image=push_default_image,
                class_sizes=overrides.pop("class_sizes", DEFAULT_CLASS_SIZES),
                **overrides,
            )
        finally:
            github.stop()
            code_session()[1].reset()
        github.assert_no_violations()


def push_image_once(world: World, base_image: str) -> None:
    """What a finished build does: the image under its derived tag, unless a build already pushed it."""
    repository = world.settings.ecr_repository_url.split("/", 1)[1]
    tag = world.image_tag(base_image)
    ecr = world.client("ecr")
    try:
        ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    except ecr.exceptions.ImageNotFoundException:
        world.push_image(base_image)
