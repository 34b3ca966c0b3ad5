"""Webhook fuzzing: generated and hand-written requests for the control plane's HTTP route.

A request is an HTTP API (payload 2.0) event as API Gateway would hand it over, built from the AWS
sample; what varies is everything a client controls: the body (bytes, text, JSON of any shape,
mutated real ``workflow_job`` payloads, truncated, huge, not UTF-8), the ``isBase64Encoded`` flag,
the method and path, and the headers (missing, extra, odd case, ``sha1=`` and forged signatures).
Some requests carry a valid signature over exactly the bytes the function will see: garbage that
GitHub would never send but that an attacker holding the secret could.

:func:`check` is the property: no exception escapes, no 5xx, and a request without a valid signature
changes nothing: no DynamoDB, ECS or S3 mutation (botocore calls of the code under test) and no
GitHub call (the stand-in's request log).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ecsrunner_core.domain.names import new_runner_name
from ecsrunner_core.usecases.dispatch import handle_control_plane_event
from ecsrunner_core.webhook import MAX_BODY_BYTES, sign
from hypothesis import strategies as st

from tests.lifecycle.support import World, api_gateway_event, fixture_object, job_payload

SIGNATURE_HEADER = "x-hub-signature-256"
EVENTS = ("workflow_job", "ping", "push", "check_run", "", "WORKFLOW_JOB", "workflow_job ")
ACTIONS = ("queued", "in_progress", "completed", "waiting", "requested", "", "QUEUED")
CLIENT_REFUSALS = frozenset({400, 401, 404, 413})
# One draw in ten (hypothesis favours the ends of an integer range, so not integers(0, 9)).
RARELY = st.sampled_from([False] * 9 + [True])
EXAMPLE_FILES = (
    "workflow_job.queued.json",
    "workflow_job.in_progress.json",
    "workflow_job.completed.success.with-organization.json",
    "workflow_job.waiting.json",
    "ping.json",
)


@dataclass(frozen=True)
class FuzzRequest:
    event: dict[str, Any]
    origin: str  # "generated" or the corpus entry's name


@dataclass
class FuzzStats:
    requests: int = 0
    signed: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    origins: Counter[str] = field(default_factory=Counter)
    side_effects_without_signature: int = 0
    server_errors: int = 0
    exceptions: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "with_valid_signature": self.signed,
            "without_valid_signature": self.requests - self.signed,
            "statuses": dict(sorted(self.statuses.items())),
            "corpus_entries": sum(1 for origin in self.origins if origin != "generated"),
            "side_effects_without_signature": self.side_effects_without_signature,
            "server_errors": self.server_errors,
            "unhandled_exceptions": self.exceptions,
        }


# --- the oracle -------------------------------------------------------------------------------


def raw_body(event: Mapping[str, Any]) -> bytes | None:
    """The bytes GitHub signed, as API Gateway's payload 2.0 carries them; None if there are none."""
    body = event.get("body")
    if body is None:
        body = ""
    if not isinstance(body, str):
        return None
    try:
        return base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body.encode()
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None


def carries_valid_signature(event: Mapping[str, Any], secret: bytes) -> bool:
    """GitHub's rule: ``sha256=`` + the hex HMAC-SHA256 of the raw body under the webhook secret."""
    headers = event.get("headers")
    body = raw_body(event)
    if not secret or not isinstance(headers, Mapping) or body is None:
        return False
    values = [value for name, value in headers.items() if str(name).lower() == SIGNATURE_HEADER]
    if not values:
        return False
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(str(values[-1]).strip().encode("utf-8", "replace"), expected.encode())


# --- the property -----------------------------------------------------------------------------


