"""Fixtures of the reliability tests, shared with the other suites (imported, not copied): the
lifecycle tests' one-RSA-key patch for moto's KMS and the handler tests' Lambda environment."""

from tests.handlers.conftest import handlers  # noqa: F401  (a fixture)
from tests.lifecycle.conftest import _one_rsa_key_for_moto_kms  # noqa: F401  (an autouse fixture)
