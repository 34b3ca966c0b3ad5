"""Shared test support for the domain tests: hypothesis profiles, the image reference oracle and
strategies that generate references from the grammar.

Import as ``tests.unit.domain.support`` (``tests/conftest.py`` puts the repository root on sys.path).

The oracle is written from the distribution/reference grammar (``reference.go``/``regexp.go``), not
from ``ecsrunner_core.domain.image_ref``::

    reference        := name [ ":" tag ] [ "@" digest ]
    name             := [domain "/"] path-component ["/" path-component]*
    domain           := domain-component ["." domain-component]* [":" port-number]
    domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
    path-component   := alpha-numeric [separator alpha-numeric]*
    alpha-numeric    := /[a-z0-9]+/
    separator        := /[_.]|__|[-]+/
    tag              := /[\\w][\\w.-]{0,127}/
    digest           := "sha256:" /[a-f0-9]{64}/        (the only algorithm ecsrunner accepts)

plus Docker's rule for telling a registry from a path component (``normalize.go``,
``splitDockerDomain``): when there are several "/"-separated parts, the first is the registry
exactly when it contains "." or ":" or is "localhost" (then it must be a valid domain); otherwise it
is a path component, so an uppercase first part is refused. The whole reference is at most 255
characters (ecsrunner's limit, stricter than the grammar's 255 on the name alone).
"""

from __future__ import annotations

import os
import re
from typing import NamedTuple

from hypothesis import settings
from hypothesis import strategies as st

# Hypothesis profiles: "dev" (default) explores with a fresh seed each run, "ci" is derandomized.
settings.register_profile("dev", max_examples=300, deadline=None)
settings.register_profile("ci", max_examples=300, deadline=None, derandomize=True, print_blob=True)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "dev")

# For test modules outside tests/unit/domain (whose conftest loads the profile for the session):
# the same settings as a decorator, so running one of those files alone behaves the same.
EXAMPLES = settings(max_examples=300, deadline=None, derandomize=PROFILE == "ci")

SHELL_METACHARACTERS = ";&|$`'\"<>(){}[]*?!\\#~%^=,+ \t\n\r\x0b\x0c"

# ---------------------------------------------------------------------------------------------
# The oracle: one regular expression, fully matched.
_ALNUM = "[a-z0-9]+"
_SEPARATOR = "(?:[._]|__|-+)"
_PATH_COMPONENT = f"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?"
_QUALIFIES_AS_REGISTRY = "[^/]*[.:]|localhost/"  # first part (before a "/") has "." or ":" or is localhost
_TAG = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = "sha256:[a-f0-9]{64}"

ORACLE = re.compile(
    f"(?:(?={_QUALIFIES_AS_REGISTRY})(?P<registry>{_DOMAIN})/"  # a registry that qualifies ...
    f"|(?![^/]*[.:][^/]*/|localhost/))"  # ... or no registry, and then the first part must not qualify
    f"(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    f"(?::(?P<tag>{_TAG}))?"
    f"(?:@(?P<digest>{_DIGEST}))?",
    re.ASCII,
)
MAX_TOTAL = 255
MAX_TAG = 128


class Parts(NamedTuple):
    registry: str | None
    path: str
    tag: str | None
    digest: str | None


def oracle(text: str) -> Parts | None:
    """The parts of ``text`` per the spec, or None when the spec refuses it."""
    if len(text) > MAX_TOTAL:
        return None
    match = ORACLE.fullmatch(text)
    if match is None:
        return None
    return Parts(match["registry"], match["path"], match["tag"], match["digest"])


# ---------------------------------------------------------------------------------------------
# Strategies that build references from the grammar.
_LOWER_DIGITS = "abcdefghijklmnopqrstuvwxyz0123456789"
_LETTERS_DIGITS = _LOWER_DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

alnum = st.text(alphabet=_LOWER_DIGITS, min_size=1, max_size=8)
separators = st.sampled_from([".", "_", "__", "-", "--", "---"])


