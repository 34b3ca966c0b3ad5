"""Image references: the parser agrees exactly with an oracle written from the grammar."""

from __future__ import annotations

import pytest
from ecsrunner_core.domain.image_ref import (
    ImageReference,
    ImageReferenceError,
    parse_image_reference,
)
from hypothesis import example, given
from hypothesis import strategies as st

from tests.unit.domain.support import (
    MAX_TAG,
    MAX_TOTAL,
    SHELL_METACHARACTERS,
    Parts,
    arbitrary_references,
    near_misses,
    oracle,
    reference_parts,
    render,
    valid_references,
)

HEX = "0123456789abcdef" * 4
DIGEST = f"sha256:{HEX}"


def parts_of(reference: ImageReference) -> Parts:
    return Parts(reference.registry, reference.path, reference.tag, reference.digest)


def assert_safe(reference: ImageReference, text: str) -> None:
    """What an accepted reference can never contain, checked independently of the oracle."""
    assert str(reference) == text
    assert len(text) <= MAX_TOTAL
    assert not set(text) & set(SHELL_METACHARACTERS)
    assert text.isascii() and text.isprintable()
    assert reference.path == reference.path.lower()
    assert reference.tag is None or 1 <= len(reference.tag) <= MAX_TAG


# --- generated from the grammar -----------------------------------------------------------


@given(reference_parts())
def test_every_generated_reference_is_accepted_with_its_parts(parts: Parts) -> None:
    text = render(parts)
    if len(text) > MAX_TOTAL:
        with pytest.raises(ImageReferenceError):
            parse_image_reference(text)
        return
    reference = parse_image_reference(text)
    assert parts_of(reference) == parts
    assert str(reference) == text
    assert oracle(text) == parts
    assert_safe(reference, text)


@given(valid_references)
def test_canonical_form_is_itself_a_valid_reference_and_stable(text: str) -> None:
    reference = parse_image_reference(text)
    canonical = reference.canonical
    if len(canonical) <= MAX_TOTAL:
        again = parse_image_reference(canonical)
        assert again.canonical == canonical
        assert again.registry is not None
        assert (again.tag is not None) or (again.digest is not None)


@given(arbitrary_references)
@example("")
@example("ubuntu\n")
@example("UPPER/x")
@example("a:b/c")
@example("a.b_c/d")
@example("localhost")
@example("localhost:5000")
@example("example.com:5000")
@example("[::1]:5000/a")
@example("a@" + DIGEST + "/b")
def test_parser_agrees_with_the_oracle_and_raises_only_its_error(text: str) -> None:
    expected = oracle(text)
    try:
        reference = parse_image_reference(text)
    except ImageReferenceError as exc:
        assert expected is None, f"refused a valid reference {text!r}: {exc.reason}"
        assert exc.reason
        return
    assert expected is not None, f"accepted {text!r}, outside the grammar"
    assert parts_of(reference) == expected
    assert_safe(reference, text)


