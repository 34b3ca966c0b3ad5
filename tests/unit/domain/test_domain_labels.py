"""Job labels: is the job ours, what does it ask for, and is it refused with a reason."""

from __future__ import annotations

from typing import Any

import pytest
from ecsrunner_core.domain.image_ref import ImageReferenceError, parse_image_reference
from ecsrunner_core.domain.labels import (
    JobLabels,
    LabelError,
    normalise_extra_labels,
    parse_job_labels,
)
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.domain.support import arbitrary_references, oracle, valid_references

EXTRA = frozenset({"gpu", "team-a"})


def flip_case(draw: st.DrawFn, text: str) -> str:
    flags = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if f else c for c, f in zip(text, flags, strict=True))


@st.composite
def label_texts(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["builtin", "class", "image", "extra", "other", "text"]))
    if kind == "builtin":
        return flip_case(draw, draw(st.sampled_from(["self-hosted", "linux", "x64", "arm64"])))
    if kind == "class":
        prefix = flip_case(draw, "class:")
        return prefix + draw(st.sampled_from(["", " ", "small", "Large", "x;y"]) | st.text(max_size=10))
    if kind == "image":
        return flip_case(draw, "image:") + draw(arbitrary_references)
    if kind == "extra":
        return flip_case(draw, draw(st.sampled_from(sorted(EXTRA))))
    if kind == "other":
        return draw(st.sampled_from(["ubuntu-latest", "k8s", "windows", "macos", "self-hosted-x", ""]))
    return draw(st.text(max_size=20))


anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10) | st.binary(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
label_lists = st.lists(label_texts(), max_size=7)
mixed_lists = st.lists(label_texts() | anything, max_size=7)


def parse(labels: Any, extra: frozenset[str] = EXTRA) -> JobLabels | LabelError | None:
    try:
        return parse_job_labels(labels, extra)
    except LabelError as exc:
        return exc


# --- properties ---------------------------------------------------------------------------------


@given(st.one_of(label_lists, mixed_lists, anything, st.tuples(label_texts(), label_texts())))
def test_returns_none_or_labels_or_raises_only_label_error(labels: Any) -> None:
    result = parse(labels)
    assert result is None or isinstance(result, JobLabels | LabelError)
    if isinstance(result, LabelError):
        assert str(result)


@given(label_lists)
def test_accepted_labels_obey_every_rule(labels: list[str]) -> None:
    result = parse(labels)
    if not isinstance(result, JobLabels):
        return
    lowered = [label.strip().lower() for label in labels]
    assert "self-hosted" in lowered
    for low in lowered:
        assert low in {"self-hosted", "linux", "x64", "arm64"} | EXTRA or low.startswith(("class:", "image:"))
    assert result.labels == tuple(label.strip() for label in labels)  # what the runner registers with
    assert sum(low.startswith("class:") for low in lowered) <= 1
    assert sum(low.startswith("image:") for low in lowered) <= 1
    assert not {"x64", "arm64"} <= set(lowered)
    if result.image is not None:
        assert result.image_label is not None
        text = result.image_label[len("image:") :]
        assert str(result.image) == text
        assert oracle(text) is not None  # the spec accepts it
    else:
        assert result.image_label is None
    if result.class_name is not None:
        assert result.class_name
        assert result.class_name == result.class_name.lower().strip()


@given(label_lists)
def test_jobs_without_self_hosted_are_never_ours(labels: list[str]) -> None:
    labels = [label for label in labels if label.strip().lower() != "self-hosted"]
    assert parse(labels) is None


@given(label_lists, st.sampled_from(["ubuntu-latest", "k8s", "windows", "gpu-large"]))
def test_a_label_the_fleet_does_not_declare_means_another_fleet(labels: list[str], foreign: str) -> None:
    assert parse(["self-hosted", *labels, foreign]) is None


@given(arbitrary_references | arbitrary_references.map(lambda t: f" {t}\n"))
def test_image_label_is_accepted_exactly_when_the_reference_is_valid(text: str) -> None:
    label = f"image:{text}"
    value = label.strip()[len("image:") :]  # labels are stripped, then the prefix removed
    result = parse(["self-hosted", label])
    if oracle(value) is None:
        assert isinstance(result, LabelError)
        assert repr(label.strip()) in str(result)
        assert result.labels == (label.strip(),)
    else:
        assert isinstance(result, JobLabels)
        assert str(result.image) == value


@given(valid_references)
def test_every_valid_reference_is_accepted_in_an_image_label(text: str) -> None:
    result = parse_job_labels(["self-hosted", "linux", "x64", f"image:{text}"])
    assert result is not None
    assert result.image == parse_image_reference(text)
    assert result.image_label == f"image:{text}"


# --- examples -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "labels",
    [["self-hosted"], ["Self-Hosted"], ["SELF-HOSTED", "Linux", "X64"], [" self-hosted ", "LINUX", "ARM64"]],
)
def test_builtin_labels_compare_case_insensitively(labels: list[str]) -> None:
    result = parse_job_labels(labels)
    assert result is not None
    assert result.labels == tuple(label.strip() for label in labels)


