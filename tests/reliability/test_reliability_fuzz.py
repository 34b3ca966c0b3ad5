"""Webhook fuzzing (see ``tests/reliability/fuzz.py``): generated requests and the hand-written corpus
through the control plane's routing (``handle_control_plane_event``) on one deployment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given

from tests.lifecycle.support import World
from tests.reliability.fuzz import CLIENT_REFUSALS, FuzzRequest, FuzzStats, check, corpus, requests
from tests.reliability.scale import SCALE, fuzz_settings, record_figures
from tests.reliability.worlds import fresh_world


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with fresh_world() as fuzzed:
        yield fuzzed


def test_the_corpus_never_errors_and_unsigned_requests_change_nothing(world: World) -> None:
    stats = FuzzStats()
    entries = corpus(world.deployment.webhook_secret.encode(), job_id=world.next_job_id())
    for entry in entries:
        check(world, entry, stats)
    assert stats.requests == len(entries) > 60
    assert stats.signed and stats.requests - stats.signed
    record_figures("fuzz_corpus", stats.as_dict())


def test_generated_requests_never_error_and_unsigned_ones_change_nothing(world: World) -> None:
    stats = FuzzStats()
    secret = world.deployment.webhook_secret.encode()

    @fuzz_settings()
    @given(request=requests(secret))
    def one(request: FuzzRequest) -> None:
        check(world, request, stats)

    one()
    assert stats.requests >= SCALE.fuzz_requests
    assert stats.signed > SCALE.fuzz_requests // 20  # garbage with a valid signature is exercised too
    assert set(stats.statuses) & CLIENT_REFUSALS and stats.statuses[200] + stats.statuses[202]
    record_figures("fuzz_generated", stats.as_dict())


def test_an_empty_webhook_secret_refuses_everything() -> None:
    """A webhook secret with no text (Secrets Manager refuses an empty string, but a secret can hold
    only binary data) accepts no signature at all, not even one made with the empty key."""
    with fresh_world(name="nosecret") as empty:
        empty.client("secretsmanager").put_secret_value(
            SecretId=empty.settings.webhook_secret_arn, SecretBinary=b"\x00"
        )
        assert empty.deps().secrets.webhook_secret() == b""
        stats = FuzzStats()
        for entry in corpus(b"", job_id=empty.next_job_id()):
            response = check(empty, entry, stats)
            assert response["statusCode"] in CLIENT_REFUSALS | {413}
        assert stats.signed == 0 and stats.statuses[401] > 40
        assert empty.items() == []