def check(world: World, request: FuzzRequest, stats: FuzzStats) -> dict[str, Any]:
    """Send one request and assert the property; returns the response."""
    secret = world.deployment.webhook_secret.encode()
    signed = carries_valid_signature(request.event, secret)
    mark, github_calls = world.recorder.mark(), len(world.github.calls)
    stats.requests += 1
    stats.signed += signed
    stats.origins[request.origin] += 1
    try:
        response = handle_control_plane_event(world.deps(), request.event)
    except Exception:
        stats.exceptions += 1
        raise
    status = response.get("statusCode")
    assert isinstance(status, int), response
    assert isinstance(json.loads(response["body"]), dict), response
    stats.statuses[status] += 1
    if status >= 500:
        stats.server_errors += 1
    assert status < 500, (request.origin, status, response["body"])
    if not signed:
        mutations = world.recorder.mutations(mark)
        new_github_calls = world.github.calls[github_calls:]
        if mutations or new_github_calls:
            stats.side_effects_without_signature += 1
        assert mutations == [], (request.origin, mutations)
        assert new_github_calls == [], (request.origin, new_github_calls)
        assert status in CLIENT_REFUSALS, (request.origin, status, response["body"])
    return response


# --- generated requests -----------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=30),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
labels = st.lists(
    st.one_of(
        st.sampled_from(
            ["self-hosted", "SELF-HOSTED", "linux", "x64", "arm64", "class:large", "class:", "image:"]
        ),
        st.text(max_size=20),
        st.text(max_size=10).map(lambda text: "image:" + text),
        st.text(max_size=10).map(lambda text: "class:" + text),
        json_scalars,
    ),
    max_size=6,
)
PATHS: tuple[tuple[str, ...], ...] = (
    ("action",),
    ("workflow_job",),
    ("workflow_job", "id"),
    ("workflow_job", "labels"),
    ("workflow_job", "runner_name"),
    ("workflow_job", "run_id"),
    ("workflow_job", "name"),
    ("workflow_job", "conclusion"),
    ("repository",),
    ("repository", "full_name"),
    ("repository", "owner"),
    ("repository", "owner", "login"),
    ("organization",),
)


@st.composite
def workflow_job_payloads(draw: st.DrawFn) -> Any:
    """A real example with some fields replaced by anything JSON can hold."""
    payload = fixture_object(f"github/webhooks/{draw(st.sampled_from(EXAMPLE_FILES))}")
    if "workflow_job" in payload and draw(st.booleans()):
        payload["workflow_job"]["labels"] = draw(labels)
    if draw(st.booleans()):
        payload["action"] = draw(st.sampled_from(ACTIONS))
    for path in draw(st.lists(st.sampled_from(PATHS), max_size=3)):
        target = payload
        for key in path[:-1]:
            target = target.get(key) if isinstance(target, dict) else None
        if isinstance(target, dict):
            if draw(st.booleans()):
                target[path[-1]] = draw(json_values)
            else:
                target.pop(path[-1], None)
    return payload


bodies = st.one_of(
    workflow_job_payloads().map(lambda payload: json.dumps(payload).encode()),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass")),
)


@st.composite
def requests(draw: st.DrawFn, secret: bytes) -> FuzzRequest:
    body = draw(bodies)
    headers: dict[Any, Any] = {}
    kind = draw(st.sampled_from(["valid", "none", "forged", "sha1", "other-body", "garbage", "case"]))
    if kind == "valid":
        headers["X-Hub-Signature-256"] = sign(secret, body)
    elif kind == "forged":
        headers["X-Hub-Signature-256"] = "sha256=" + draw(st.binary(min_size=32, max_size=32)).hex()
    elif kind == "sha1":
        headers["X-Hub-Signature"] = "sha1=" + hmac.new(secret, body, hashlib.sha1).hexdigest()
        headers["X-Hub-Signature-256"] = "sha1=" + hmac.new(secret, body, hashlib.sha1).hexdigest()
    elif kind == "other-body":
        headers["X-Hub-Signature-256"] = sign(secret, body + b" ")
    elif kind == "garbage":
        headers["X-Hub-Signature-256"] = draw(st.text(max_size=80))
    elif kind == "case":
        headers["X-Hub-Signature-256"] = sign(secret, body).upper()
    if not draw(RARELY):
        headers["X-GitHub-Event"] = draw(st.one_of(st.sampled_from(EVENTS), st.text(max_size=20)))
    headers.update(draw(st.dictionaries(st.text(max_size=20), st.text(max_size=40), max_size=3)))
    encode = draw(st.booleans()) or not _is_text(body)  # API Gateway base64-encodes what is not text
    event = api_gateway_event(b"", {}, base64_body=False)
    event["headers"] = {str(name).lower(): value for name, value in headers.items()}
    event["body"] = base64.b64encode(body).decode() if encode else body.decode("utf-8", "surrogatepass")
    event["isBase64Encoded"] = draw(json_scalars) if draw(RARELY) else encode
    if draw(RARELY):
        method = draw(st.sampled_from(["GET", "PUT", "DELETE", "post", ""]))
        event["requestContext"]["http"]["method"] = method
    if draw(RARELY):
        event["rawPath"] = draw(st.sampled_from(["/", "/webhook/", "/hook", "/webhook/../admin", ""]))
    return FuzzRequest(event, "generated")


