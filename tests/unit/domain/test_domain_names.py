"""Runner names (unique, unguessable, prefixed) and derived image tags (deterministic, collision-free)."""

from __future__ import annotations

import math
import re
import secrets
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest
from ecsrunner_core.domain.image_ref import parse_image_reference
from ecsrunner_core.domain.names import (
    MAX_PREFIX,
    MAX_RUNNER_NAME,
    RANDOM_BITS,
    REBUILD_TAG_PREFIX,
    derive_image_tag,
    is_our_runner_name,
    new_runner_name,
    rebuild_image_tag,
    rebuild_stamp,
    validate_prefix,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.domain.support import valid_references

BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
TOKEN_LENGTH = 27
NAME_RE = re.compile(rf"(?P<prefix>[a-z0-9][a-z0-9-]*)-(?P<token>[{BASE32}]{{{TOKEN_LENGTH}}})")
DOCKER_TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
prefixes = st.from_regex(r"[a-z0-9][a-z0-9-]{0,35}", fullmatch=True)


# --- runner names -------------------------------------------------------------------------------


@given(prefixes)
def test_name_shape(prefix: str) -> None:
    name = new_runner_name(prefix)
    assert len(name) <= MAX_RUNNER_NAME
    match = NAME_RE.fullmatch(name)
    assert match is not None
    assert name.startswith(f"{prefix}-")
    assert match["token"] == name[len(prefix) + 1 :]


def test_longest_prefix_gives_a_64_character_name() -> None:
    assert MAX_PREFIX == 36  # ECSRUNNER_NAME is at most 36 characters (DESIGN.md)
    assert len(new_runner_name("p" * 36)) == 64


def test_ten_thousand_names_are_unique_and_use_the_whole_alphabet_everywhere() -> None:
    tokens = [new_runner_name("demo")[len("demo-") :] for _ in range(10_000)]
    assert len(set(tokens)) == 10_000
    # Every character position is drawn from all 32 symbols. (For a uniform source the chance that
    # some symbol never shows at some position in 10,000 draws is below 1e-130.)
    for position in range(TOKEN_LENGTH):
        assert set(Counter(t[position] for t in tokens)) == set(BASE32), position


def test_at_least_96_random_bits() -> None:
    bits = TOKEN_LENGTH * math.log2(len(BASE32))
    assert bits == RANDOM_BITS == 135
    assert bits >= 96


def test_randomness_comes_from_the_secrets_module(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []

    def fixed(count: int) -> bytes:
        asked.append(count)
        return bytes(count)

    monkeypatch.setattr(secrets, "token_bytes", fixed)  # the module names.py draws from
    assert new_runner_name("demo") == "demo-" + "a" * TOKEN_LENGTH
    assert asked and asked[0] * 8 >= RANDOM_BITS


@pytest.mark.parametrize(
    "prefix",
    ["", "-demo", "Demo", "de_mo", "de mo", "demo\n", "dem\u00f6", "p" * 37, "demo/x", "demo.x"],
)
def test_invalid_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="runner name prefix"):
        validate_prefix(prefix)
    with pytest.raises(ValueError, match="runner name prefix"):
        new_runner_name(prefix)


@pytest.mark.parametrize("prefix", ["a", "0", "demo", "demo-", "my-fleet-2", "p" * 36])
def test_valid_prefixes(prefix: str) -> None:
    assert validate_prefix(prefix) == prefix


def test_is_our_runner_name() -> None:
    name = new_runner_name("prod")
    assert is_our_runner_name("prod", name)
    assert not is_our_runner_name("prod", None)
    assert not is_our_runner_name("prod", "")
    assert not is_our_runner_name("prod", "GitHub Actions 5")  # a GitHub-hosted runner
    assert not is_our_runner_name("prod", name.upper())
    assert not is_our_runner_name("prod", name[:-1])
    assert not is_our_runner_name("prod", name + "a")
    assert not is_our_runner_name("prod", name + "\n")
    assert not is_our_runner_name("prod", "prod-" + "1" * TOKEN_LENGTH)  # 1 is not base32
    assert not is_our_runner_name("prod", "prod-" + "A" * TOKEN_LENGTH)
    assert not is_our_runner_name("prod", "prod-" + "-" * TOKEN_LENGTH)
    assert not is_our_runner_name("staging", name)
    assert not is_our_runner_name("pro", name)
    assert is_our_runner_name("prod", "prod-" + "a" * TOKEN_LENGTH)


@given(prefixes, prefixes)
def test_names_of_one_deployment_are_never_another_deployments(ours: str, theirs: str) -> None:
    name = new_runner_name(theirs)
    assert is_our_runner_name(ours, name) is (ours == theirs)


# --- image tags ---------------------------------------------------------------------------------

DIGEST_A = "a" * 64
DIGEST_B = "b" * 64


def tag_for(reference: str, digest: str = DIGEST_A, arch: str = "x86_64") -> str:
    return derive_image_tag(parse_image_reference(reference).canonical, digest, arch)


def test_tag_is_readable_and_ends_in_a_hash() -> None:
    tag = tag_for("ubuntu:22.04")
    readable, _, digest = tag.rpartition("-")
    assert readable == "ubuntu-22.04-x86_64"
    assert re.fullmatch("[0-9a-f]{40}", digest)


def test_deterministic() -> None:
    assert tag_for("ubuntu:22.04") == tag_for("ubuntu:22.04")
    assert tag_for("ubuntu:22.04") == tag_for("docker.io/library/ubuntu:22.04")  # same canonical form


def test_lossy_lookalikes_do_not_collide() -> None:
    tags = {
        tag_for("ubuntu:22.04"),
        tag_for("ubuntu-22.04"),
        tag_for("ubuntu_22.04"),
        tag_for("ubuntu.22.04"),
        tag_for("owner/ubuntu-22.04"),
        tag_for("ghcr.io/library/ubuntu:22.04"),
    }
    assert len(tags) == 6


def test_context_digest_and_architecture_change_the_tag() -> None:
    base = tag_for("ubuntu:22.04")
    assert tag_for("ubuntu:22.04", digest=DIGEST_B) != base
    assert tag_for("ubuntu:22.04", arch="arm64") != base
    assert "arm64" in tag_for("ubuntu:22.04", arch="arm64")


def test_ambiguous_concatenations_do_not_collide() -> None:
    # With the inputs joined by a newline these two triples gave the same bytes to hash.
    first = derive_image_tag("x\nq/x", "D", "A")
    second = derive_image_tag("x", "q/x\nD", "A")
    assert first != second


@given(st.text(max_size=300), st.text(max_size=80), st.text(max_size=20))
def test_any_input_gives_a_valid_docker_tag(reference: str, digest: str, arch: str) -> None:
    tag = derive_image_tag(reference, digest, arch)
    assert DOCKER_TAG_RE.fullmatch(tag)
    assert len(tag) <= 128
    assert tag == derive_image_tag(reference, digest, arch)


@given(valid_references, st.sampled_from(["x86_64", "arm64"]))
def test_real_references_give_valid_tags(reference: str, arch: str) -> None:
    canonical = parse_image_reference(reference).canonical
    tag = derive_image_tag(canonical, DIGEST_A, arch)
    assert DOCKER_TAG_RE.fullmatch(tag)
    assert arch in tag or len(tag) == 128


triples = st.tuples(
    valid_references.map(lambda r: parse_image_reference(r).canonical) | st.text(max_size=30),
    st.sampled_from([DIGEST_A, DIGEST_B, "none", ""]) | st.text(max_size=10),
    st.sampled_from(["x86_64", "arm64"]) | st.text(max_size=5),
)


@settings(max_examples=100)  # each example is a list of up to 60 triples: about 3,000 per run
@given(st.lists(triples, min_size=2, max_size=60, unique=True))
def test_distinct_inputs_give_distinct_tags(inputs: list[tuple[str, str, str]]) -> None:
    tags = {derive_image_tag(*triple) for triple in inputs}
    assert len(tags) == len(inputs)


# --- rebuild tags (scheduled rebuilds) -----------------------------------------------------------

AT = datetime(2026, 12, 6, 3, 0, 59, tzinfo=UTC)


def test_rebuild_tag_is_the_tag_behind_a_utc_minute_stamp() -> None:
    tag = tag_for("ubuntu:22.04")
    assert rebuild_image_tag(tag, AT) == f"_r202612060300-{tag}"
    other_zone = AT.astimezone(timezone(timedelta(hours=-5)))
    assert rebuild_image_tag(tag, other_zone) == rebuild_image_tag(tag, AT)
    assert rebuild_image_tag(tag, AT + timedelta(minutes=1)) != rebuild_image_tag(tag, AT)
    assert rebuild_stamp(rebuild_image_tag(tag, AT)) == "202612060300"
    assert rebuild_stamp(tag) == ""  # a first build sorts before every rebuild


@given(valid_references, st.text(max_size=80), st.sampled_from(["x86_64", "arm64"]))
def test_rebuild_tags_are_valid_prefixed_and_keep_the_hash(reference: str, digest: str, arch: str) -> None:
    tag = derive_image_tag(parse_image_reference(reference).canonical, digest, arch)
    rebuilt = rebuild_image_tag(tag, AT)
    assert DOCKER_TAG_RE.fullmatch(rebuilt) and len(rebuilt) <= 128
    assert rebuilt.endswith(tag[-40:])
    # The lifecycle policy expires rebuilds by this prefix: no first build may carry it.
    assert rebuilt.startswith(REBUILD_TAG_PREFIX) and not tag.startswith(REBUILD_TAG_PREFIX)
