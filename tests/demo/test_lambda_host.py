"""The Lambda host: deployed configuration read back, Lambda's environment, a clean protocol."""

from __future__ import annotations

import os
from pathlib import Path

import boto3
import pytest
from ecsrunner_sandbox.lambda_host import LambdaHost, LambdaHostError, code_sha256
from ecsrunner_sandbox.lambda_runtime import RUNTIME_DISTRIBUTIONS, find_runtime_python, runtime_layer

from tests.demo.conftest import create_function, make_zip

HANDLER = """
import json, os, sys, time

print("printed while importing")


def handler(event, context):
    print(json.dumps({"level": "INFO", "message": "a Powertools-style log line"}))
    sys.stdout.write("no newline at the end")
    if event.get("raise"):
        raise KeyError(event["raise"])
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {
        "event": event,
        "environment": dict(os.environ),
        "function_name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "arn": context.invoked_function_arn,
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "boto3": __import__("boto3").__file__,
        "executable": sys.executable,
    }
"""


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return runtime_layer(tmp_path_factory.mktemp("runtime"))


def host_for(session: boto3.Session, artefact: Path, tmp_path: Path, layer: Path) -> LambdaHost:
    return LambdaHost(
        session.client("lambda"),
        artefact=artefact,
        work_dir=tmp_path / "work",
        log_dir=tmp_path / "logs",
        layer_dir=layer,
        aws_environment={"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_REGION": "us-east-1"},
        python_for=find_runtime_python,
    )


def test_runtime_layer_holds_boto3_and_is_reused(tmp_path: Path) -> None:
    first = runtime_layer(tmp_path)
    assert (first / "boto3" / "__init__.py").is_file()
    assert (first / "botocore" / "data").is_dir()
    assert len(RUNTIME_DISTRIBUTIONS) == len(list(first.glob("*.dist-info")))
    marker = (first / ".complete").stat().st_mtime_ns
    assert runtime_layer(tmp_path) == first
    assert (first / ".complete").stat().st_mtime_ns == marker


def test_invocation_sees_the_deployed_configuration_and_only_lambdas_environment(
    aws: boto3.Session, tmp_path: Path, layer: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARENT_ONLY_SECRET", "must-not-leak")
    artefact = make_zip(tmp_path / "fn.zip", {"app.py": HANDLER})
    arn = create_function(
        aws, "fn", artefact, Timeout=9, MemorySize=384, Environment={"Variables": {"RUNNER_TABLE": "t"}}
    )
    host = host_for(aws, artefact, tmp_path, layer)
    try:
        loaded = host.load("fn")
        first = host.invoke(arn, {"n": 1})
        second = host.invoke("fn", {"n": 2})
    finally:
        host.stop()

    assert loaded.config.timeout_seconds == 9 and loaded.config.memory_mb == 384
    assert first.ok and second.ok, (first.error, second.error)
    result = first.result
    assert result["event"] == {"n": 1} and second.result["event"] == {"n": 2}
    env = result["environment"]
    assert env["RUNNER_TABLE"] == "t"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "fn"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "384"
    assert env["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "9"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"
    assert "PARENT_ONLY_SECRET" not in env
    assert result["function_name"] == "fn" and result["memory"] == "384" and result["arn"] == arn
    assert 0 < result["remaining_ms"] <= 9000
    assert result["request_id"] == first.request_id != second.request_id
    assert result["boto3"].startswith(str(layer))  # the runtime's boto3, not the venv's
    assert result["executable"] == loaded.python.executable
    log = loaded.log_path.read_text()
    assert "printed while importing" in log and "a Powertools-style log line" in log
    assert log.count("REPORT RequestId:") == 2 and "Init Duration" in log
    assert host.workers["fn"].stats.invocations == 2 and host.workers["fn"].stats.cold_starts == 1


def test_handler_errors_come_back_as_lambda_errors_and_the_container_stays_warm(
    aws: boto3.Session, tmp_path: Path, layer: Path
) -> None:
    artefact = make_zip(tmp_path / "fn.zip", {"app.py": HANDLER})
    create_function(aws, "fn", artefact)
    host = host_for(aws, artefact, tmp_path, layer)
    try:
        host.load("fn")
        failed = host.invoke("fn", {"raise": "boom"})
        after = host.invoke("fn", {})
    finally:
        host.stop()
    assert failed.error is not None and failed.error["errorType"] == "KeyError"
    assert "boom" in failed.error["errorMessage"]
    assert after.ok
    assert host.workers["fn"].stats.cold_starts == 1 and host.workers["fn"].stats.errors == 1


def test_a_timed_out_invocation_is_cut_off_and_the_next_one_gets_a_new_container(
    aws: boto3.Session, tmp_path: Path, layer: Path
) -> None:
    artefact = make_zip(tmp_path / "fn.zip", {"app.py": HANDLER})
    create_function(aws, "fn", artefact, Timeout=1)
    host = host_for(aws, artefact, tmp_path, layer)
    try:
        host.load("fn")
        timed_out = host.invoke("fn", {"sleep": 30})
        after = host.invoke("fn", {})
    finally:
        host.stop()
    assert timed_out.error is not None and timed_out.error["errorType"] == "Sandbox.Timedout"
    assert after.ok
    assert host.workers["fn"].stats.cold_starts == 2


def test_deployed_code_must_be_the_local_artefact(aws: boto3.Session, tmp_path: Path, layer: Path) -> None:
    deployed = make_zip(tmp_path / "deployed.zip", {"app.py": HANDLER})
    create_function(aws, "fn", deployed)
    local = make_zip(tmp_path / "local.zip", {"app.py": HANDLER + "\n# changed\n"})
    host = host_for(aws, local, tmp_path, layer)
    with pytest.raises(LambdaHostError, match="make build"):
        host.load("fn")
    assert code_sha256(deployed) != code_sha256(local)


def test_an_import_error_fails_the_load_with_the_log_path(
    aws: boto3.Session, tmp_path: Path, layer: Path
) -> None:
    artefact = make_zip(tmp_path / "fn.zip", {"app.py": "import not_a_module_anywhere\n"})
    create_function(aws, "fn", artefact)
    host = host_for(aws, artefact, tmp_path, layer)
    with pytest.raises(LambdaHostError, match="No module named") as failure:
        host.load("fn")
    assert str(tmp_path / "logs") in str(failure.value)


def test_runtime_python_override_must_be_the_right_version(monkeypatch: pytest.MonkeyPatch) -> None:
    from ecsrunner_sandbox.lambda_runtime import RuntimeNotFound

    monkeypatch.setenv("ECSRUNNER_RUNTIME_PYTHON", os.devnull)
    with pytest.raises(RuntimeNotFound, match="ECSRUNNER_RUNTIME_PYTHON"):
        find_runtime_python("python3.13")


def test_without_the_runtime_the_current_python_stands_in(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ecsrunner_sandbox.lambda_runtime import RuntimeNotFound

    monkeypatch.delenv("ECSRUNNER_RUNTIME_PYTHON", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    stand_in = find_runtime_python("python3.99")
    assert not stand_in.exact and "python3.99" in stand_in.describe()
    with pytest.raises(RuntimeNotFound, match="install it"):
        find_runtime_python("python3.99", allow_fallback=False)
