"""GitHub App auth end to end: the stand-in verifies each JWT with the App's public key and GitHub's
claim rules, looks up installations and mints installation tokens."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ecsrunner_core.adapters.github import AppAuth, GitHubClient
from ecsrunner_core.ports import GitHubAuthError, GitHubNotFound
from ecsrunner_sandbox.github_standin import GitHubStandIn, StandInApp, serving
from ecsrunner_sandbox.github_state import repo_scope

from tests.unit.github.support import ORG, REPO, FakeTime

MakeClient = Callable[..., GitHubClient]
APP_ID = 31337
INSTALLATION = 777
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def app_github(fake_time: FakeTime, app_key: tuple[str, Any]) -> Iterator[GitHubStandIn]:
    app = StandInApp(APP_ID, app_key[1], installation_id=INSTALLATION)
    with serving(pat=None, app=app, clock=fake_time.time) as standin:
        yield standin


def _app_auth(app_key: tuple[str, Any], fake_time: FakeTime, installation_id: int | None = None) -> AppAuth:
    return AppAuth(APP_ID, app_key[0], installation_id, clock=fake_time.time)


def _paths(github: GitHubStandIn) -> list[str]:
    return [f"{method} {path}" for method, path, _ in github.calls]


@pytest.mark.parametrize("org", [False, True], ids=["repo", "org"])
def test_installation_is_looked_up_and_its_token_reused(
    app_github: GitHubStandIn,
    make_client: MakeClient,
    app_key: tuple[str, Any],
    fake_time: FakeTime,
    org: bool,
) -> None:
    auth = _app_auth(app_key, fake_time)
    client = make_client(app_github, org=org, auth=auth)

    jit = client.generate_jitconfig(name="r1", labels=["self-hosted"], runner_group_id=1)
    list(client.list_runners())
    client.delete_runner(jit.runner_id)

    scope = f"/orgs/{ORG}" if org else f"/repos/{REPO}"
    assert _paths(app_github) == [
        f"GET {scope}/installation",
        f"POST /app/installations/{INSTALLATION}/access_tokens",
        f"POST {scope}/actions/runners/generate-jitconfig",
        f"GET {scope}/actions/runners",
        f"DELETE {scope}/actions/runners/{jit.runner_id}",
    ]
    assert auth.installation_id == INSTALLATION
    assert len(app_github.minted_tokens) == 1


def test_app_jwt_follows_githubs_rules(
    app_github: GitHubStandIn, make_client: MakeClient, app_key: tuple[str, Any], fake_time: FakeTime
) -> None:
    client = make_client(app_github, auth=_app_auth(app_key, fake_time))

    client.rate_limit()

    now = int(fake_time.now)
    lookup, mint = app_github.app_jwt_claims
    for claims in (lookup, mint):
        assert claims["iss"] == str(APP_ID)
        assert claims["iat"] == now - 60
        assert claims["exp"] == now + 540
        assert claims["exp"] - claims["iat"] <= 600
        assert len(claims["jti"]) == 32
    assert lookup["jti"] != mint["jti"]


def test_token_is_refreshed_five_minutes_before_it_expires(
    app_github: GitHubStandIn, make_client: MakeClient, app_key: tuple[str, Any], fake_time: FakeTime
) -> None:
    client = make_client(app_github, auth=_app_auth(app_key, fake_time))
    client.rate_limit()  # token expires one hour from now

    fake_time.advance(3600 - 300 - 1)
    client.rate_limit()
    assert len(app_github.minted_tokens) == 1

    fake_time.advance(1)
    client.rate_limit()
    assert len(app_github.minted_tokens) == 2
    assert len(app_github.calls_to("GET", "/installation")) == 1  # the installation id is kept


def test_configured_installation_skips_the_lookup(
    app_github: GitHubStandIn, make_client: MakeClient, app_key: tuple[str, Any], fake_time: FakeTime
) -> None:
    client = make_client(app_github, auth=_app_auth(app_key, fake_time, installation_id=INSTALLATION))

    client.rate_limit()

    assert _paths(app_github) == [f"POST /app/installations/{INSTALLATION}/access_tokens", "GET /rate_limit"]


def test_revoked_token_is_replaced_once(
    app_github: GitHubStandIn, make_client: MakeClient, app_key: tuple[str, Any], fake_time: FakeTime
) -> None:
    client = make_client(app_github, auth=_app_auth(app_key, fake_time, installation_id=INSTALLATION))
    client.rate_limit()
    app_github.revoke_installation_tokens()

    client.rate_limit()

    assert [status for _, _, status in app_github.calls] == [201, 200, 401, 201, 200]
    assert len(app_github.minted_tokens) == 2


def test_app_not_installed_on_the_repository_raises_not_found(
    fake_time: FakeTime, make_client: MakeClient, app_key: tuple[str, Any]
) -> None:
    app = StandInApp(APP_ID, app_key[1], installed_scopes=frozenset({repo_scope("someone/else")}))
    with serving(pat=None, app=app, clock=fake_time.time) as github:
        client = make_client(github, auth=_app_auth(app_key, fake_time))
        with pytest.raises(GitHubNotFound):
            client.rate_limit()


def test_jwt_signed_with_another_key_is_refused(
    fake_time: FakeTime, make_client: MakeClient, app_key: tuple[str, Any]
) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    other_public_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    with serving(pat=None, app=StandInApp(APP_ID, other_public_key), clock=fake_time.time) as github:
        client = make_client(github, auth=_app_auth(app_key, fake_time))
        with pytest.raises(GitHubAuthError) as raised:
            client.rate_limit()
        assert raised.value.status == 401
        assert app_key[0] not in str(raised.value)


def test_app_auth_is_imported_lazily() -> None:
    """PAT clients and an unused App never import PyJWT or cryptography (Lambda cold start)."""
    code = (
        "import sys\n"
        "from ecsrunner_core.adapters.github import GitHubClient, credentials_from_secret\n"
        'pat = credentials_from_secret(\'{"type": "pat", "token": "ghp_x"}\')\n'
        'app = credentials_from_secret(\'{"type": "app", "app_id": 1, "private_key": "-----BEGIN x"}\')\n'
        "GitHubClient('https://api.github.com', pat, scope_repo='o/r')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jwt', 'cryptography')))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lambda")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "[]"
