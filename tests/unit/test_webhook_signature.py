"""Webhook signatures: GitHub's documented test vector, and what must be refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ecsrunner_core.webhook import sign, verify_signature
from hypothesis import given, settings
from hypothesis import strategies as st

VECTOR = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "github" / "signature-test-vector.json").read_text()
)
SECRET = VECTOR["secret"].encode()
BODY = VECTOR["payload"].encode()
HEADER = VECTOR["x_hub_signature_256"]


def test_githubs_test_vector() -> None:
    assert sign(SECRET, BODY) == HEADER
    assert verify_signature(SECRET, BODY, HEADER)


def test_surrounding_whitespace_in_the_header_is_tolerated() -> None:
    assert verify_signature(SECRET, BODY, HEADER + "\r\n")


@pytest.mark.parametrize(
    ("secret", "body", "header"),
    [
        (SECRET, BODY, None),
        (SECRET, BODY, ""),
        (SECRET, BODY, HEADER.removeprefix("sha256=")),  # the prefix is required
        (SECRET, BODY, "sha1=" + HEADER.removeprefix("sha256=")),
        (SECRET, BODY, "SHA256=" + HEADER.removeprefix("sha256=")),
        (SECRET, BODY, "sha256="),
        (SECRET, BODY, HEADER[:-1]),
        (SECRET, BODY + b" ", HEADER),  # the raw body, byte for byte
        (SECRET, b"Hello, World!\n", HEADER),
        (b"It's a secret to everybody", BODY, HEADER),
        (b"", BODY, sign(b"", BODY)),  # no secret configured: nothing verifies
        (SECRET, BODY, "sha256=\u00e9" + HEADER[8:]),  # non-ASCII: refused, not an exception
    ],
)
def test_refused(secret: bytes, body: bytes, header: str | None) -> None:
    assert verify_signature(secret, body, header) is False


@settings(derandomize=True, max_examples=200)
@given(secret=st.binary(min_size=1, max_size=64), body=st.binary(max_size=512), flip=st.integers(min_value=0))
def test_any_changed_byte_breaks_the_signature(secret: bytes, body: bytes, flip: int) -> None:
    header = sign(secret, body)
    assert verify_signature(secret, body, header)
    if body:
        index = flip % len(body)
        tampered = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]
        assert not verify_signature(secret, tampered, header)
    assert not verify_signature(secret + b"x", body, header)
