"""Runner images as the operator sees them: image records joined with what is in ECR."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain.images import ImageRecord
from ..ports import RegistryImage
from ..views import image_view, iso


@dataclass(frozen=True)
class CatalogImage:
    """One derived tag: its record (None when pushed outside ecsrunner) and its ECR image, if any."""

    tag: str
    record: ImageRecord | None
    pushed: RegistryImage | None

    @property
    def built_at(self) -> datetime | None:
        if self.record is not None and self.record.built_at is not None:
            return self.record.built_at
        return self.pushed.pushed_at if self.pushed is not None else None

    @property
    def size_bytes(self) -> int | None:
        if self.record is not None and self.record.size_bytes is not None:
            return self.record.size_bytes
        return self.pushed.size_bytes if self.pushed is not None else None


def image_catalog(records: Iterable[ImageRecord], pushed: Iterable[RegistryImage]) -> list[CatalogImage]:
    """Every tag known to the table or to ECR, newest first (unknown times last)."""
    by_tag: dict[str, RegistryImage] = {image.tag: image for image in pushed}
    entries = [CatalogImage(r.tag, r, by_tag.pop(r.tag, None)) for r in records]
    entries += [CatalogImage(tag, None, image) for tag, image in by_tag.items()]

    def newest(entry: CatalogImage) -> tuple[bool, str, str]:
        when = entry.built_at or (entry.record.created_at if entry.record else None)
        return (when is not None, iso(when) or "", entry.tag)

    return sorted(entries, key=newest, reverse=True)


def catalog_view(entry: CatalogImage) -> dict[str, Any]:
    """:func:`~ecsrunner_core.views.image_view` plus the ECR side; the same keys for every entry."""
    if entry.record is not None:
        view = image_view(entry.record)
    else:
        view = dict.fromkeys(_IMAGE_KEYS)
        view.update(tag=entry.tag, built_at=iso(entry.built_at), size_bytes=entry.size_bytes)
    view["in_registry"] = entry.pushed is not None
    view["pushed_at"] = iso(entry.pushed.pushed_at) if entry.pushed else None
    view["digest"] = entry.pushed.digest if entry.pushed else None
    return view


_IMAGE_KEYS = (
    "tag",
    "base_image",
    "architecture",
    "state",
    "build_id",
    "built_at",
    "size_bytes",
    "reason",
    "log_url",
    "created_at",
    "updated_at",
)
