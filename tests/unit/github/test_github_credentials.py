"""The credentials secret parser, and secrets kept out of reprs and error messages."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from ecsrunner_core.adapters.github import (
    AppAuth,
    CredentialsError,
    GitHubClient,
    PatAuth,
    credentials_from_secret,
)
from ecsrunner_core.ports import GitHubAuthError, GitHubError, GitHubRateLimited
from ecsrunner_sandbox.github_faults import secondary_limit, server_error
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, GitHubStandIn, StandInApp, serving

from tests.unit.github.support import FakeTime

MakeClient = Callable[..., GitHubClient]
PAT = "ghp_SuperSecretTokenValue1234567890abcd"


def test_pat_secret() -> None:
    auth = credentials_from_secret(json.dumps({"type": "pat", "token": PAT}))

    assert isinstance(auth, PatAuth)
    assert auth.authorization(lambda *args: None, "repos/o/r") == f"Bearer {PAT}"
    assert PAT not in repr(auth)


def test_app_secret(app_key: tuple[str, Any]) -> None:
    secret = {"type": "app", "app_id": 12, "installation_id": "34", "private_key": app_key[0]}

    auth = credentials_from_secret(json.dumps(secret))

    assert isinstance(auth, AppAuth)
    assert (auth.app_id, auth.installation_id) == (12, 34)
    assert "PRIVATE KEY" not in repr(auth) and app_key[0] not in repr(auth)


def test_app_secret_installation_is_optional_and_escaped_newlines_are_accepted(
    app_key: tuple[str, Any],
) -> None:
    flattened = app_key[0].replace("\n", "\\n")
    auth = credentials_from_secret(json.dumps({"type": "app", "app_id": 12, "private_key": flattened}))

    assert isinstance(auth, AppAuth)
    assert auth.installation_id is None
    assert auth.app_jwt().count(".") == 2  # the flattened PEM still loads and signs


@pytest.mark.parametrize(
    ("secret", "named"),
    [
        ({"token": PAT}, '"type"'),
        ({"type": "oauth", "token": PAT}, '"type"'),
        ({"type": "pat"}, '"token"'),
        ({"type": "pat", "token": "   "}, '"token"'),
        ({"type": "app", "private_key": "-----BEGIN RSA PRIVATE KEY-----\nAAAA"}, '"app_id"'),
        ({"type": "app", "app_id": "x1", "private_key": "-----BEGIN RSA PRIVATE KEY-----"}, '"app_id"'),
        ({"type": "app", "app_id": True, "private_key": "-----BEGIN RSA PRIVATE KEY-----"}, '"app_id"'),
        ({"type": "app", "app_id": 1}, '"private_key"'),
        ({"type": "app", "app_id": 1, "private_key": "MIIEsecretbase64"}, '"private_key"'),
        (
            {
                "type": "app",
                "app_id": 1,
                "installation_id": -4,
                "private_key": "-----BEGIN RSA PRIVATE KEY-----",
            },
            '"installation_id"',
        ),
    ],
)
def test_malformed_secret_names_the_field_but_never_the_value(secret: dict[str, Any], named: str) -> None:
    with pytest.raises(CredentialsError) as raised:
        credentials_from_secret(json.dumps(secret))

    assert named in str(raised.value)
    for value in (PAT, "MIIEsecretbase64", "AAAA"):
        assert value not in str(raised.value)


@pytest.mark.parametrize("text", ["", "not json " + PAT, json.dumps([PAT])])
def test_secret_that_is_not_a_json_object_is_refused_without_echo(text: str) -> None:
    with pytest.raises(CredentialsError) as raised:
        credentials_from_secret(text)

    assert PAT not in str(raised.value)
    error = raised.value  # no chained JSON error: tracebacks would show the secret text
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


def test_unusable_private_key_fails_when_first_used_without_echo(
    github: GitHubStandIn, make_client: MakeClient
) -> None:
    garbage = "-----BEGIN RSA PRIVATE KEY-----\nTm90QUtleQ==\n-----END RSA PRIVATE KEY-----\n"
    auth = credentials_from_secret(json.dumps({"type": "app", "app_id": 5, "private_key": garbage}))
    assert isinstance(auth, AppAuth)

    with pytest.raises(CredentialsError, match="private_key") as raised:
        auth.app_jwt()
    with pytest.raises(GitHubAuthError, match="private_key") as through_client:
        make_client(github, auth=auth).rate_limit()

    for error in (raised.value, through_client.value):
        assert "Tm90QUtleQ" not in str(error)
    assert github.calls == []  # nothing was sent


def test_secrets_stay_out_of_reprs_and_errors(
    github: GitHubStandIn, make_client: MakeClient, fake_time: FakeTime
) -> None:
    client = make_client(github)
    jit = client.generate_jitconfig(name="r1", labels=["self-hosted"], runner_group_id=1)
    jit_secret = github.issued_jit_secrets[-1]
    errors: list[GitHubError] = []
    github.faults.script(secondary_limit(retry_after=None))
    with pytest.raises(GitHubRateLimited) as limited:
        client.generate_jitconfig(name="r2", labels=["self-hosted"], runner_group_id=1)
    errors.append(limited.value)
    with pytest.raises(GitHubError) as exists:
        client.generate_jitconfig(name="r1", labels=["self-hosted"], runner_group_id=1)
    errors.append(exists.value)
    github.faults.set_rate(1.0, [server_error()])
    with pytest.raises(GitHubError) as unavailable:
        client.delete_runner(jit.runner_id)
    errors.append(unavailable.value)

    texts = [repr(client), repr(client._auth), repr(jit), *(f"{e!s} {e!r}" for e in errors)]
    for text in texts:
        assert DEFAULT_PAT not in text
        assert jit.encoded_jit_config not in text
        assert jit_secret not in text


def test_installation_token_and_key_stay_out_of_reprs(
    fake_time: FakeTime, make_client: MakeClient, app_key: tuple[str, Any]
) -> None:
    with serving(pat=None, app=StandInApp(9, app_key[1]), clock=fake_time.time) as github:
        auth = AppAuth(9, app_key[0], clock=fake_time.time)
        client = make_client(github, auth=auth)
        client.rate_limit()
        (token,) = github.minted_tokens
        for text in (repr(auth), repr(client)):
            assert token not in text
            assert "PRIVATE KEY" not in text
