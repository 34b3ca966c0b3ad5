"""Runner class sizes (``class:<name>`` labels) checked against Fargate's task size rules."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Architecture(StrEnum):
    X86_64 = "x86_64"
    ARM64 = "arm64"

    @property
    def ecs_name(self) -> str:
        """The value ECS expects in ``runtimePlatform.cpuArchitecture``."""
        return "X86_64" if self is Architecture.X86_64 else "ARM64"

    @property
    def runner_label(self) -> str:
        """The label GitHub gives runners of this architecture."""
        return "x64" if self is Architecture.X86_64 else "arm64"


def _steps(start: int, stop: int, step: int) -> tuple[int, ...]:
    return tuple(range(start, stop + 1, step))


# Valid task-level (cpu units -> memory MiB) combinations for Linux Fargate tasks.
# Source: "Task size" in the Amazon ECS developer guide (task_definition_parameters).
FARGATE_MEMORY_BY_CPU: Mapping[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: _steps(1024, 4096, 1024),
    1024: _steps(2048, 8192, 1024),
    2048: _steps(4096, 16384, 1024),
    4096: _steps(8192, 30720, 1024),
    8192: _steps(16384, 61440, 4096),
    16384: _steps(32768, 122880, 8192),
}
EPHEMERAL_STORAGE_GIB = (21, 200)
# Used with fullmatch: "$" alone also matches before a trailing newline.
CLASS_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


class ClassSizeError(ValueError):
    """A class definition Fargate would refuse, or a malformed class sizes document."""


def _memory_list(values: tuple[int, ...]) -> str:
    """Every valid value, spelled out (at most 23 of them, for 4096 cpu units)."""
    return ", ".join(str(v) for v in values)


def validate_fargate_size(cpu: int, memory: int) -> None:
    """Raise :class:`ClassSizeError` unless (cpu, memory) is a valid Fargate task size."""
    if cpu not in FARGATE_MEMORY_BY_CPU:
        valid = ", ".join(str(c) for c in FARGATE_MEMORY_BY_CPU)
        raise ClassSizeError(f"cpu {cpu} is not a Fargate CPU value; valid values: {valid}")
    allowed = FARGATE_MEMORY_BY_CPU[cpu]
    if memory not in allowed:
        raise ClassSizeError(
            f"memory {memory} MiB is not valid with cpu {cpu}; valid memory values: {_memory_list(allowed)}"
        )


@dataclass(frozen=True)
class ClassSize:
    name: str
    cpu: int
    memory: int
    # Fargate Spot runs x86_64 and arm64 Linux tasks (arm64 from platform version 1.4.0, which LATEST
    # is for Linux; RunTask does not pin a platform version).
    spot: bool = False
    architecture: Architecture = Architecture.X86_64
    ephemeral_storage_gib: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not CLASS_NAME_RE.fullmatch(self.name):
            raise ClassSizeError(
                f"class name {self.name!r} must be 1-63 lowercase letters, digits, '.', '_' or '-'"
            )
        try:
            validate_fargate_size(self.cpu, self.memory)
        except ClassSizeError as exc:
            raise ClassSizeError(f"class {self.name!r}: {exc}") from None
        try:
            # Accept the plain string too ("arm64"), but store the enum: "is ARM64" must hold for it.
            object.__setattr__(self, "architecture", Architecture(self.architecture))
        except ValueError:
            raise ClassSizeError(
                f"class {self.name!r}: architecture must be x86_64 or arm64 (got {self.architecture!r})"
            ) from None
        low, high = EPHEMERAL_STORAGE_GIB
        if self.ephemeral_storage_gib is not None and not low <= self.ephemeral_storage_gib <= high:
            raise ClassSizeError(
                f"class {self.name!r}: ephemeral_storage_gib must be between {low} and {high} "
                f"(got {self.ephemeral_storage_gib})"
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "cpu": self.cpu,
            "memory": self.memory,
            "spot": self.spot,
            "architecture": self.architecture.value,
            "ephemeral_storage_gib": self.ephemeral_storage_gib,
        }


def _int_field(name: str, spec: Mapping[str, Any], key: str, required: bool = True) -> int | None:
    value = spec.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ClassSizeError(f"class {name!r}: {key} must be an integer (got {value!r})")
    return value


def class_size_from_json(name: str, spec: Any) -> ClassSize:
    if not isinstance(spec, Mapping):
        raise ClassSizeError(f"class {name!r}: expected an object with cpu and memory")
    unknown = set(spec) - {"cpu", "memory", "spot", "architecture", "ephemeral_storage_gib"}
    if unknown:
        raise ClassSizeError(f"class {name!r}: unknown keys {sorted(unknown)}")
    cpu = _int_field(name, spec, "cpu")
    memory = _int_field(name, spec, "memory")
    spot = spec.get("spot", False)
    if not isinstance(spot, bool):
        raise ClassSizeError(f"class {name!r}: spot must be true or false")
    arch_text = spec.get("architecture", Architecture.X86_64.value)
    try:
        architecture = Architecture(arch_text)
    except ValueError:
        raise ClassSizeError(
            f"class {name!r}: architecture must be x86_64 or arm64 (got {arch_text!r})"
        ) from None
    storage = _int_field(name, spec, "ephemeral_storage_gib", required=False)
    assert cpu is not None and memory is not None
    return ClassSize(name, cpu, memory, spot, architecture, storage)


@dataclass(frozen=True)
class ClassSizes:
    """All classes a fleet offers, and the one used for jobs without a ``class:`` label."""

    classes: Mapping[str, ClassSize]
    default: str

    def __post_init__(self) -> None:
        if not self.classes:
            raise ClassSizeError("at least one runner class is required")
        if self.default not in self.classes:
            raise ClassSizeError(
                f"default class {self.default!r} is not defined; defined: {', '.join(sorted(self.classes))}"
            )

    def get(self, name: str | None) -> ClassSize | None:
        return self.classes.get((name or self.default).lower())

    def names(self) -> list[str]:
        return sorted(self.classes)

    @classmethod
    def from_json(cls, document: Any) -> ClassSizes:
        """Parse ``{"default": "medium", "classes": {"medium": {"cpu": 1024, "memory": 4096}}}``."""
        if not isinstance(document, Mapping) or not isinstance(document.get("classes"), Mapping):
            raise ClassSizeError('class sizes must be an object {"default": NAME, "classes": {NAME: {...}}}')
        classes = {
            str(name): class_size_from_json(str(name), spec) for name, spec in document["classes"].items()
        }
        default = document.get("default")
        if not isinstance(default, str):
            raise ClassSizeError("class sizes need a string 'default' naming one of the classes")
        return cls(classes=classes, default=default)

    def to_json(self) -> dict[str, Any]:
        return {"default": self.default, "classes": {n: c.to_json() for n, c in sorted(self.classes.items())}}


DEFAULT_CLASS_SIZES = ClassSizes(
    classes={
        "small": ClassSize("small", 512, 1024),
        "medium": ClassSize("medium", 1024, 4096),
        "large": ClassSize("large", 4096, 16384),
    },
    default="medium",
)
