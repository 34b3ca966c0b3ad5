"""GitHub REST client for the runner endpoints of one repository or organisation, and the job, run,
installation and webhook-delivery reads that reconcile our records with GitHub.

Retries (see :mod:`.retry`) cover 5xx, timeouts, connection errors and rate limits, all inside one
time budget per call. GET and DELETE are idempotent. POST generate-jitconfig is retried too: if a
lost response had in fact registered the runner, the retry gets 409 and raises
:class:`GitHubRunnerExists`, which callers already handle (the name is unique per launch attempt).
Minting an installation token is retried as well: a second token is harmless, and so is a second
redelivery (the control plane treats a repeated ``workflow_job`` delivery as a duplicate).

Listings other than :meth:`GitHubClient.list_runners` return one page per call (one request, 100
items); ``Page.next`` is the ``page`` number or the ``cursor`` taken from the ``Link`` header.
Credentials decide what is reachable: the installation's repositories need an App installation
token and the App hook's deliveries the App's JWT, so with a PAT those calls raise
:class:`GitHubAuthError` without a request.

Errors are the typed :mod:`ecsrunner_core.ports` errors. Messages carry the method, the path, the
status and GitHub's ``message``; never a token, a JIT config or a request body.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import parse_qs, quote, urlsplit

import requests

from ... import __version__
from ...ports import (
    GitHubAuthError,
    GitHubError,
    GitHubInvalid,
    GitHubJob,
    GitHubNotFound,
    GitHubRateLimited,
    GitHubRunner,
    GitHubRunnerExists,
    GitHubUnavailable,
    HookDelivery,
    HookRef,
    JitConfig,
    Page,
    WorkflowRun,
)
from .auth import AppAuth, AppRequest, CredentialsError, GitHubAuth
from .retry import Failure, FailureKind, RetryPolicy, classify

API_VERSION = "2022-11-28"
PAGE_SIZE = 100
MIN_READ_TIMEOUT_SECONDS = 1.0
MAX_MESSAGE_CHARS = 300
_NETWORK_ERRORS = (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)
_PARSE_ERRORS = (KeyError, TypeError, ValueError, AttributeError)
T = TypeVar("T")


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

    def get_runner(self, runner_id: int) -> GitHubRunner | None:
        """The scope's runner, or ``None`` when GitHub does not know it (404)."""
        response = self._get_or_none(f"{self._scope_path}/actions/runners/{int(runner_id)}")
        return None if response is None else _parsed("get runner", response, _runner)

    def get_job(self, repository: str, job_id: int) -> GitHubJob | None:
        """A job of ``repository`` (any repository the credentials can read), or ``None`` on 404."""
        response = self._get_or_none(f"{_repo_path(repository)}/actions/jobs/{int(job_id)}")
        return None if response is None else _parsed("get job", response, lambda data: _job(data, repository))

    def list_workflow_runs(self, repository: str, status: str, page: str | None = None) -> Page[WorkflowRun]:
        """One page of the repository's runs whose status (or conclusion) is ``status``, newest first."""
        response = self._send(
            "GET",
            f"{_repo_path(repository)}/actions/runs",
            expected=(200,),
            params={"status": status, **_page_params(page)},
        )
        runs = _parsed(
            "list workflow runs",
            response,
            lambda data: tuple(_workflow_run(item, repository) for item in data["workflow_runs"]),
        )
        return Page(runs, self._next_token(response, "page"))

    def list_run_jobs(self, repository: str, run_id: int, page: str | None = None) -> Page[GitHubJob]:
        """One page of the jobs of the run's latest attempt (``filter=latest``)."""
        response = self._send(
            "GET",
            f"{_repo_path(repository)}/actions/runs/{int(run_id)}/jobs",
            expected=(200,),
            params={"filter": "latest", **_page_params(page)},
        )
        jobs = _parsed(
            "list jobs for a workflow run",
            response,
            lambda data: tuple(_job(item, repository) for item in data["jobs"]),
        )
        return Page(jobs, self._next_token(response, "page"))

    def list_installation_repositories(self, page: str | None = None) -> Page[str]:
        """One page of the full names of the repositories the App installation can see.

        Only an installation token may call ``GET /installation/repositories``; with a PAT this raises
        :class:`GitHubAuthError` (``status`` None) without a request, rather than spend one on a 403.
        """
        if not isinstance(self._auth, AppAuth):
            raise GitHubAuthError("the installation's repositories need GitHub App credentials, not a PAT")
        response = self._send("GET", "installation/repositories", expected=(200,), params=_page_params(page))
        names = _parsed(
            "list installation repositories",
            response,
            lambda data: tuple(_required_text(item["full_name"]) for item in data["repositories"]),
        )
        return Page(names, self._next_token(response, "page"))

    def list_hook_deliveries(
        self, hook: HookRef, *, failed_only: bool = True, page: str | None = None
    ) -> Page[HookDelivery]:
        """One page of the hook's deliveries, newest first. ``failed_only`` asks GitHub for
        ``status=failure``: by its description, deliveries with a ``status_code`` of 400..599."""
        path, app_jwt = self._hook_path(hook)
        params: dict[str, str | int] = {"per_page": PAGE_SIZE}
        if failed_only:
            params["status"] = "failure"
        if page is not None:
            params["cursor"] = page
        response = self._send("GET", f"{path}/deliveries", expected=(200,), params=params, app_jwt=app_jwt)
        deliveries = _parsed(
            "list webhook deliveries", response, lambda data: tuple(_hook_delivery(item) for item in data)
        )
        return Page(deliveries, self._next_token(response, "cursor"))

    def redeliver(self, hook: HookRef, delivery_id: int) -> None:
        """Ask GitHub to deliver ``delivery_id`` again (202: GitHub sends it later)."""
        path, app_jwt = self._hook_path(hook)
        self._send("POST", f"{path}/deliveries/{int(delivery_id)}/attempts", expected=(202,), app_jwt=app_jwt)

    def rate_limit(self) -> Mapping[str, Any]:
        data = _json(self._send("GET", "rate_limit", expected=(200,)))
        if not isinstance(data, Mapping):
            raise GitHubError("rate_limit returned an unexpected body", 200)
        return data

    # --- helpers ------------------------------------------------------------------------------

    def _get_or_none(self, path: str) -> requests.Response | None:
        try:
            return self._send("GET", path, expected=(200,))
        except GitHubNotFound:
            return None

    def _hook_path(self, hook: HookRef) -> tuple[str, str | None]:
        """The hook's API path, and the App JWT that authenticates for the App's own hook."""
        if hook.app:
            if not isinstance(self._auth, AppAuth):
                raise GitHubAuthError("the App's webhook deliveries need GitHub App credentials, not a PAT")
            try:
                return "app/hook", self._auth.app_jwt()
            except CredentialsError as error:
                raise GitHubAuthError(str(error)) from None
        if hook.hook_id is None:
            raise ValueError("a repository or organisation hook needs its hook_id")
        return f"{self._scope_path}/hooks/{int(hook.hook_id)}", None

    def _next_token(self, response: requests.Response, name: str) -> str | None:
        """The ``page`` or ``cursor`` of the ``Link`` header's next page (``None``: last page)."""
        url = response.links.get("next", {}).get("url")
        if not url:
            return None
        values = parse_qs(urlsplit(str(url)).query).get(name)
        if not values or not values[0]:
            raise GitHubError(f"pagination link without {name}", response.status_code)
        return values[0]

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


