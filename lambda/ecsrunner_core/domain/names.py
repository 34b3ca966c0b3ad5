"""Runner names and derived image tags."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from datetime import UTC, datetime

MAX_RUNNER_NAME = 64
_RANDOM_BYTES = 17  # base32 of 17 bytes is 28 characters; the first 27 are kept
_RANDOM_CHARS = 27
# Lowercased RFC 4648 base32: 5 bits a character.
_TOKEN_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # noqa: S105 (not a password)
RANDOM_BITS = _RANDOM_CHARS * 5  # 135; at least 96 random bits are required
MAX_PREFIX = MAX_RUNNER_NAME - _RANDOM_CHARS - 1
PREFIX_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")  # use with fullmatch: "$" also matches before "\n"
_TOKEN_RE = re.compile(f"[{_TOKEN_ALPHABET}]{{{_RANDOM_CHARS}}}")


def validate_prefix(prefix: str) -> str:
    if not isinstance(prefix, str) or len(prefix) > MAX_PREFIX or not PREFIX_RE.fullmatch(prefix):
        raise ValueError(
            f"runner name prefix {prefix!r} must be 1-{MAX_PREFIX} lowercase letters, digits or '-', "
            "starting with a letter or digit"
        )
    return prefix


def new_runner_name(prefix: str) -> str:
    """``<prefix>-<27 base32 chars>``: unique, unguessable (135 random bits), at most 64 chars."""
    token = base64.b32encode(secrets.token_bytes(_RANDOM_BYTES)).decode().rstrip("=").lower()
    return f"{validate_prefix(prefix)}-{token[:_RANDOM_CHARS]}"


def is_our_runner_name(prefix: str, name: str | None) -> bool:
    """True only for names :func:`new_runner_name` can return for ``prefix``."""
    if not name or not name.startswith(f"{prefix}-"):
        return False
    return _TOKEN_RE.fullmatch(name, len(prefix) + 1) is not None


_TAG_UNSAFE = re.compile(r"[^a-z0-9_.-]+")
TAG_HASH_CHARS = 40  # 160 bits of SHA-256
MAX_TAG = 128


def derive_image_tag(canonical_reference: str, context_digest: str, architecture: str) -> str:
    """Deterministic ECR tag for (base image, build context, architecture).

    The readable prefix is lossy (``ubuntu:22.04`` and ``ubuntu-22.04`` share it); the SHA-256 suffix
    over the exact inputs keeps tags collision-free.
    """
    # A JSON array is an unambiguous encoding: no choice of the three strings can make two
    # different triples produce the same bytes (a plain "\n".join could).
    material = json.dumps([canonical_reference, context_digest, architecture]).encode()
    digest = hashlib.sha256(material).hexdigest()[:TAG_HASH_CHARS]
    short = canonical_reference.split("@", 1)[0].rsplit("/", 1)[-1].lower()
    readable = _TAG_UNSAFE.sub("-", f"{short}-{architecture}").strip("-.") or "image"
    room = MAX_TAG - TAG_HASH_CHARS - 1
    return f"{readable[:room].rstrip('-.')}-{digest}"


# Tags of scheduled rebuilds start with this; derived tags never do (they start with a letter or
# digit), so an ECR lifecycle rule can expire old rebuilds by prefix without touching first builds.
REBUILD_TAG_PREFIX = "_r"
_STAMP_FORMAT = "%Y%m%d%H%M"


def rebuild_image_tag(image_tag: str, at: datetime) -> str:
    """The tag of the rebuild of ``image_tag`` (a :func:`derive_image_tag` tag) started for ``at``.

    ``_r<YYYYMMDDHHMM UTC>-<image_tag>``: one tag per image and minute, so a repeated schedule
    delivery asks for the same tag (and meets its build lock); tags of one image sort by time. The
    readable part is shortened to keep 128 characters; the hash part is kept whole.
    """
    prefix = f"{REBUILD_TAG_PREFIX}{at.astimezone(UTC).strftime(_STAMP_FORMAT)}-"
    readable, _, digest = image_tag.rpartition("-")
    room = MAX_TAG - len(prefix) - len(digest) - 1
    readable = readable[:room].rstrip("-.") or "image"
    return f"{prefix}{readable}-{digest}"


def rebuild_stamp(tag: str) -> str:
    """The ``YYYYMMDDHHMM`` of a rebuild tag, ``""`` for a first build's tag (sorts oldest)."""
    if not tag.startswith(REBUILD_TAG_PREFIX):
        return ""
    return tag[len(REBUILD_TAG_PREFIX) : len(REBUILD_TAG_PREFIX) + len("YYYYMMDDHHMM")]
