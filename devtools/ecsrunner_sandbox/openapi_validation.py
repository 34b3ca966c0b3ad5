"""Check GitHub stand-in traffic against GitHub's own OpenAPI description (a subset).

Requests and responses are validated with openapi-core, as if sent to the documented server
(``https://api.github.com``). Two checks go beyond what openapi-core does, because the subset's
schemas allow anything extra: query parameters and top-level JSON body fields that the operation
does not document are reported too (a typo in a client would otherwise pass).

GitHub can answer any operation with 401, 403, 404, 422, 429 or 5xx, while the description lists
only some statuses per operation. A response with such a status that the operation does not
document is checked against the ``basic-error`` schema (plus the ``message`` and
``documentation_url`` every GitHub error carries) instead of being rejected.

One tolerance: GitHub marks some enums ``nullable: true`` without listing ``null`` (the job's
``conclusion``, for one) and really sends ``null`` there; openapi-core, following the OpenAPI 3.0.3
clarification, rejects that. A ``null`` in a nullable enum is therefore accepted; nothing else is.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

HeaderMap = Headers | Mapping[str, str]

SPEC_PATH = (
    Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "github" / "openapi" / "github-subset.json"
)
DOCUMENTED_SERVER = "https://api.github.com"
GENERIC_ERROR_STATUSES = frozenset({400, 401, 403, 404, 422, 429})


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    query_names: frozenset[str]
    body_fields: frozenset[str] | None
    statuses: frozenset[int]

    def path_params(self, path: str) -> dict[str, str] | None:
        match = self.pattern.fullmatch(path)
        return match.groupdict() if match else None


@dataclass
class _Request:
    """An HTTP request in the shape openapi-core reads."""

    host_url: str
    path: str
    method: str
    parameters: RequestParameters
    body: bytes | None
    content_type: str


@dataclass(frozen=True)
class _Response:
    status_code: int
    headers: Headers
    content_type: str
    data: bytes | None


class OpenApiContract:
    def __init__(self, spec_path: Path = SPEC_PATH) -> None:
        self.document: dict[str, Any] = json.loads(spec_path.read_text(encoding="utf-8"))
        self._openapi = OpenAPI.from_dict(self.document)
        self.operations = tuple(self._operations())
        self._error_schema: dict[str, Any] = self.document["components"]["schemas"]["basic-error"]

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        for operation in self.operations:
            if operation.method == method.lower():
                params = operation.path_params(path)
                if params is not None:
                    return operation, params
        return None

    def request_problems(
        self,
        method: str,
        *,
        path: str,
        query: Iterable[tuple[str, str]],
        headers: HeaderMap,
        body: bytes,
    ) -> list[str]:
        found = self.match(method, path)
        if found is None:
            return [f"{method} {path} is not a documented operation"]
        operation, _ = found
        pairs = list(query)
        problems = [
            f"{operation.operation_id}: undocumented query parameter {name!r}"
            for name, _ in pairs
            if name not in operation.query_names
        ]
        problems += self._undocumented_body_fields(operation, body)
        request = _request(method, path, pairs, headers, body)
        for error in self._openapi.iter_request_errors(request):
            problems += [f"{operation.operation_id}: {text}" for text in _explain(error)]
        return problems

    def response_problems(
        self,
        method: str,
        *,
        path: str,
        query: Iterable[tuple[str, str]],
        request_headers: HeaderMap,
        request_body: bytes,
        status: int,
        headers: HeaderMap,
        body: bytes,
    ) -> list[str]:
        found = self.match(method, path)
        if found is None:
            return []  # an undocumented request was already reported
        operation, _ = found
        if status not in operation.statuses and (status in GENERIC_ERROR_STATUSES or status >= 500):
            return [f"{operation.operation_id} {status}: {p}" for p in self._generic_error_problems(body)]
        request = _request(method, path, list(query), request_headers, request_body)
        content_type = headers.get("Content-Type", "") if body else ""
        response = _Response(status, Headers(dict(headers)), content_type.lower(), body or None)
        return [
            f"{operation.operation_id} {status}: {text}"
            for error in self._openapi.iter_response_errors(request, response)
            for text in _explain(error)
        ]

    def _generic_error_problems(self, body: bytes) -> list[str]:
        try:
            data = json.loads(body)
        except ValueError:
            return ["error body is not JSON"]
        if not isinstance(data, dict):
            return ["error body is not an object (basic-error)"]
        problems = [
            f"basic-error field {name!r} must be a string"
            for name, spec in self._error_schema["properties"].items()
            if name in data and spec.get("type") == "string" and not isinstance(data[name], str)
        ]
        return problems + [
            f"error body lacks {key!r}" for key in ("message", "documentation_url") if key not in data
        ]

    def _undocumented_body_fields(self, operation: Operation, body: bytes) -> list[str]:
        if operation.body_fields is None or not body:
            return []
        try:
            data = json.loads(body)
        except ValueError:
            return []  # openapi-core reports unparsable bodies
        if not isinstance(data, dict):
            return []
        return [
            f"{operation.operation_id}: undocumented body field {name!r}"
            for name in data
            if name not in operation.body_fields
        ]

    def _operations(self) -> Iterable[Operation]:
        for template, item in self.document["paths"].items():
            for method, spec in item.items():
                if method not in {"get", "post", "put", "patch", "delete"}:
                    continue
                params = [self._resolve(p) for p in spec.get("parameters", [])]
                schema = (
                    self._resolve(spec["requestBody"])["content"]["application/json"]["schema"]
                    if "requestBody" in spec
                    else None
                )
                yield Operation(
                    operation_id=spec["operationId"],
                    method=method,
                    template=template,
                    pattern=re.compile(re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template))),
                    query_names=frozenset(p["name"] for p in params if p["in"] == "query"),
                    body_fields=None
                    if schema is None
                    else frozenset(self._resolve(schema).get("properties", {})),
                    statuses=frozenset(int(code) for code in spec["responses"] if code.isdigit()),
                )

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node


@functools.cache
def github_contract() -> OpenApiContract:
    """The contract, loaded once per process (loading checks the whole description)."""
    return OpenApiContract()


def _request(
    method: str, path: str, query: list[tuple[str, str]], headers: HeaderMap, body: bytes
) -> _Request:
    content_type = headers.get("Content-Type", "") if body else ""
    parameters = RequestParameters(query=ImmutableMultiDict(query), header=Headers(dict(headers)))
    return _Request(DOCUMENTED_SERVER, path, method.lower(), parameters, body or None, content_type.lower())


def _explain(error: Exception) -> list[str]:
    """What is wrong, one line per schema error; nothing if only nullable enums got ``null``."""
    detail = error.__cause__ or error.__context__
    schema_errors = getattr(detail, "schema_errors", None)
    if not schema_errors:
        return [f"{error}" + (f": {detail}" if detail else "")]
    real = [e for e in schema_errors if not _null_in_nullable_enum(e)]
    if not real:
        return []
    return [f"{type(error).__name__}: " + "; ".join(getattr(e, "message", str(e)) for e in real)]


def _null_in_nullable_enum(schema_error: Any) -> bool:
    schema = getattr(schema_error, "schema", None)
    return (
        getattr(schema_error, "validator", None) == "enum"
        and getattr(schema_error, "instance", ...) is None
        and isinstance(schema, dict)
        and schema.get("nullable") is True
    )