@given(near_misses(), st.sampled_from(SHELL_METACHARACTERS))
def test_no_shell_metacharacter_or_whitespace_is_ever_accepted(text: str, bad: str) -> None:
    for candidate in (text + bad, bad + text, text[: len(text) // 2] + bad + text[len(text) // 2 :]):
        with pytest.raises(ImageReferenceError):
            parse_image_reference(candidate)


@given(valid_references.filter(lambda t: any(c.islower() for c in t.split("@")[0].split(":")[0])))
def test_uppercase_in_a_path_component_is_refused(text: str) -> None:
    reference = parse_image_reference(text)
    head, _, last = reference.path.rpartition("/")
    upper_path = f"{head}/{last.upper()}" if head else last.upper()
    if upper_path == reference.path:
        return  # the last component has no letters
    mutated = render(Parts(reference.registry, upper_path, reference.tag, reference.digest))
    with pytest.raises(ImageReferenceError):
        parse_image_reference(mutated)


# --- explicit cases --------------------------------------------------------------------------

ACCEPTED = [
    ("ubuntu", Parts(None, "ubuntu", None, None)),
    ("ubuntu:22.04", Parts(None, "ubuntu", "22.04", None)),
    ("library/ubuntu:22.04", Parts(None, "library/ubuntu", "22.04", None)),
    ("docker.io/library/ubuntu:22.04", Parts("docker.io", "library/ubuntu", "22.04", None)),
    ("localhost:5000/a", Parts("localhost:5000", "a", None, None)),
    ("localhost/a", Parts("localhost", "a", None, None)),
    ("localhost", Parts(None, "localhost", None, None)),
    ("localhost:5000", Parts(None, "localhost", "5000", None)),  # a name and a tag, as in Docker
    ("example.com", Parts(None, "example.com", None, None)),
    ("127.0.0.1:5000/team/app:v1", Parts("127.0.0.1:5000", "team/app", "v1", None)),
    ("Example.COM/a", Parts("Example.COM", "a", None, None)),  # registry hosts may be uppercase
    ("ghcr.io/o/a/b/c:x", Parts("ghcr.io", "o/a/b/c", "x", None)),
    ("a__b/c.d/e---f", Parts(None, "a__b/c.d/e---f", None, None)),
    (f"ubuntu@{DIGEST}", Parts(None, "ubuntu", None, DIGEST)),
    (f"ubuntu:22.04@{DIGEST}", Parts(None, "ubuntu", "22.04", DIGEST)),
    ("a:_", Parts(None, "a", "_", None)),
    ("a:" + "T" * 128, Parts(None, "a", "T" * 128, None)),
    ("a/" * 126 + "abc", Parts(None, "a/" * 126 + "abc", None, None)),  # exactly 255 characters
]


@pytest.mark.parametrize(("text", "parts"), ACCEPTED, ids=[t[:40] for t, _ in ACCEPTED])
def test_accepted(text: str, parts: Parts) -> None:
    reference = parse_image_reference(text)
    assert parts_of(reference) == parts
    assert str(reference) == text
    assert oracle(text) == parts


REFUSED = {
    "": "empty reference",
    "a:b/c": "registry",  # "a:b" is a registry (it has ":") with a non-numeric port
    "UPPER/x": "path component",  # no "." or ":": a path component, and those are lowercase
    "Ubuntu": "path component",
    "ubuntu:": "empty tag",
    "ubuntu:.x": "tag",
    "ubuntu:-x": "tag",
    "ubuntu:" + "t" * 129: "tag longer than 128",
    f"ubuntu@sha256:{HEX.upper()}": "digest",
    f"ubuntu@sha512:{HEX}{HEX}": "digest",
    f"ubuntu@sha256:{HEX[:-1]}": "digest",
    f"ubuntu@{HEX}": "digest",
    "ubuntu@": "digest",
    f"@{DIGEST}": "empty path component",
    "-ubuntu": "path component",
    ".ubuntu": "path component",
    "_ubuntu": "path component",
    "ubuntu-": "path component",
    "a/-b": "path component",
    "a//b": "empty path component",
    "a/": "empty path component",
    "/a": "empty path component",
    "a..b": "path component",
    "a._b": "path component",
    "a___b": "path component",
    "a.b_c/d": "registry",  # has ".": read as a registry, and "_" is not valid in a host
    "-a.com/b": "registry",
    "a-.com/b": "registry",
    "[::1]:5000/a": "registry",  # IPv6 is refused
    "a" * 256: "longer than 255",
    "ubuntu\n": "whitespace",
    "ubuntu 22": "whitespace",
    "ubuntu:22.04;id": "tag",
    "ubuntu$(id)": "path component",
    "ubuntu`id`": "path component",
    "ubuntu\x00": "non-printable",
    "ubunt\u00fc": "non-printable",
}


@pytest.mark.parametrize("text", list(REFUSED), ids=[repr(t)[:40] for t in REFUSED])
def test_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ImageReferenceError) as caught:
        parse_image_reference(text)
    assert REFUSED[text] in caught.value.reason
    assert caught.value.reference == text
    assert caught.value.reason in str(caught.value)
    assert oracle(text) is None


def test_exact_length_limits() -> None:
    name = "a/" * 126 + "ab"  # 254 characters
    assert len(parse_image_reference(name + "c").path) == 255
    with pytest.raises(ImageReferenceError, match="longer than 255"):
        parse_image_reference(name + "cd")
    assert parse_image_reference("a:" + "t" * 128).tag == "t" * 128


@pytest.mark.parametrize("value", [None, 1, b"ubuntu", ["ubuntu"]])
def test_non_strings_are_refused_with_the_parser_error(value: object) -> None:
    with pytest.raises(ImageReferenceError, match="not a string"):
        parse_image_reference(value)  # type: ignore[arg-type]


# --- canonical form ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "ubuntu:22.04",
        "library/ubuntu:22.04",
        "docker.io/ubuntu:22.04",
        "docker.io/library/ubuntu:22.04",
        "index.docker.io/library/ubuntu:22.04",
        "index.docker.io/ubuntu:22.04",
    ],
)
def test_docker_hub_spellings_share_one_canonical_form(text: str) -> None:
    assert parse_image_reference(text).canonical == "docker.io/library/ubuntu:22.04"


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("ubuntu", "docker.io/library/ubuntu:latest"),
        ("owner/app", "docker.io/owner/app:latest"),
        ("ghcr.io/owner/app", "ghcr.io/owner/app:latest"),
        ("ghcr.io/app", "ghcr.io/app:latest"),  # "library/" is Docker Hub's only
        ("localhost:5000/app:v1", "localhost:5000/app:v1"),
        (f"ubuntu@{DIGEST}", f"docker.io/library/ubuntu@{DIGEST}"),
        (f"ubuntu:22.04@{DIGEST}", f"docker.io/library/ubuntu:22.04@{DIGEST}"),
    ],
)
def test_canonical_form(text: str, canonical: str) -> None:
    assert parse_image_reference(text).canonical == canonical


def test_different_images_have_different_canonical_forms() -> None:
    forms = {
        parse_image_reference(t).canonical
        for t in (
            "ubuntu:22.04",
            "ubuntu-22.04",
            "ubuntu:22.10",
            "owner/ubuntu:22.04",
            "ghcr.io/ubuntu:22.04",
        )
    }
    assert len(forms) == 5
