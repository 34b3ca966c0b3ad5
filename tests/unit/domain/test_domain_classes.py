"""Runner classes against Fargate's task size table, and the class sizes document."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ecsrunner_core.domain.classes import (
    DEFAULT_CLASS_SIZES,
    FARGATE_MEMORY_BY_CPU,
    Architecture,
    ClassSize,
    ClassSizeError,
    ClassSizes,
    class_size_from_json,
    validate_fargate_size,
)
from hypothesis import given
from hypothesis import strategies as st

# Fargate task sizes for Linux, as the Amazon ECS developer guide lists them ("Task CPU and
# memory"): cpu units -> (first MiB, last MiB, step MiB). Written out here independently of the
# table in classes.py.
FARGATE_TABLE = {
    256: (512, 2048, None),  # 512, 1024, 2048 (not a constant step)
    512: (1024, 4096, 1024),
    1024: (2048, 8192, 1024),
    2048: (4096, 16384, 1024),
    4096: (8192, 30720, 1024),
    8192: (16384, 61440, 4096),
    16384: (32768, 122880, 8192),
}


def valid_memory(cpu: int) -> list[int]:
    first, last, step = FARGATE_TABLE[cpu]
    if step is None:
        return [512, 1024, 2048]
    return list(range(first, last + 1, step))


VALID_PAIRS = [(cpu, memory) for cpu in FARGATE_TABLE for memory in valid_memory(cpu)]


def test_the_table_matches_the_fargate_documentation() -> None:
    assert {cpu: list(memory) for cpu, memory in FARGATE_MEMORY_BY_CPU.items()} == {
        cpu: valid_memory(cpu) for cpu in FARGATE_TABLE
    }
    assert len(VALID_PAIRS) == 3 + 4 + 7 + 13 + 23 + 12 + 12


@pytest.mark.parametrize(("cpu", "memory"), VALID_PAIRS)
def test_every_valid_fargate_size_is_accepted(cpu: int, memory: int) -> None:
    validate_fargate_size(cpu, memory)
    size = ClassSize("c", cpu, memory)
    assert (size.cpu, size.memory) == (cpu, memory)


@given(st.integers(min_value=0, max_value=200_000), st.integers(min_value=0, max_value=200_000))
def test_any_other_pair_is_refused_listing_the_valid_memory_values(cpu: int, memory: int) -> None:
    if (cpu, memory) in VALID_PAIRS:
        validate_fargate_size(cpu, memory)
        return
    with pytest.raises(ClassSizeError) as caught:
        validate_fargate_size(cpu, memory)
    message = str(caught.value)
    if cpu in FARGATE_TABLE:
        listed = message.split("valid memory values: ", 1)[1]
        assert [int(v) for v in listed.split(", ")] == valid_memory(cpu)
    else:
        assert "256, 512, 1024, 2048, 4096, 8192, 16384" in message


@pytest.mark.parametrize(
    ("cpu", "memory"),
    [
        (256, 3072),
        (256, 256),
        (512, 512),
        (512, 5120),
        (1024, 1024),
        (1024, 9216),
        (2048, 17408),
        (4096, 31744),
        (8192, 18432),  # 4 GiB steps only
        (8192, 65536),
        (16384, 36864),  # 8 GiB steps only
        (16384, 131072),
        (128, 512),
        (32768, 65536),
        (3072, 8192),
    ],
)
def test_invalid_sizes_are_refused(cpu: int, memory: int) -> None:
    with pytest.raises(ClassSizeError, match="valid"):
        ClassSize("c", cpu, memory)


def test_error_lists_every_valid_memory_value() -> None:
    with pytest.raises(ClassSizeError) as caught:
        ClassSize("big", 4096, 4096)
    message = str(caught.value)
    assert message.startswith("class 'big': memory 4096 MiB is not valid with cpu 4096")
    for memory in valid_memory(4096):
        assert str(memory) in message


def test_spot_runs_arm64_too() -> None:
    """FARGATE_SPOT runs Linux ARM64 tasks on platform version 1.4.0 or later (ECS API reference,
    CapacityProviderStrategyItem); RunTask leaves the platform version at LATEST, which is 1.4.0."""
    graviton = ClassSize("a", 1024, 2048, spot=True, architecture=Architecture.ARM64)
    from_string = ClassSize("a", 1024, 2048, spot=True, architecture="arm64")  # type: ignore[arg-type]

    assert graviton.spot and graviton.architecture is Architecture.ARM64
    assert from_string == graviton
    assert graviton.to_json() == {
        "cpu": 1024,
        "memory": 2048,
        "spot": True,
        "architecture": "arm64",
        "ephemeral_storage_gib": None,
    }
    document = {
        "default": "g",
        "classes": {"g": {"cpu": 1024, "memory": 2048, "spot": True, "architecture": "arm64"}},
    }
    assert ClassSizes.from_json(document).get(None) == ClassSize("g", 1024, 2048, True, Architecture.ARM64)


def test_plain_string_architecture_is_stored_as_the_enum() -> None:
    size = ClassSize("a", 1024, 2048, architecture="arm64")  # type: ignore[arg-type]
    assert size.architecture is Architecture.ARM64
    assert size.to_json()["architecture"] == "arm64"
    with pytest.raises(ClassSizeError, match="architecture"):
        ClassSize("a", 1024, 2048, architecture="amd64")  # type: ignore[arg-type]


@pytest.mark.parametrize("gib", [21, 22, 100, 199, 200])
def test_ephemeral_storage_within_bounds(gib: int) -> None:
    assert ClassSize("a", 1024, 2048, ephemeral_storage_gib=gib).ephemeral_storage_gib == gib


@pytest.mark.parametrize("gib", [-1, 0, 20, 201, 1000])
def test_ephemeral_storage_out_of_bounds(gib: int) -> None:
    with pytest.raises(ClassSizeError, match="between 21 and 200"):
        ClassSize("a", 1024, 2048, ephemeral_storage_gib=gib)


@pytest.mark.parametrize("name", ["", "Large", "-a", ".a", "a b", "a" * 64, "medium\n", "a/b"])
def test_invalid_class_names(name: str) -> None:
    with pytest.raises(ClassSizeError, match="class name"):
        ClassSize(name, 1024, 2048)


@pytest.mark.parametrize("name", ["a", "0", "gpu.large", "x_1-2", "a" * 63])
def test_valid_class_names(name: str) -> None:
    assert ClassSize(name, 1024, 2048).name == name


def test_architecture_names() -> None:
    assert Architecture.X86_64.ecs_name == "X86_64"
    assert Architecture.ARM64.ecs_name == "ARM64"
    assert Architecture.X86_64.runner_label == "x64"
    assert Architecture.ARM64.runner_label == "arm64"


# --- the document -------------------------------------------------------------------------------

DOCUMENT = {
    "default": "medium",
    "classes": {
        "small": {"cpu": 512, "memory": 1024},
        "medium": {"cpu": 1024, "memory": 4096, "spot": True},
        "arm": {"cpu": 2048, "memory": 8192, "architecture": "arm64", "ephemeral_storage_gib": 50},
    },
}


def test_from_json() -> None:
    sizes = ClassSizes.from_json(DOCUMENT)
    assert sizes.default == "medium"
    assert sizes.names() == ["arm", "medium", "small"]
    assert sizes.get(None) == ClassSize("medium", 1024, 4096, spot=True)
    assert sizes.get("ARM") == ClassSize("arm", 2048, 8192, False, Architecture.ARM64, 50)
    assert sizes.get("huge") is None


def test_to_json_round_trip() -> None:
    sizes = ClassSizes.from_json(DOCUMENT)
    document = sizes.to_json()
    assert json.loads(json.dumps(document)) == document
    assert ClassSizes.from_json(document) == sizes
    assert ClassSizes.from_json(DEFAULT_CLASS_SIZES.to_json()) == DEFAULT_CLASS_SIZES


@st.composite
def class_sizes(draw: st.DrawFn) -> ClassSizes:
    names = draw(
        st.lists(
            st.from_regex(r"[a-z0-9][a-z0-9._-]{0,10}", fullmatch=True), min_size=1, max_size=4, unique=True
        )
    )
    classes = {}
    for name in names:
        cpu, memory = draw(st.sampled_from(VALID_PAIRS))
        architecture = draw(st.sampled_from(list(Architecture)))
        spot = draw(st.booleans())
        storage = draw(st.none() | st.integers(21, 200))
        classes[name] = ClassSize(name, cpu, memory, spot, architecture, storage)
    return ClassSizes(classes=classes, default=draw(st.sampled_from(names)))


@given(class_sizes())
def test_any_valid_class_sizes_round_trip_through_json(sizes: ClassSizes) -> None:
    text = json.dumps(sizes.to_json())
    assert ClassSizes.from_json(json.loads(text)) == sizes


def test_default_class_sizes() -> None:
    assert DEFAULT_CLASS_SIZES.get(None) is DEFAULT_CLASS_SIZES.classes[DEFAULT_CLASS_SIZES.default]
    for name, size in DEFAULT_CLASS_SIZES.classes.items():
        assert size.name == name
        validate_fargate_size(size.cpu, size.memory)


def test_default_must_be_defined() -> None:
    with pytest.raises(ClassSizeError, match="default class 'large' is not defined; defined: small"):
        ClassSizes(classes={"small": ClassSize("small", 256, 512)}, default="large")
    with pytest.raises(ClassSizeError, match="at least one"):
        ClassSizes(classes={}, default="small")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (None, "must be an object"),
        ([], "must be an object"),
        ("medium", "must be an object"),
        ({"default": "m"}, "must be an object"),
        ({"default": "m", "classes": []}, "must be an object"),
        ({"classes": {"m": {"cpu": 256, "memory": 512}}}, "string 'default'"),
        ({"default": 1, "classes": {"m": {"cpu": 256, "memory": 512}}}, "string 'default'"),
        ({"default": "x", "classes": {"m": {"cpu": 256, "memory": 512}}}, "not defined"),
        ({"default": "m", "classes": {}}, "at least one"),
        ({"default": "m", "classes": {"m": 5}}, "expected an object"),
        ({"default": "m", "classes": {"m": {"memory": 512}}}, "cpu must be an integer"),
        ({"default": "m", "classes": {"m": {"cpu": "256", "memory": 512}}}, "cpu must be an integer"),
        ({"default": "m", "classes": {"m": {"cpu": 256.0, "memory": 512}}}, "cpu must be an integer"),
        ({"default": "m", "classes": {"m": {"cpu": True, "memory": 512}}}, "cpu must be an integer"),
        ({"default": "m", "classes": {"m": {"cpu": 256}}}, "memory must be an integer"),
        ({"default": "m", "classes": {"m": {"cpu": 256, "memory": 512, "spot": "yes"}}}, "spot"),
        (
            {"default": "m", "classes": {"m": {"cpu": 256, "memory": 512, "architecture": "x64"}}},
            "architecture",
        ),
        ({"default": "m", "classes": {"m": {"cpu": 256, "memory": 512, "architecture": []}}}, "architecture"),
        ({"default": "m", "classes": {"m": {"cpu": 256, "memory": 512, "gpu": 1}}}, "unknown keys ['gpu']"),
        (
            {"default": "m", "classes": {"m": {"cpu": 256, "memory": 512, "ephemeral_storage_gib": "30"}}},
            "ephemeral_storage_gib must be an integer",
        ),
        ({"default": "M", "classes": {"M": {"cpu": 256, "memory": 512}}}, "class name"),
    ],
)
def test_malformed_documents(document: Any, message: str) -> None:
    with pytest.raises(ClassSizeError) as caught:
        ClassSizes.from_json(document)
    assert message in str(caught.value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 200_000) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
size_specs = st.dictionaries(
    st.sampled_from(["cpu", "memory", "spot", "architecture", "ephemeral_storage_gib", "other"]),
    json_values | st.sampled_from([256, 512, 1024, 2048, 4096, 21, 200, "x86_64", "arm64", True, False]),
    max_size=6,
)
documents = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {
            "default": st.sampled_from(["small", "medium", "Large"]) | json_values,
            "classes": st.dictionaries(
                st.sampled_from(["small", "medium", "Large", "", "a b"]) | st.text(max_size=5),
                size_specs | json_values,
                max_size=3,
            )
            | json_values,
        }
    ),
)


@given(documents)
def test_any_json_document_gives_class_sizes_or_class_size_error(document: Any) -> None:
    try:
        sizes = ClassSizes.from_json(document)
    except ClassSizeError as exc:
        assert str(exc)
        return
    assert sizes.default in sizes.classes
    assert ClassSizes.from_json(json.loads(json.dumps(sizes.to_json()))) == sizes


@given(st.text(max_size=10), size_specs | json_values)
def test_class_size_from_json_raises_only_class_size_error(name: str, spec: Any) -> None:
    try:
        size = class_size_from_json(name, spec)
    except ClassSizeError:
        return
    validate_fargate_size(size.cpu, size.memory)