@st.composite
def path_components(draw: st.DrawFn, *, allow_dot: bool = True) -> str:
    seps = separators if allow_dot else st.sampled_from(["_", "__", "-", "--", "---"])
    text = draw(alnum)
    for _ in range(draw(st.integers(0, 3))):
        text += draw(seps) + draw(alnum)
    return text


@st.composite
def domain_components(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(st.text(alphabet=_LETTERS_DIGITS, min_size=1, max_size=1))
    inner = draw(st.text(alphabet=_LETTERS_DIGITS + "-", max_size=8))
    ends = draw(st.text(alphabet=_LETTERS_DIGITS, min_size=2, max_size=2))
    return ends[0] + inner + ends[1]


ports = st.integers(0, 65535).map(str)


@st.composite
def registries(draw: st.DrawFn) -> str:
    """Hosts that Docker reads as a registry: with a "." or a port, or localhost."""
    kind = draw(st.sampled_from(["dotted", "port", "localhost"]))
    if kind == "localhost":
        host = "localhost"
        if draw(st.booleans()):
            host += ":" + draw(ports)
        return host
    if kind == "dotted":
        host = ".".join(draw(st.lists(domain_components(), min_size=2, max_size=4)))
        if draw(st.booleans()):
            host += ":" + draw(ports)
        return host
    return draw(domain_components()) + ":" + draw(ports)


@st.composite
def tags(draw: st.DrawFn, max_size: int = MAX_TAG) -> str:
    first = draw(st.text(alphabet=_LETTERS_DIGITS + "_", min_size=1, max_size=1))
    return first + draw(st.text(alphabet=_LETTERS_DIGITS + "_.-", max_size=max_size - 1))


digests = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64).map(lambda h: f"sha256:{h}")


@st.composite
def reference_parts(draw: st.DrawFn) -> Parts:
    """Parts of a valid reference, total length at most 255."""
    registry = draw(st.none() | registries())
    count = draw(st.integers(1, 4))
    components = [draw(path_components()) for _ in range(count)]
    if registry is None and count > 1:
        # Without a registry the first of several parts must not look like one (no ".",
        # not "localhost"), or Docker would read it as the registry.
        components[0] = draw(path_components(allow_dot=False).filter(lambda c: c != "localhost"))
    tag = draw(st.none() | tags())
    digest = draw(st.none() | digests)
    parts = Parts(registry, "/".join(components), tag, digest)
    text = render(parts)
    if len(text) > MAX_TOTAL:
        # Shorten the tag to fit rather than discarding the example.
        overflow = len(text) - MAX_TOTAL
        if tag is not None and len(tag) > overflow:
            parts = parts._replace(tag=tag[: len(tag) - overflow])
    return parts


def render(parts: Parts) -> str:
    text = f"{parts.registry}/{parts.path}" if parts.registry else parts.path
    if parts.tag is not None:
        text += f":{parts.tag}"
    if parts.digest is not None:
        text += f"@{parts.digest}"
    return text


valid_references = reference_parts().map(render).filter(lambda t: len(t) <= MAX_TOTAL)

# Characters a near-miss may gain: separators in the wrong place, uppercase, shell
# metacharacters, whitespace, non-ASCII.
_MUTATION_CHARS = "./:@_-aZ09" + SHELL_METACHARACTERS + "\x00\u00e9\u0130\u200b"


@st.composite
def near_misses(draw: st.DrawFn) -> str:
    """A valid reference with one character inserted, replaced or deleted."""
    text = draw(valid_references)
    position = draw(st.integers(0, len(text)))
    char = draw(st.sampled_from(_MUTATION_CHARS))
    action = draw(st.sampled_from(["insert", "replace", "delete"]))
    if action == "insert":
        return text[:position] + char + text[position:]
    if action == "replace":
        return text[:position] + char + text[position + 1 :]
    return text[:position] + text[position + 1 :]


# Text over the characters that matter to the grammar: short, so valid references do occur.
grammar_text = st.text(alphabet="ab0Z.-_:/@" + ";$ \n", max_size=24)
arbitrary_references = st.one_of(st.text(max_size=300), grammar_text, near_misses(), valid_references)
