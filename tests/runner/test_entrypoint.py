"""runner/entrypoint.sh against a fake run.sh in a temporary RUNNER_HOME.

In the image tini (PID 1) forwards SIGTERM to its child, the entrypoint process; these tests send
SIGTERM to that same process and check that the runner's run.sh receives it.
"""

import base64
import contextlib
import os
import signal
import subprocess
from pathlib import Path

import pytest
from runner_scripts import BASE_ENV, RUNNER_DIR, run_script, wait_for

JIT_VARIABLE = "ACTIONS_RUNNER_INPUT_JITCONFIG"
CONFIG_ERROR = 78
FAKE_RUN_SH = """#!/usr/bin/env bash
# Fake actions runner run.sh: records how it was started, then exits or waits for SIGTERM.
out="$FAKE_RUNNER_OUT"
trap 'echo TERM > "$out/signal"; kill "$idle" 2>/dev/null; exit "$FAKE_RUNNER_TERM_EXIT"' TERM
printf '%s\\n' "$$" > "$out/pid"
printf '%s\\0' "$@" > "$out/argv"
env -0 > "$out/env"
pwd > "$out/cwd"
if [[ "$FAKE_RUNNER_MODE" == wait ]]; then
  sleep 60 &
  idle=$!
  touch "$out/ready"
  wait "$idle"
  exit 99
fi
exit "$FAKE_RUNNER_EXIT"
"""


@pytest.fixture
def jit_config() -> str:
    return base64.b64encode(os.urandom(600)).decode()


@pytest.fixture
def runner_home(tmp_path: Path) -> Path:
    home = tmp_path / "actions-runner"
    home.mkdir()
    run_sh = home / "run.sh"
    run_sh.write_text(FAKE_RUN_SH)
    run_sh.chmod(0o755)
    return home


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    return out


def runner_env(runner_home: Path, out_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "RUNNER_HOME": str(runner_home),
        "FAKE_RUNNER_OUT": str(out_dir),
        "FAKE_RUNNER_MODE": "exit",
        "FAKE_RUNNER_EXIT": "0",
        "FAKE_RUNNER_TERM_EXIT": "0",
        **extra,
    }


def recorded_env(out_dir: Path) -> dict[str, str]:
    entries = (out_dir / "env").read_bytes().split(b"\0")
    return dict(entry.decode().split("=", 1) for entry in entries if entry)


def test_execs_run_sh_with_the_jit_config_as_argument(runner_home, out_dir, jit_config):
    result = run_script("entrypoint.sh", {**runner_env(runner_home, out_dir), JIT_VARIABLE: jit_config})

    assert result.returncode == 0, result.stderr
    argv = (out_dir / "argv").read_bytes().split(b"\0")[:-1]
    assert [arg.decode() for arg in argv] == ["--jitconfig", jit_config]
    assert (out_dir / "cwd").read_text().strip() == str(runner_home)


def test_the_jit_variable_is_gone_from_the_runner_environment(runner_home, out_dir, jit_config):
    result = run_script("entrypoint.sh", {**runner_env(runner_home, out_dir), JIT_VARIABLE: jit_config})

    assert result.returncode == 0, result.stderr
    environment = recorded_env(out_dir)
    assert JIT_VARIABLE not in environment
    assert jit_config not in "".join(environment.values())
    assert environment["RUNNER_MANUALLY_TRAP_SIG"] == "1"
    assert jit_config not in result.stdout + result.stderr


@pytest.mark.parametrize("exit_code", [0, 1, 3, 42])
def test_exits_with_the_runner_exit_code(runner_home, out_dir, jit_config, exit_code):
    env = runner_env(runner_home, out_dir, FAKE_RUNNER_EXIT=str(exit_code))

    result = run_script("entrypoint.sh", {**env, JIT_VARIABLE: jit_config})

    assert result.returncode == exit_code


def test_sigterm_to_the_entrypoint_process_reaches_run_sh(runner_home, out_dir, jit_config):
    env = runner_env(runner_home, out_dir, FAKE_RUNNER_MODE="wait", FAKE_RUNNER_TERM_EXIT="5")
    process = subprocess.Popen(
        [str(RUNNER_DIR / "entrypoint.sh")],
        env={**BASE_ENV, **env, JIT_VARIABLE: jit_config},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        wait_for((out_dir / "ready").exists, what="the fake run.sh to start")
        # The entrypoint exec'd run.sh: no intermediate shell can swallow tini's SIGTERM.
        assert int((out_dir / "pid").read_text()) == process.pid

        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=10)
    finally:
        # Its own process group: nothing it started outlives the test, whatever the outcome.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    assert (out_dir / "signal").read_text().strip() == "TERM"
    assert returncode == 5


@pytest.mark.parametrize("value", [None, ""], ids=["missing", "empty"])
def test_refuses_to_start_without_a_jit_config(runner_home, out_dir, value):
    env = runner_env(runner_home, out_dir)
    if value is not None:
        env[JIT_VARIABLE] = value

    result = run_script("entrypoint.sh", env)

    assert result.returncode == CONFIG_ERROR
    assert result.stderr.count("\n") == 1
    assert JIT_VARIABLE in result.stderr
    assert not (out_dir / "pid").exists()


@pytest.mark.parametrize("value", ["abc def", "x;touch /tmp/pwned", "$(id)", "a\nb"])
def test_refuses_a_jit_config_run_sh_would_split_and_never_prints_it(runner_home, out_dir, value):
    result = run_script("entrypoint.sh", {**runner_env(runner_home, out_dir), JIT_VARIABLE: value})

    assert result.returncode == CONFIG_ERROR
    assert result.stderr.count("\n") == 1
    assert value not in result.stderr + result.stdout
    assert not (out_dir / "pid").exists()


def test_refuses_a_runner_home_without_run_sh(tmp_path, out_dir, jit_config):
    empty_home = tmp_path / "empty"
    empty_home.mkdir()

    result = run_script("entrypoint.sh", {**runner_env(empty_home, out_dir), JIT_VARIABLE: jit_config})

    assert result.returncode == CONFIG_ERROR
    assert "run.sh" in result.stderr
    assert jit_config not in result.stderr
