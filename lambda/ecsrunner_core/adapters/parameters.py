"""Class sizes from SSM and secrets from Secrets Manager, cached for a few minutes per container."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..domain.classes import ClassSizeError, ClassSizes

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ssm import SSMClient

CACHE_SECONDS = 300.0
WEBHOOK_SECRET_REFRESH_SECONDS = 30.0


class _Cached:
    def __init__(self, ttl: float, monotonic: Callable[[], float]) -> None:
        self._ttl = ttl
        self._monotonic = monotonic
        self._values: dict[str, tuple[float, object]] = {}

    def get(self, key: str, load: Callable[[], object], *, refresh: bool = False) -> object:
        now = self._monotonic()
        hit = self._values.get(key)
        if hit is not None and now - hit[0] < self._ttl and not refresh:
            return hit[1]
        value = load()
        self._values[key] = (now, value)
        return value


class SsmClassSizes:
    def __init__(
        self,
        client: SSMClient,
        name: str,
        ttl: float = CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ssm = client
        self._name = name
        self._cache = _Cached(ttl, monotonic)

    def load(self) -> ClassSizes:
        value = self._cache.get(self._name, self._fetch)
        assert isinstance(value, ClassSizes)
        return value

    def _fetch(self) -> ClassSizes:
        text = self._ssm.get_parameter(Name=self._name)["Parameter"].get("Value", "")
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise ClassSizeError(f"parameter {self._name} is not JSON: {exc}") from None
        return ClassSizes.from_json(document)


class SecretsManagerSecrets:
    def __init__(
        self,
        client: SecretsManagerClient,
        webhook_secret_arn: str,
        github_credentials_arn: str,
        ttl: float = CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sm = client
        self._webhook_arn = webhook_secret_arn
        self._github_arn = github_credentials_arn
        self._cache = _Cached(ttl, monotonic)
        self._monotonic = monotonic
        self._webhook_refreshed_at: float | None = None

    def __repr__(self) -> str:
        return f"SecretsManagerSecrets(webhook={self._webhook_arn!r}, github={self._github_arn!r})"

    def _text(self, arn: str, *, refresh: bool = False) -> str:
        value = self._cache.get(
            arn, lambda: self._sm.get_secret_value(SecretId=arn).get("SecretString", ""), refresh=refresh
        )
        return str(value)

    def webhook_secret(self, *, refresh: bool = False) -> bytes:
        """The webhook secret. ``refresh`` (after a signature mismatch) reads Secrets Manager again,
        at most once per :data:`WEBHOOK_SECRET_REFRESH_SECONDS`: a rotated secret works within
        seconds, and forged requests cannot turn into a flood of Secrets Manager calls."""
        if refresh:
            now = self._monotonic()
            if (
                self._webhook_refreshed_at is not None
                and now - self._webhook_refreshed_at < WEBHOOK_SECRET_REFRESH_SECONDS
            ):
                refresh = False
            else:
                self._webhook_refreshed_at = now
        return self._text(self._webhook_arn, refresh=refresh).encode()

    def github_credentials(self, *, refresh: bool = False) -> str:
        return self._text(self._github_arn, refresh=refresh)
