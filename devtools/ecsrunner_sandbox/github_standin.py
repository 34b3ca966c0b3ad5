"""A loopback stand-in for the GitHub REST API: the runner endpoints ecsrunner uses.

Every request and every response is checked against GitHub's OpenAPI description
(:mod:`.openapi_validation`). A request that breaks it gets a 4xx and is recorded in
``violations``; a response that breaks it is a bug in the stand-in and is recorded too, so tests
that assert ``violations == []`` fail either way.

Auth: a configured PAT, or a GitHub App: an RS256 JWT (checked with the App's public key against
GitHub's rules) for the installation endpoints, token minting and the App hook's deliveries, and
the minted installation tokens (until they expire) for the rest. ``GET /installation/repositories``
takes an installation token only (403 for the PAT). Anything else gets 401.

``hooks`` (:class:`.github_hooks.Hooks`) are the webhooks that send events to targets and record
their deliveries; ``state`` holds runners, runs and jobs (:class:`.github_runner_sim.RunnerSimulator`
moves them).

Usage::

    with serving(pat="ghp_x", path_prefix="/api/v3") as github:  # fails if any violation was seen
        client = GitHubClient(github.api_url, PatAuth("ghp_x"), scope_repo="o/r")
"""

from __future__ import annotations

import hmac
import itertools
import json
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from werkzeug.datastructures import Headers

from .github_api_ops import APP_JWT_OPERATIONS, INSTALLATION_TOKEN_OPERATIONS, OPERATIONS
from .github_faults import JIT_OPERATIONS, Fault, FaultPlan, JitCeiling, primary_limit
from .github_hooks import Hooks
from .github_replies import Reply, error, not_found
from .github_requests import ApiRequest
from .github_state import GitHubState, org_scope, repo_scope
from .openapi_validation import OpenApiContract, github_contract

DEFAULT_PAT = "ghp_standinPersonalAccessToken0000000000"
API_VERSIONS = frozenset({"2022-11-28", "2026-03-10"})
JWT_MAX_LIFETIME_SECONDS = 600
PRIMARY_WINDOW_SECONDS = 3600
PAT_ON_INSTALLATION_ENDPOINT = (
    "You must authenticate with an installation access token in order to list repositories for an "
    "installation."
)


class OpenApiViolations(AssertionError):
    """The stand-in saw traffic that GitHub's OpenAPI description does not allow."""


@dataclass(frozen=True)
class StandInApp:
    """A GitHub App known to the stand-in. ``installed_scopes`` (``repos/o/r``, ``orgs/o``, lower
    case) limits where it is installed; ``None`` means everywhere."""

    app_id: int
    public_key: Any
    installation_id: int = 4242
    installed_scopes: frozenset[str] | None = None

    def installed_on(self, scope: str) -> bool:
        return self.installed_scopes is None or scope in self.installed_scopes