def _page_params(page: str | None) -> dict[str, str | int]:
    return {"per_page": PAGE_SIZE} if page is None else {"per_page": PAGE_SIZE, "page": page}


def _parsed(what: str, response: requests.Response, parse: Callable[[Any], T]) -> T:
    """``parse`` applied to the JSON body; a body that does not parse is GitHub's error, not ours."""
    data = _json(response)
    try:
        return parse(data)
    except _PARSE_ERRORS:
        raise GitHubError(f"{what} returned an unexpected body", response.status_code) from None


def _timestamp(value: Any) -> datetime:
    """GitHub's ISO 8601 time (``2021-05-12T20:33:44Z``) as an aware datetime."""
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError("timestamp without a time zone")
    return parsed


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _job(item: Mapping[str, Any], repository: str) -> GitHubJob:
    created_at = item.get("created_at")
    return GitHubJob(
        id=int(item["id"]),
        run_id=int(item["run_id"]),
        repository=repository,
        status=_required_text(item["status"]),
        labels=tuple(str(label) for label in item["labels"]),
        conclusion=_optional_text(item.get("conclusion")),
        runner_id=_optional_int(item.get("runner_id")),
        runner_name=_optional_text(item.get("runner_name")),
        name=_optional_text(item.get("name")),
        workflow_name=_optional_text(item.get("workflow_name")),
        html_url=_optional_text(item.get("html_url")),
        created_at=None if created_at is None else _timestamp(created_at),
    )


def _workflow_run(item: Mapping[str, Any], repository: str) -> WorkflowRun:
    created_at = item.get("created_at")
    return WorkflowRun(
        id=int(item["id"]),
        repository=str(item.get("repository", {}).get("full_name") or repository),
        status=_required_text(item["status"]),
        created_at=None if created_at is None else _timestamp(created_at),
    )


def _hook_delivery(item: Mapping[str, Any]) -> HookDelivery:
    return HookDelivery(
        id=int(item["id"]),
        guid=_required_text(item["guid"]),
        delivered_at=_timestamp(item["delivered_at"]),
        redelivery=bool(item["redelivery"]),
        status_code=int(item["status_code"]),
        event=_required_text(item["event"]),
        action=_optional_text(item.get("action")),
    )


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