def _is_text(body: bytes) -> bool:
    try:
        body.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return False
    return True


# --- the hand-written corpus ------------------------------------------------------------------


def _request(
    body: bytes,
    headers: dict[str, Any],
    origin: str,
    *,
    encode: bool = False,
    changes: dict[str, Any] | None = None,
) -> FuzzRequest:
    event = api_gateway_event(b"", {}, base64_body=False)
    event["headers"] = {name.lower(): value for name, value in headers.items()}
    event["body"] = base64.b64encode(body).decode() if encode else body.decode("utf-8", "surrogatepass")
    event["isBase64Encoded"] = encode
    event.update(changes or {})
    return FuzzRequest(event, origin)


def corpus(secret: bytes, job_id: int) -> list[FuzzRequest]:
    """The cases the issue names, each signed and unsigned where that makes a difference."""
    queued = json.dumps(job_payload("queued", job_id=job_id)).encode()
    entries: list[FuzzRequest] = []

    def both(body: bytes, origin: str, *, encode: bool = False) -> None:
        headers = {"X-GitHub-Event": "workflow_job", "Content-Type": "application/json"}
        entries.append(_request(body, headers, f"{origin} (unsigned)", encode=encode))
        signed = {**headers, "X-Hub-Signature-256": sign(secret, body)}
        entries.append(_request(body, signed, f"{origin} (signed)", encode=encode))

    for cut in (0, 1, 2, 10, len(queued) // 2, len(queued) - 1):
        both(queued[:cut], f"real queued payload truncated to {cut} bytes")
    both(b"x" * (2 * 1024 * 1024), "2 MiB body")
    both(b" " * MAX_BODY_BYTES, "body of exactly the limit")
    both(b" " * (MAX_BODY_BYTES + 1), "body one byte over the limit")
    both(b"[" * 200_000 + b"]" * 200_000, "JSON nested 200,000 deep")
    both(b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "objects nested 50,000 deep")
    both(b"\xff\xfe\xfd not UTF-8", "invalid UTF-8 (base64)", encode=True)
    both(json.dumps({"x": "\ud800"}).encode(), "a lone surrogate escaped in JSON")
    both(b"\x00" * 64, "NUL bytes")
    both(b"null", "JSON null")
    both(b"[]", "JSON array")
    both(b'"workflow_job"', "JSON string")
    both(b"1e999", "JSON infinity")
    both(b'{"action": "queued", "action": "completed"}', "duplicate keys")
    entries.append(_request(queued, {"X-GitHub-Event": "workflow_job"}, "missing signature"))
    entries.append(
        _request(queued, {"X-Hub-Signature-256": sign(secret, queued)}, "missing X-GitHub-Event (signed)")
    )
    sha1 = "sha1=" + hmac.new(secret, queued, hashlib.sha1).hexdigest()
    entries.append(_request(queued, {"X-GitHub-Event": "workflow_job", "X-Hub-Signature": sha1}, "sha1 only"))
    entries.append(
        _request(
            queued, {"X-GitHub-Event": "workflow_job", "X-Hub-Signature-256": sha1}, "sha1= in sha256 header"
        )
    )
    entries.append(
        _request(
            queued,
            {"X-GitHub-Event": "workflow_job", "X-Hub-Signature-256": sign(b"", queued)},
            "signed with an empty key",
        )
    )
    entries.append(
        _request(
            queued,
            {"X-GitHub-Event": "workflow_job", "X-Hub-Signature-256": sign(secret, queued).upper()},
            "signature in upper case",
        )
    )
    entries.append(
        _request(
            base64.b64encode(queued),
            {"X-GitHub-Event": "workflow_job", "X-Hub-Signature-256": sign(secret, queued)},
            "base64 body without the flag",
        )
    )
    entries.append(
        _request(
            queued,
            {"X-GitHub-Event": "workflow_job", "X-Hub-Signature-256": sign(secret, queued)},
            "plain body flagged base64",
            changes={"isBase64Encoded": True},
        )
    )
    for name, mutate in WRONG_TYPES.items():
        payload = job_payload("queued", job_id=job_id + 1)
        mutate(payload)
        both(json.dumps(payload).encode(), name)
    for name, values in ODD_LABELS.items():
        both(json.dumps(job_payload("queued", job_id=job_id + 2, labels=values)).encode(), name)
    surrogate = job_payload("queued", job_id=job_id + 4)
    surrogate["workflow_job"]["name"] = "build \ud800"
    both(json.dumps(surrogate).encode(), "a lone surrogate in the job name")
    huge_id = job_payload("completed", job_id=10**100, runner_name=new_runner_name("ecsr"))
    both(json.dumps(huge_id).encode(), "completed with a 100-digit job id")
    long_name = job_payload("queued", job_id=job_id + 3)
    long_name["workflow_job"]["name"] = "n" * (MAX_BODY_BYTES - 10_000)
    both(json.dumps(long_name).encode(), "a job name of almost 1 MiB")
    entries.append(_request(queued, {}, "no headers at all"))
    entries.append(
        _request(queued, {"X-GitHub-Event": "workflow_job"}, "headers not a map", changes={"headers": ["x"]})
    )
    entries.append(
        _request(queued, {"X-GitHub-Event": "workflow_job"}, "body not a string", changes={"body": 12})
    )
    entries.append(_request(queued, {"X-GitHub-Event": "workflow_job"}, "no body", changes={"body": None}))
    many = {f"X-Extra-{n}": "v" * 100 for n in range(2_000)}
    entries.append(_request(queued, {**many, "X-GitHub-Event": "workflow_job"}, "2,000 headers"))
    return entries


WRONG_TYPES = {
    "job id as a string": lambda p: p["workflow_job"].update(id=str(p["workflow_job"]["id"])),
    "job id as a boolean": lambda p: p["workflow_job"].update(id=True),
    "job id as a float": lambda p: p["workflow_job"].update(id=1.5),
    "job id as a 100-digit number": lambda p: p["workflow_job"].update(id=10**100),
    "labels as a string": lambda p: p["workflow_job"].update(labels="self-hosted"),
    "labels of numbers": lambda p: p["workflow_job"].update(labels=[1, 2]),
    "action as a number": lambda p: p.update(action=1),
    "repository name as a number": lambda p: p["repository"].update(full_name=5),
    "owner as a string": lambda p: p["repository"].update(owner="octo-org"),
    "workflow_job as a list": lambda p: p.update(workflow_job=[]),
    "runner name as a list": lambda p: p["workflow_job"].update(runner_name=["x"]),
}
ODD_LABELS = {
    "unicode labels": ["self-hosted", "ünïcødé", "😀"],
    "full-width class label": ["self-hosted", "linux", "class:\uff4c\uff41\uff52\uff47\uff45"],
    "NUL in a label": ["self-hosted", "linux\u0000"],
    "right-to-left override in a label": ["self-hosted", "class:\u202elarge"],
    "image label with a newline": ["self-hosted", "image:ubuntu:22.04\nRUN curl evil"],
    "image label with shell metacharacters": ["self-hosted", "image:ubuntu;rm -rf /"],
    "50,000 self-hosted labels": ["self-hosted"] * 50_000,
    "a 100 kB image label": ["self-hosted", "image:" + "a" * 100_000],
    "a lone surrogate label": ["self-hosted", "linux", "\ud800"],
}
