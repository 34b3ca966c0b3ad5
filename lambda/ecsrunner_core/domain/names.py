"""Runner names and derived image tags."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets

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
