"""Rules for a job's ``runs-on`` labels: is the job ours, and what does it ask for?

* ``self-hosted`` is required (labels compare case-insensitively, as GitHub does).
* Every other label must be one the fleet declares: ``linux``, ``x64``/``arm64``, ``class:*``,
  ``image:*`` and the configured extra labels. A job with any other label belongs to another
  self-hosted fleet: it is ignored, never stolen.
* At most one ``class:`` and one ``image:`` label; the ``image:`` value must be a valid image
  reference (see :mod:`image_ref`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .image_ref import ImageReference, ImageReferenceError, parse_image_reference

SELF_HOSTED = "self-hosted"
CLASS_PREFIX = "class:"
IMAGE_PREFIX = "image:"
BUILTIN_LABELS = frozenset({SELF_HOSTED, "linux", "x64", "arm64"})
ARCH_LABELS = frozenset({"x64", "arm64"})


class LabelError(ValueError):
    """The job is for this fleet but its labels cannot be served; the message names the label."""

    def __init__(self, message: str, labels: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.labels = tuple(labels)


@dataclass(frozen=True)
class JobLabels:
    labels: tuple[str, ...]
    class_name: str | None
    image: ImageReference | None
    image_label: str | None
    architecture_label: str | None


def normalise_extra_labels(extra: Iterable[str]) -> frozenset[str]:
    return frozenset(label.strip().lower() for label in extra if label.strip())


def _texts(labels: Sequence[object]) -> list[str]:
    if not isinstance(labels, Sequence) or isinstance(labels, str | bytes):
        raise LabelError("labels must be a list of strings")
    texts: list[str] = []
    for label in labels:
        if not isinstance(label, str):
            raise LabelError(f"label {label!r} is not a string")
        texts.append(label.strip())
    return texts


def _at_most_one(kind: str, found: list[str]) -> str | None:
    if len(found) > 1:
        raise LabelError(
            f"more than one {kind} label: {', '.join(repr(f) for f in found)}; use exactly one", found
        )
    return found[0] if found else None


def _class_name(label: str | None) -> str | None:
    if label is None:
        return None
    name = label[len(CLASS_PREFIX) :].strip().lower()
    if not name:
        raise LabelError(f"label {label!r} names no class", [label])
    return name


def _image(label: str | None) -> ImageReference | None:
    if label is None:
        return None
    try:
        return parse_image_reference(label[len(IMAGE_PREFIX) :])
    except ImageReferenceError as exc:
        raise LabelError(f"label {label!r}: {exc.reason}", [label]) from None


def parse_job_labels(
    labels: Sequence[object], extra_labels: frozenset[str] = frozenset()
) -> JobLabels | None:
    """Return what the job asks for, ``None`` if the job is not for this fleet.

    Raises :class:`LabelError` (and nothing else) when the job is ours but cannot be served.
    """
    texts = _texts(labels)
    lowered = [t.lower() for t in texts]
    if SELF_HOSTED not in lowered:
        return None
    declared = BUILTIN_LABELS | normalise_extra_labels(extra_labels)
    if any(low not in declared and not low.startswith((CLASS_PREFIX, IMAGE_PREFIX)) for low in lowered):
        return None

    pairs = list(zip(texts, lowered, strict=True))
    class_label = _at_most_one("class", [t for t, low in pairs if low.startswith(CLASS_PREFIX)])
    image_label = _at_most_one("image", [t for t, low in pairs if low.startswith(IMAGE_PREFIX)])
    arch_labels = sorted({low for low in lowered if low in ARCH_LABELS})
    if len(arch_labels) > 1:
        raise LabelError(f"conflicting architecture labels: {', '.join(arch_labels)}", arch_labels)

    return JobLabels(
        labels=tuple(texts),
        class_name=_class_name(class_label),
        image=_image(image_label),
        image_label=image_label,
        architecture_label=arch_labels[0] if arch_labels else None,
    )
