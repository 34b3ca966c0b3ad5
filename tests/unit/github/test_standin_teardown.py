"""Every helper that starts a GitHub stand-in fails on teardown when the stand-in saw traffic that
GitHub's OpenAPI description does not allow: ``serving`` and ``assert_no_violations`` directly, and
the ``github`` fixture end to end in a pytest run of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests
from ecsrunner_sandbox.github_standin import DEFAULT_PAT, OpenApiViolations, serving

from tests.unit.github.support import FakeTime

ROOT = Path(__file__).resolve().parents[3]
HEADERS = {"Authorization": f"Bearer {DEFAULT_PAT}", "X-GitHub-Api-Version": "2022-11-28"}


def test_serving_fails_on_leaving_when_a_violation_was_seen(fake_time: FakeTime) -> None:
    with pytest.raises(OpenApiViolations) as raised, serving(clock=fake_time.time) as github:
        assert requests.get(f"{github.api_url}/user", headers=HEADERS).status_code == 404

    assert "1 OpenAPI violation(s)" in str(raised.value)
    assert "GET /user is not a documented operation" in str(raised.value)


def test_serving_passes_when_violations_were_expected_and_cleared(fake_time: FakeTime) -> None:
    with serving(clock=fake_time.time) as github:
        requests.get(f"{github.api_url}/user", headers=HEADERS)
        github.violations.clear()
        assert requests.get(f"{github.api_url}/rate_limit", headers=HEADERS).status_code == 200


def test_serving_does_not_hide_the_error_that_ended_the_block(fake_time: FakeTime) -> None:
    with pytest.raises(KeyError, match="the test's own failure"), serving(clock=fake_time.time) as github:
        requests.get(f"{github.api_url}/user", headers=HEADERS)
        raise KeyError("the test's own failure")


def test_the_github_fixture_fails_a_test_that_broke_the_description(tmp_path: Path) -> None:
    (tmp_path / "test_violating.py").write_text(
        textwrap.dedent(
            """
            import requests
            from ecsrunner_sandbox.github_standin import DEFAULT_PAT

            HEADERS = {"Authorization": f"Bearer {DEFAULT_PAT}", "X-GitHub-Api-Version": "2022-11-28"}

            def test_sends_an_undocumented_query(github):
                url = f"{github.api_url}/repos/o/r/actions/runs?bogus=1"
                assert requests.get(url, headers=HEADERS).status_code == 422

            def test_stays_within_the_description(github):
                assert requests.get(f"{github.api_url}/rate_limit", headers=HEADERS).status_code == 200
            """
        )
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "devtools"), str(ROOT)])}

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.unit.github.conftest", "-p", "no:cacheprovider", "-q"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 passed, 1 error" in result.stdout
    assert "ERROR at teardown of test_sends_an_undocumented_query" in result.stdout
    assert "undocumented query parameter 'bogus'" in result.stdout
