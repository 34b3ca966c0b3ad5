"""Container image references, validated against the OCI/Docker distribution grammar.

The grammar (github.com/distribution/reference, ``reference.go``)::

    reference        := name [ ":" tag ] [ "@" digest ]
    name             := [domain "/"] remote-name
    domain           := host [":" port-number]
    host             := domain-name | IPv4address
    domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
    path-component   := alpha-numeric [separator alpha-numeric]*
    alpha-numeric    := /[a-z0-9]+/
    separator        := /[_.]|__|[-]+/
    tag              := /[\\w][\\w.-]{0,127}/
    digest           := "sha256:" /[a-f0-9]{64}/   (only sha256 is accepted here)

The first of several "/"-separated components is a registry host exactly when it contains "." or
":" or is "localhost", as in Docker; it must then be a valid host[:port]. Otherwise it is a path
component (so ``UPPER/x`` is refused, not read as a registry). The whole reference is at most 255
characters. IPv6 hosts are refused. ``index.docker.io`` is Docker Hub's legacy name: the canonical
form spells it ``docker.io``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_REFERENCE_LENGTH = 255
MAX_TAG_LENGTH = 128
DEFAULT_REGISTRY = "docker.io"
LEGACY_DEFAULT_REGISTRY = "index.docker.io"

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?"
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"sha256:[a-f0-9]{64}"

# Always used with fullmatch: "$" alone would also accept a trailing newline.
_DOMAIN_RE = re.compile(_DOMAIN, re.ASCII)
_PATH_COMPONENT_RE = re.compile(_PATH_COMPONENT, re.ASCII)
_TAG_RE = re.compile(_TAG, re.ASCII)
_DIGEST_RE = re.compile(_DIGEST, re.ASCII)


class ImageReferenceError(ValueError):
    """An image reference outside the grammar; ``reason`` says which rule it breaks."""

    def __init__(self, reference: str, reason: str) -> None:
        super().__init__(f"invalid image reference {reference!r}: {reason}")
        self.reference = reference
        self.reason = reason


@dataclass(frozen=True)
class ImageReference:
    """A parsed reference. ``registry`` is None when the reference names no registry host."""

    registry: str | None
    path: str
    tag: str | None
    digest: str | None

    def __str__(self) -> str:
        text = f"{self.registry}/{self.path}" if self.registry else self.path
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    @property
    def canonical(self) -> str:
        """The fully qualified form: ``ubuntu:22.04``, ``library/ubuntu:22.04``,
        ``docker.io/library/ubuntu:22.04`` and ``index.docker.io/library/ubuntu:22.04`` agree."""
        registry = self.registry or DEFAULT_REGISTRY
        if registry == LEGACY_DEFAULT_REGISTRY:
            registry = DEFAULT_REGISTRY
        path = self.path
        if registry == DEFAULT_REGISTRY and "/" not in path:
            path = f"library/{path}"
        text = f"{registry}/{path}"
        if self.tag or not self.digest:
            text += f":{self.tag or 'latest'}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _looks_like_registry(component: str) -> bool:
    return "." in component or ":" in component or component == "localhost"


def _check_text(reference: str) -> None:
    if not reference:
        raise ImageReferenceError(reference, "empty reference")
    if len(reference) > MAX_REFERENCE_LENGTH:
        raise ImageReferenceError(
            reference, f"longer than {MAX_REFERENCE_LENGTH} characters ({len(reference)})"
        )
    if not reference.isascii() or not reference.isprintable() or any(c.isspace() for c in reference):
        raise ImageReferenceError(reference, "contains whitespace or non-printable characters")


def _check_tag(reference: str, tag: str) -> None:
    if not tag:
        raise ImageReferenceError(reference, "empty tag")
    if len(tag) > MAX_TAG_LENGTH:
        raise ImageReferenceError(reference, f"tag longer than {MAX_TAG_LENGTH} characters")
    if not _TAG_RE.fullmatch(tag):
        raise ImageReferenceError(
            reference, "tag must start with a letter, digit or _ and contain only letters, digits, _ . -"
        )


def _check_path_component(reference: str, component: str) -> None:
    if not component:
        raise ImageReferenceError(reference, "empty path component")
    if not _PATH_COMPONENT_RE.fullmatch(component):
        raise ImageReferenceError(
            reference,
            f"path component {component!r} must be lowercase letters and digits, "
            "joined by '.', '_', '__' or dashes",
        )


def parse_image_reference(reference: str) -> ImageReference:
    """Parse ``reference`` or raise :class:`ImageReferenceError` naming the broken rule."""
    if not isinstance(reference, str):
        raise ImageReferenceError(repr(reference), "not a string")
    _check_text(reference)

    remainder = reference
    digest: str | None = None
    if "@" in remainder:
        remainder, digest = remainder.split("@", 1)
        if not _DIGEST_RE.fullmatch(digest):
            raise ImageReferenceError(reference, "digest must be sha256: followed by 64 lowercase hex digits")

    components = remainder.split("/")
    registry: str | None = None
    if len(components) > 1 and _looks_like_registry(components[0]):
        registry = components.pop(0)
        if not _DOMAIN_RE.fullmatch(registry):
            raise ImageReferenceError(reference, f"registry host {registry!r} is not a valid host[:port]")

    tag: str | None = None
    if ":" in components[-1]:
        components[-1], tag = components[-1].split(":", 1)
        _check_tag(reference, tag)

    for component in components:
        _check_path_component(reference, component)
    return ImageReference(registry=registry, path="/".join(components), tag=tag, digest=digest)
