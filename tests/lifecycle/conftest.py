"""Fixtures of the lifecycle flow tests: one moto world per test (see ``support.World``).

``make_world(**overrides)`` provisions a deployment (``Settings`` overrides as keyword arguments),
starts the GitHub stand-in on a FakeClock timeline and pushes the default runner image unless
``push_default_image=False``. After the test, every stand-in must have seen only requests and
responses that GitHub's OpenAPI description allows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from ecsrunner_core.domain.classes import DEFAULT_CLASS_SIZES, ClassSize, ClassSizes
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, GitHubStandIn
from moto import mock_aws
from moto.moto_api import state_manager

from tests.lifecycle.support import (
    World,
    deploy_world,
)
from tests.support.fakes import FakeClock

# The default classes plus a Spot class (Fargate Spot can only be exercised through a fault: moto
# cannot place capacityProviderStrategy tasks).
TEST_CLASS_SIZES = ClassSizes(
    classes={**DEFAULT_CLASS_SIZES.classes, "spot": ClassSize("spot", 1024, 2048, spot=True)},
    default=DEFAULT_CLASS_SIZES.default,
)


@pytest.fixture(autouse=True, scope="session")
def _one_rsa_key_for_moto_kms() -> Iterator[None]:
    """moto generates a fresh 2048-bit RSA key for every KMS key (~60 ms each); the JIT bucket's key
    is only ever named in SSE-KMS requests, never used for crypto, so one key serves all tests."""
    import moto.kms.utils
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    class OneKey:
        @staticmethod
        def generate_private_key(public_exponent: int, key_size: int) -> Any:
            return key if key_size == 2048 else rsa.generate_private_key(public_exponent, key_size)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(moto.kms.utils, "rsa", OneKey)
        yield


@pytest.fixture
def make_world(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., World]]:
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # EC2 is only here for subnets
    standins: list[GitHubStandIn] = []
    with mock_aws():
        state_manager.set_transition(
            model_name="ecs::task", transition={"progression": "manual", "times": 1_000_000}
        )

        def make(
            *, github_org: str | None = None, push_default_image: bool = True, **overrides: Any
        ) -> World:
            clock = FakeClock()
            standin = GitHubStandIn(pat=DEFAULT_PAT, clock=lambda: clock.now().timestamp())
            standin.start()
            standins.append(standin)
            return deploy_world(
                standin,
                clock,
                github_org=github_org,
                push_default_image=push_default_image,
                class_sizes=overrides.pop("class_sizes", TEST_CLASS_SIZES),
                **overrides,
            )

        yield make
    for standin in standins:
        standin.stop()
    for standin in standins:
        standin.assert_no_violations()


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    return make_world()
