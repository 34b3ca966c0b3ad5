"""Fixtures for the GitHub adapter tests: a fake timeline, the loopback GitHub stand-in (its teardown
fails the test if it saw any OpenAPI violation), clients wired to both, and a test App key."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from ecsrunner_core.adapters.github import GitHubClient, PatAuth
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, GitHubStandIn, serving

from tests.unit.github.support import ORG, REPO, FakeTime


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def github(fake_time: FakeTime) -> Iterator[GitHubStandIn]:
    with serving(clock=fake_time.time) as standin:
        yield standin


@pytest.fixture
def make_client(fake_time: FakeTime) -> Callable[..., GitHubClient]:
    def make(standin: GitHubStandIn, *, org: bool = False, **options: Any) -> GitHubClient:
        options.setdefault("auth", PatAuth(DEFAULT_PAT))
        scope: dict[str, Any] = {"scope_org": ORG} if org else {"scope_repo": REPO}
        return GitHubClient(
            standin.api_url,
            sleep=fake_time.sleep,
            clock=fake_time.monotonic,
            wall_clock=fake_time.time,
            rng=random.Random(7),
            **scope,
            **options,
        )

    return make


@pytest.fixture
def client(github: GitHubStandIn, make_client: Callable[..., GitHubClient]) -> GitHubClient:
    return make_client(github)


@pytest.fixture(scope="session")
def app_key() -> tuple[str, Any]:
    """A fresh RSA key per test session (never committed): (private PEM, public key)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return pem, key.public_key()
