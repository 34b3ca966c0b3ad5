"""Runner images built for ``image:`` labels (and the default base image)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from fnmatch import fnmatchcase

LOCAL_BUILD_PREFIX = "local:"  # build ids of `images build --local` locks


class ImageState(StrEnum):
    BUILDING = "BUILDING"
    READY = "READY"
    FAILED = "FAILED"


@dataclass(frozen=True)
class ImageRecord:
    """One derived tag in the runner ECR repository. Its creation is the one-build-per-tag lock."""

    tag: str
    base_image: str
    architecture: str
    state: ImageState
    created_at: datetime
    updated_at: datetime
    build_id: str | None = None
    task_definition_arn: str | None = None
    built_at: datetime | None = None
    size_bytes: int | None = None
    reason: str | None = None
    log_url: str | None = None
    derived_from: str | None = None  # the base task definition ``task_definition_arn`` was copied from
    # A scheduled rebuild's generation (its own tag and record) names the image it rebuilds ...
    rebuild_of: str | None = None
    # ... and, once READY, the rebuilt image's record serves it: launches use this ECR tag.
    current_tag: str | None = None

    @property
    def serving_tag(self) -> str:
        """The ECR tag launches of this image pull: the newest READY rebuild, else the first build."""
        return self.current_tag or self.tag


def base_image_allowed(written: str, canonical: str, patterns: Sequence[str]) -> bool:
    """``allowed_base_images`` globs match the reference as written or its canonical form."""
    return not patterns or any(fnmatchcase(written, p) or fnmatchcase(canonical, p) for p in patterns)