def test_arch_label_is_reported_lowercase() -> None:
    assert parse_job_labels(["self-hosted", "X64"]) == JobLabels(
        labels=("self-hosted", "X64"), class_name=None, image=None, image_label=None, architecture_label="x64"
    )


def test_a_full_request() -> None:
    result = parse_job_labels(
        ["self-hosted", "linux", "arm64", "class:Large", "image:ghcr.io/o/img:1.2", "gpu"], EXTRA
    )
    assert result == JobLabels(
        labels=("self-hosted", "linux", "arm64", "class:Large", "image:ghcr.io/o/img:1.2", "gpu"),
        class_name="large",
        image=parse_image_reference("ghcr.io/o/img:1.2"),
        image_label="image:ghcr.io/o/img:1.2",
        architecture_label="arm64",
    )


def test_github_hosted_and_other_fleets_are_ignored() -> None:
    assert parse_job_labels(["ubuntu-latest"]) is None
    assert parse_job_labels(["self-hosted", "k8s"]) is None  # real example: workflow_job.waiting.json
    assert parse_job_labels(["self-hosted", "linux", "gpu"]) is None  # gpu not declared by this fleet
    assert parse_job_labels([]) is None


def test_extra_labels_are_honoured_case_insensitively() -> None:
    assert parse_job_labels(["self-hosted", "GPU"], frozenset({"gpu"})) is not None
    # Even when the caller did not normalise them.
    assert parse_job_labels(["self-hosted", "gpu"], frozenset({" GPU "})) is not None
    assert parse_job_labels(["self-hosted", "team-b"], frozenset({"gpu"})) is None


def test_normalise_extra_labels() -> None:
    assert normalise_extra_labels([" GPU", "", "  ", "Team-A "]) == frozenset({"gpu", "team-a"})


def test_two_class_labels_are_refused_naming_both() -> None:
    with pytest.raises(LabelError) as caught:
        parse_job_labels(["self-hosted", "class:small", "CLASS:large"])
    assert "'class:small'" in str(caught.value)
    assert "'CLASS:large'" in str(caught.value)
    assert caught.value.labels == ("class:small", "CLASS:large")


def test_two_image_labels_are_refused_naming_both() -> None:
    with pytest.raises(LabelError) as caught:
        parse_job_labels(["self-hosted", "image:ubuntu:22.04", "image:debian:12"])
    assert "'image:ubuntu:22.04'" in str(caught.value)
    assert "'image:debian:12'" in str(caught.value)
    assert caught.value.labels == ("image:ubuntu:22.04", "image:debian:12")


def test_two_identical_class_labels_are_still_two() -> None:
    with pytest.raises(LabelError, match="more than one class label"):
        parse_job_labels(["self-hosted", "class:a", "class:a"])


def test_conflicting_architectures_are_refused() -> None:
    with pytest.raises(LabelError, match="conflicting architecture labels: arm64, x64") as caught:
        parse_job_labels(["self-hosted", "x64", "ARM64"])
    assert caught.value.labels == ("arm64", "x64")


def test_repeated_architecture_is_not_a_conflict() -> None:
    result = parse_job_labels(["self-hosted", "x64", "X64"])
    assert result is not None
    assert result.architecture_label == "x64"


@pytest.mark.parametrize("label", ["class:", "class:   ", "CLASS:"])
def test_class_label_without_a_name_is_refused(label: str) -> None:
    with pytest.raises(LabelError, match="names no class") as caught:
        parse_job_labels(["self-hosted", label])
    assert caught.value.labels == (label.strip(),)


@pytest.mark.parametrize(
    ("label", "reason"),
    [
        ("image:", "empty reference"),
        ("image:Ubuntu", "path component"),
        ("image:ubuntu;rm -rf /", "whitespace"),
        ("image:ubuntu:22.04&&id", "tag"),
        ("image:$(curl evil)", "whitespace"),
        ("image:ubuntu@sha512:" + "a" * 128, "digest"),
    ],
)
def test_invalid_image_label_is_refused_with_the_reason(label: str, reason: str) -> None:
    with pytest.raises(LabelError) as caught:
        parse_job_labels(["self-hosted", label])
    assert repr(label) in str(caught.value)
    assert reason in str(caught.value)
    assert caught.value.labels == (label,)
    with pytest.raises(ImageReferenceError):
        parse_image_reference(label[len("image:") :])


def test_image_prefix_is_case_insensitive_but_the_value_is_not() -> None:
    result = parse_job_labels(["self-hosted", "IMAGE:ubuntu:22.04"])
    assert result is not None
    assert str(result.image) == "ubuntu:22.04"
    with pytest.raises(LabelError):
        parse_job_labels(["self-hosted", "image:UBUNTU:22.04"])


@pytest.mark.parametrize("labels", [None, "self-hosted", b"self-hosted", 5, {"self-hosted": 1}])
def test_labels_that_are_not_a_list_are_refused(labels: Any) -> None:
    with pytest.raises(LabelError, match="list of strings"):
        parse_job_labels(labels)


def test_non_string_label_is_refused() -> None:
    with pytest.raises(LabelError, match="is not a string"):
        parse_job_labels(["self-hosted", 7])


def test_tuple_of_labels_is_accepted() -> None:
    assert parse_job_labels(("self-hosted", "linux")) is not None
