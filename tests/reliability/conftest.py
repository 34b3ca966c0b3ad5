"""Fixtures of the reliability tests, shared with the other suites (imported, not copied): the
lifecycle tests' one-RSA-key patch for moto's KMS and the handler tests' Lambda environment."""

from collections.abc import Iterator

import pytest

from tests.handlers.conftest import handlers  # noqa: F401  (a fixture)
from tests.lifecycle.conftest import _one_rsa_key_for_moto_kms  # noqa: F401  (an autouse fixture)
from tests.lifecycle.support import World
from tests.reliability.worlds import fresh_world


@pytest.fixture
def world() -> Iterator[World]:
    """A fresh deployment with its own GitHub stand-in, for one test."""
    with fresh_world() as made:
        yield made