class GitHubStandIn:
    def __init__(
        self,
        *,
        pat: str | None = DEFAULT_PAT,
        app: StandInApp | None = None,
        path_prefix: str = "",
        clock: Callable[[], float] = time.time,
        seed: int = 0,
        jit_ceiling_per_minute: int | None = None,
        primary_limit_per_hour: int = 5000,
        contract: OpenApiContract | None = None,
    ) -> None:
        self.pat = pat
        self.app = app
        self.path_prefix = "/" + path_prefix.strip("/") if path_prefix.strip("/") else ""
        self.clock = clock
        self.contract = contract or github_contract()
        self.state = GitHubState(clock)
        self.hooks = Hooks(clock, installation_for=self.installation_for, seed=seed)
        self.faults = FaultPlan(seed)
        self.jit_ceiling = JitCeiling(jit_ceiling_per_minute, clock) if jit_ceiling_per_minute else None
        self.primary_limit_per_hour = primary_limit_per_hour
        self.violations: list[str] = []
        self.calls: list[tuple[str, str, int]] = []
        self.issued_jit_secrets: list[str] = []
        self.app_jwt_claims: list[dict[str, Any]] = []
        self.minted_tokens: list[str] = []
        self._token_expiry: dict[str, float] = {}
        self._lock = threading.Lock()
        self._request_ids = itertools.count(1)
        self._used = 0
        self._window_reset = 0.0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> GitHubStandIn:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        handler = type("GitHubStandInHandler", (_Handler,), {"standin": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="github-standin",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def origin(self) -> str:
        if self._server is None:
            raise RuntimeError("the GitHub stand-in is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """What to configure as ``GITHUB_API_URL`` (includes the path prefix, e.g. ``/api/v3``)."""
        return self.origin + self.path_prefix

    def calls_to(self, method: str, path_suffix: str) -> list[tuple[str, str, int]]:
        return [call for call in self.calls if call[0] == method and call[1].endswith(path_suffix)]

    def note_violation(self, text: str) -> None:
        with self._lock:
            self.violations.append(text)

    def assert_no_violations(self) -> None:
        """Raise :class:`OpenApiViolations` naming every violation seen (the teardown of every test
        helper that starts a stand-in; a test that provokes one on purpose clears ``violations``)."""
        with self._lock:
            seen = list(self.violations)
        if seen:
            listed = "\n".join(f"- {text}" for text in seen)
            raise OpenApiViolations(f"the GitHub stand-in saw {len(seen)} OpenAPI violation(s):\n{listed}")

    def installation_for(self, repository: str) -> int | None:
        """The App's installation id on ``repository``, or ``None`` when it is not installed there."""
        app = self.app
        owner = repository.split("/", 1)[0]
        if app is None or not (
            app.installed_on(repo_scope(repository)) or app.installed_on(org_scope(owner))
        ):
            return None
        return app.installation_id

    # --- state used by the operations ---------------------------------------------------------

    def mint_installation_token(self, expires_at: float) -> str:
        token = "ghs_" + secrets.token_urlsafe(27)
        with self._lock:
            self._token_expiry[token] = expires_at
            self.minted_tokens.append(token)
        return token

    def revoke_installation_tokens(self) -> None:
        """What an App key rotation or uninstall does: minted tokens stop working (401)."""
        with self._lock:
            self._token_expiry.clear()

    def core_rate_limit(self) -> dict[str, int]:
        with self._lock:
            self._roll_window()
            limit = self.primary_limit_per_hour
            return {
                "limit": limit,
                "used": self._used,
                "remaining": max(limit - self._used, 0),
                "reset": math.ceil(self._window_reset),
            }

    # --- the request pipeline -----------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: Headers | Mapping[str, str], body: bytes
    ) -> tuple[int, Headers, bytes]:
        """Answer one request; returns status, headers and body bytes."""
        request_headers = Headers(list(headers.items()))
        parts = urlsplit(target)
        query = parse_qsl(parts.query, keep_blank_values=True)
        api_path = (
            parts.path[len(self.path_prefix) :] if parts.path.startswith(self.path_prefix + "/") else None
        )
        if api_path is None:
            self.note_violation(f"{method} {parts.path} is outside the API path prefix {self.path_prefix!r}")
            reply, api_path = not_found(), parts.path
        else:
            try:
                reply = self._serve(method, api_path, query, request_headers, body)
            except Exception as crash:  # a stand-in bug must fail the test, not hang it
                self.note_violation(
                    f"stand-in crashed on {method} {api_path}: {type(crash).__name__}: {crash}"
                )
                reply = error(500, "Server Error")
        response_headers, data = self._finish(reply)
        problems = self.contract.response_problems(
            method,
            path=api_path,
            query=query,
            request_headers=request_headers,
            request_body=body,
            status=reply.status,
            headers=response_headers,
            body=data,
        )
        for problem in problems:
            self.note_violation(f"stand-in response violates GitHub's description: {problem}")
        with self._lock:
            self.calls.append((method, api_path, reply.status))
        return reply.status, response_headers, data

    def _serve(
        self, method: str, api_path: str, query: list[tuple[str, str]], headers: Headers, body: bytes
    ) -> Reply:
        problems = self.contract.request_problems(
            method, path=api_path, query=query, headers=headers, body=body
        )
        found = self.contract.match(method, api_path)
        if problems:
            for problem in problems:
                self.note_violation(f"request violates GitHub's description: {problem}")
            return _rejection(found is not None, body)
        assert found is not None
        operation, path_params = found
        version = headers.get("X-GitHub-Api-Version")
        if version is None:
            self.note_violation(f"{operation.operation_id}: request without X-GitHub-Api-Version")
        elif version not in API_VERSIONS:
            self.note_violation(f"{operation.operation_id}: unsupported X-GitHub-Api-Version {version!r}")
            return error(400, f"Unsupported 'X-GitHub-Api-Version' header: {version}")
        implementation = OPERATIONS.get(operation.operation_id)
        if implementation is None:
            self.note_violation(f"{operation.operation_id} is documented but not implemented by the stand-in")
            return not_found()
        denied = self._authenticate(operation.operation_id, headers.get("Authorization", ""))
        if denied is not None:
            return denied
        fault = self._fault(operation.operation_id)
        if fault is not None and not fault.after_handling:
            return fault.reply(self.clock())
        request = ApiRequest(
            operation.operation_id,
            path_params,
            dict(query),
            json.loads(body) if body else None,
            f"{self.origin}{self.path_prefix}{api_path}",
        )
        reply = implementation(self, request)
        return reply if fault is None else fault.reply(self.clock())

    def _fault(self, operation_id: str) -> Fault | None:
        fault = self.faults.next_fault(operation_id)
        if fault is None and self.jit_ceiling is not None and operation_id in JIT_OPERATIONS:
            fault = self.jit_ceiling.admit()
        if fault is None and operation_id != "rate-limit/get":
            with self._lock:
                self._roll_window()
                if self._used >= self.primary_limit_per_hour:
                    fault = primary_limit(reset_in=max(1, math.ceil(self._window_reset - self.clock())))
                else:
                    self._used += 1
        return fault

    def _roll_window(self) -> None:
        now = self.clock()
        if now >= self._window_reset:
            self._used = 0
            self._window_reset = now + PRIMARY_WINDOW_SECONDS

    def _finish(self, reply: Reply) -> tuple[Headers, bytes]:
        limits = self.core_rate_limit()
        headers = Headers(
            {
                "X-GitHub-Request-Id": f"STANDIN:{next(self._request_ids):08X}",
                "X-GitHub-Api-Version-Selected": "2022-11-28",
                "X-RateLimit-Limit": str(limits["limit"]),
                "X-RateLimit-Remaining": str(limits["remaining"]),
                "X-RateLimit-Reset": str(limits["reset"]),
                "X-RateLimit-Used": str(limits["used"]),
                "X-RateLimit-Resource": "core",
            }
        )
        for name, value in reply.headers.items():
            headers.set(name, value)
        if reply.body is None:
            return headers, b""
        headers.set("Content-Type", "application/json; charset=utf-8")
        return headers, json.dumps(reply.body).encode()

    # --- auth ---------------------------------------------------------------------------------

    def _authenticate(self, operation_id: str, authorization: str) -> Reply | None:
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() not in ("bearer", "token") or not credential.strip():
            return error(401, "Requires authentication")
        credential = credential.strip()
        if operation_id in APP_JWT_OPERATIONS:
            problem = self._app_jwt_problem(credential)
            return None if problem is None else error(401, problem)
        if self.pat is not None and hmac.compare_digest(credential.encode(), self.pat.encode()):
            return (
                error(403, PAT_ON_INSTALLATION_ENDPOINT)
                if operation_id in INSTALLATION_TOKEN_OPERATIONS
                else None
            )
        with self._lock:
            expiry = self._token_expiry.get(credential)
        if expiry is not None and self.clock() < expiry:
            return None
        return error(401, "Bad credentials")

    def _app_jwt_problem(self, token: str) -> str | None:
        """GitHub's JWT rules: RS256, signed by the App's key, ``iss`` the App ID, issued in the
        past, expiring in the future but at most 10 minutes ahead."""
        if self.app is None:
            return "A JSON web token could not be decoded"
        import jwt  # only App tests pay for PyJWT

        try:
            claims = jwt.decode(
                token,
                self.app.public_key,
                algorithms=["RS256"],
                issuer=str(self.app.app_id),
                options={"verify_exp": False, "verify_iat": False, "require": ["iat", "exp", "iss"]},
            )
        except jwt.PyJWTError as problem:
            return f"A JSON web token could not be decoded ({type(problem).__name__})"
        now = self.clock()
        if claims["iat"] > now:
            return "'Issued at' claim ('iat') must be an Integer representing a time in the past"
        if claims["exp"] <= now:
            return "'Expiration time' claim ('exp') must be a numeric value representing the future time"
        if claims["exp"] - now > JWT_MAX_LIFETIME_SECONDS:
            return "'Expiration time' claim ('exp') is too far in the future"
        with self._lock:
            self.app_jwt_claims.append(claims)
        return None


@contextmanager
def serving(**options: Any) -> Iterator[GitHubStandIn]:
    """A running :class:`GitHubStandIn` (``options`` as its constructor's) that must have seen no
    OpenAPI violation when the block ends; an exception from the block is not masked."""
    standin = GitHubStandIn(**options)
    with standin:
        yield standin
    standin.assert_no_violations()


def _rejection(documented: bool, body: bytes) -> Reply:
    if not documented:
        return not_found()
    if body:
        try:
            json.loads(body)
        except ValueError:
            return error(400, "Problems parsing JSON")
    return error(422, "Invalid request.")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: avoid 40 ms stalls
    standin: GitHubStandIn

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers_in = Headers(list(self.headers.items()))
        status, headers, data = self.standin.handle(self.command, self.path, headers_in, body)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        return None
