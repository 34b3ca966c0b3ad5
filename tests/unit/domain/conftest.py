"""Hypothesis profiles for the domain tests: ``HYPOTHESIS_PROFILE=ci`` derandomizes (default: dev)."""

from hypothesis import settings

from tests.unit.domain.support import PROFILE

settings.load_profile(PROFILE)
