"""GitHub REST client for the runner endpoints of one repository or organisation.

Retries (see :mod:`.retry`) cover 5xx, timeouts, connection errors and rate limits, all inside one
time budget per call. GET and DELETE are idempotent. POST generate-jitconfig is retried too: if a
lost response had in fact registered the runner, the retry gets 409 and raises
:class:`GitHubRunnerExists`, which callers already handle (the name is unique per launch attempt).
Minting an installation token is retried as well: a second token is harmless.

Errors are the typed :mod:`ecsrunner_core.ports` errors. Messages carry the method, the path, the
status and GitHub's ``message``; never a token, a JIT config or a request body.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from ... import __version__
from ...ports import (
    GitHubAuthError,
    GitHubError,
    GitHubInvalid,
    GitHubNotFound,
    GitHubRateLimited,
    GitHubRunner,
    GitHubRunnerExists,
    GitHubUnavailable,
    JitConfig,
)
from .auth import AppRequest, CredentialsError, GitHubAuth
from .retry import Failure, FailureKind, RetryPolicy, classify

API_VERSION = "2022-11-28"
PAGE_SIZE = 100
MIN_READ_TIMEOUT_SECONDS = 1.0
MAX_MESSAGE_CHARS = 300
_NETWORK_ERRORS = (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)


class GitHubClient:
    """Implements :class:`ecsrunner_core.ports.GitHubPort` with requests.

    ``api_url`` is ``https://api.github.com`` or a GitHub Enterprise Server ``https://HOST/api/v3``.
    ``clock`` (monotonic) measures the retry budget; ``wall_clock`` (epoch) reads
    ``x-ratelimit-reset``. ``budget_seconds`` overrides the budget of ``retry``.
    """

    def __init__(
        self,
        api_url: str,
        auth: GitHubAuth,
        *,
        scope_repo: str | None = None,
        scope_org: str | None = None,
        timeout: tuple[float, float] = (3.05, 10.0),
        budget_seconds: float | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        session: requests.Session | None = None,
    ) -> None:
        if (scope_repo is None) == (scope_org is None):
            raise ValueError("exactly one of scope_repo and scope_org is required")
        self._api_url = api_url.rstrip("/")
        self._origin = _origin(self._api_url)
        self._scope_path = _repo_path(scope_repo) if scope_repo else f"orgs/{_segment(scope_org or '')}"
        self._scope = f"repo {scope_repo}" if scope_repo else f"org {scope_org}"
        self._auth = auth
        self._timeout = timeout
        policy = retry or RetryPolicy()
        self._policy = policy if budget_seconds is None else replace(policy, budget_seconds=budget_seconds)
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()  # noqa: S311  (jitter, not cryptography)
        self._session = session or requests.Session()
        self._headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": f"ecsrunner/{__version__}",
        }

    def __repr__(self) -> str:
        return f"GitHubClient(api_url={self._api_url!r}, scope={self._scope!r}, auth={self._auth!r})"

    # --- GitHubPort ---------------------------------------------------------------------------

    def generate_jitconfig(
        self, *, name: str, labels: Sequence[str], runner_group_id: int, work_folder: str = "_work"
    ) -> JitConfig:
        body = {
            "name": name,
            "runner_group_id": runner_group_id,
            "labels": list(labels),
            "work_folder": work_folder,
        }
        path = f"{self._scope_path}/actions/runners/generate-jitconfig"
        response = self._send("POST", path, expected=(201,), body=body)
        data = _json(response)
        try:
            runner = data["runner"]
            return JitConfig(
                runner_id=int(runner["id"]),
                runner_name=str(runner["name"]),
                encoded_jit_config=_required_text(data["encoded_jit_config"]),
            )
        except (KeyError, TypeError, ValueError):
            raise GitHubError("generate-jitconfig returned an unexpected body", 201) from None

    def delete_runner(self, runner_id: int) -> None:
        """Remove a runner. A runner that does not exist raises :class:`GitHubNotFound`: only the
        caller knows whether "already gone" is success."""
        self._send("DELETE", f"{self._scope_path}/actions/runners/{int(runner_id)}", expected=(204,))

    def list_runners(self, name: str | None = None) -> Iterator[GitHubRunner]:
        """All runners of the scope (every page, 100 per page), optionally only those named ``name``."""
        query: dict[str, str | int] = {"per_page": PAGE_SIZE}
        if name is not None:
            query["name"] = name
        params: dict[str, str | int] | None = query
        target: str | None = f"{self._scope_path}/actions/runners"
        while target is not None:
            response = self._send("GET", target, expected=(200,), params=params)
            data = _json(response)
            try:
                items = data["runners"]
                runners = [_runner(item) for item in items]
            except (KeyError, TypeError, ValueError):
                raise GitHubError("list runners returned an unexpected body", response.status_code) from None
            yield from runners
            target = self._next_page(response)
            params = None  # the next link carries the query

    def get_job(self, repository: str, job_id: int) -> Mapping[str, Any]:
        path = f"{_repo_path(repository)}/actions/jobs/{int(job_id)}"
        data = _json(self._send("GET", path, expected=(200,)))
        if not isinstance(data, Mapping):
            raise GitHubError("get job returned an unexpected body", 200)
        return data

    def rate_limit(self) -> Mapping[str, Any]:
        data = _json(self._send("GET", "rate_limit", expected=(200,)))
        if not isinstance(data, Mapping):
            raise GitHubError("rate_limit returned an unexpected body", 200)
        return data

    # --- transport ----------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        target: str,
        *,
        expected: Collection[int],
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
        app_jwt: str | None = None,
        started: float | None = None,
    ) -> requests.Response:
        """One logical call: attempts until an expected status, a final error or the budget ends.

        ``app_jwt`` authenticates as the App itself (installation lookup, token minting);
        ``started`` lets those nested calls share the budget of the call that needed them.
        """
        started = self._clock() if started is None else started
        url = target if "://" in target else f"{self._api_url}/{target}"
        attempts = 0
        refreshed_auth = False
        while True:
            attempts += 1
            authorization = f"Bearer {app_jwt}" if app_jwt else self._authorization(started)
            response: requests.Response | None = None
            failure: Failure | None
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=body,
                    headers={**self._headers, "Authorization": authorization},
                    timeout=self._attempt_timeout(self._clock() - started),
                )
            except _NETWORK_ERRORS:
                failure = Failure(FailureKind.NETWORK)
            except requests.RequestException as error:
                raise GitHubError(f"GitHub {method} {target}: {type(error).__name__}") from None
            else:
                status = response.status_code
                if status in expected:
                    return response
                if status == 401 and app_jwt is None and not refreshed_auth and self._auth.invalidate():
                    refreshed_auth = True
                    continue
                headers = {key.lower(): value for key, value in response.headers.items()}
                failure = classify(status, headers, _message(response), self._wall_clock())
                if failure is None:
                    raise _error(method, target, response)
            delay = self._policy.next_delay(failure, attempts, self._clock() - started, self._rng)
            if delay is None:
                raise _give_up(method, target, failure, response)
            self._sleep(delay)

    def _authorization(self, started: float) -> str:
        def app_request(method: str, path: str, app_jwt: str) -> Any:
            expected = (201,) if method == "POST" else (200,)
            return _json(self._send(method, path, expected=expected, app_jwt=app_jwt, started=started))

        requester: AppRequest = app_request
        try:
            return self._auth.authorization(requester, self._scope_path)
        except CredentialsError as error:  # e.g. a private key that does not load: not retryable
            raise GitHubAuthError(str(error)) from None

    def _attempt_timeout(self, elapsed: float) -> tuple[float, float]:
        connect, read = self._timeout
        remaining = self._policy.budget_seconds - elapsed
        return connect, min(read, max(remaining, MIN_READ_TIMEOUT_SECONDS))

    def _next_page(self, response: requests.Response) -> str | None:
        url = response.links.get("next", {}).get("url")
        if not url:
            return None
        if _origin(url) != self._origin:
            raise GitHubError("refusing to follow a pagination link to another host", response.status_code)
        return str(url)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _segment(text: str) -> str:
    if not text or "/" in text:
        raise ValueError(f"invalid GitHub owner, repository or organisation name: {text!r}")
    return quote(text, safe="")


def _repo_path(repository: str) -> str:
    owner, _, repo = repository.partition("/")
    return f"repos/{_segment(owner)}/{_segment(repo)}"


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise GitHubError("GitHub returned a body that is not JSON", response.status_code) from None


def _required_text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("empty")
    return value


def _runner(item: Mapping[str, Any]) -> GitHubRunner:
    return GitHubRunner(
        id=int(item["id"]),
        name=str(item["name"]),
        status=str(item["status"]),
        busy=bool(item["busy"]),
        labels=tuple(str(label["name"]) for label in item.get("labels", ())),
    )


def _message(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    message = data.get("message") if isinstance(data, Mapping) else None
    return str(message)[:MAX_MESSAGE_CHARS] if message else ""


def _describe(method: str, target: str, response: requests.Response | None) -> str:
    if response is None:
        return f"GitHub {method} {target}: no response"
    message = _message(response)
    return f"GitHub {method} {target}: {response.status_code}" + (f" {message}" if message else "")


def _error(method: str, target: str, response: requests.Response) -> GitHubError:
    status = response.status_code
    text = _describe(method, target, response)
    if status == 404:
        return GitHubNotFound(text, status)
    if status == 409 and target.endswith("/generate-jitconfig"):
        return GitHubRunnerExists(text, status)
    if status == 422:
        return GitHubInvalid(text, status)
    if status in (401, 403):
        return GitHubAuthError(text, status)
    return GitHubError(text, status)


def _give_up(method: str, target: str, failure: Failure, response: requests.Response | None) -> GitHubError:
    status = response.status_code if response is not None else None
    text = f"{_describe(method, target, response)} ({failure.kind.value}, retry budget exhausted)"
    if failure.rate_limited:
        return GitHubRateLimited(text, status, retry_after=failure.wait)
    return GitHubUnavailable(text, status)
