"""Run deployed Lambda functions as Lambda would, without Docker.

For each function, the configuration is read back from the (moto) Lambda API: handler, runtime,
timeout, memory and environment. The deployed code must be the local artefact: moto keeps the zip
but does not serve ``Code.Location``, so the host checks that the deployed ``CodeSha256`` is the
artefact's and unzips the artefact. One long-lived worker process per function (a warm container)
runs under the runtime's Python with the code and a boto3 "runtime layer" on ``sys.path``, and an
environment built like Lambda's: the function's variables plus the runtime's own, nothing else from
this process. Invocations are serialised per function (one container, no concurrency).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import selectors
import subprocess
import threading
import time
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .lambda_runtime import RuntimePython

WORKER_SCRIPT = Path(__file__).with_name("lambda_worker.py")
INIT_TIMEOUT_SECONDS = 60.0  # Lambda allows 10 s; two busy cores importing Powertools can be slower
TIMEOUT_GRACE_SECONDS = 2.0
KEPT_PARENT_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL")


class LambdaHostError(RuntimeError):
    """A function cannot be loaded (wrong code, no runtime, init failure)."""


def code_sha256(path: Path) -> str:
    """Lambda's ``CodeSha256``: base64 of the SHA-256 of the zip."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode()


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    arn: str
    handler: str
    runtime: str
    timeout_seconds: int
    memory_mb: int
    environment: Mapping[str, str]
    code_sha256: str

    @classmethod
    def from_api(cls, configuration: Mapping[str, Any]) -> FunctionConfig:
        return cls(
            name=configuration["FunctionName"],
            arn=configuration["FunctionArn"],
            handler=configuration["Handler"],
            runtime=configuration["Runtime"],
            timeout_seconds=int(configuration.get("Timeout", 3)),
            memory_mb=int(configuration.get("MemorySize", 128)),
            environment=dict((configuration.get("Environment") or {}).get("Variables") or {}),
            code_sha256=configuration["CodeSha256"],
        )


@dataclass
class Invocation:
    function_name: str
    request_id: str
    result: Any = None
    error: dict[str, Any] | None = None
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class FunctionStats:
    invocations: int = 0
    errors: int = 0
    cold_starts: int = 0
    total_ms: float = 0.0


class _ProtocolChannel:
    """Reads the worker's JSON lines with a deadline."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._fd = stream.fileno()
        self._buffer = b""
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._fd, selectors.EVENT_READ)

    def read(self, deadline: float) -> dict[str, Any] | None:
        """The next message; None on EOF; TimeoutError when the deadline passes first."""
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._selector.select(remaining):
                raise TimeoutError
            chunk = os.read(self._fd, 1 << 16)
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        message: dict[str, Any] = json.loads(line)
        return message

    def close(self) -> None:
        self._selector.close()


@dataclass
class LambdaWorker:
    """One warm container of one function."""

    config: FunctionConfig
    code_dir: Path
    python: RuntimePython
    layer_dir: Path
    aws_environment: Mapping[str, str]
    log_path: Path
    stats: FunctionStats = field(default_factory=FunctionStats)
    init_ms: float | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _channel: _ProtocolChannel | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def environment(self) -> dict[str, str]:
        config = self.config
        env = {name: os.environ[name] for name in KEPT_PARENT_VARIABLES if name in os.environ}
        env.update(config.environment)
        env.update(self.aws_environment)
        env.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": config.name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
                "AWS_LAMBDA_FUNCTION_TIMEOUT": str(config.timeout_seconds),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": f"sandbox/[$LATEST]{uuid.uuid4().hex}",
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
                "LAMBDA_TASK_ROOT": str(self.code_dir),
                "LAMBDA_RUNTIME_DIR": str(self.layer_dir),
                "_HANDLER": config.handler,
                "TZ": ":UTC",
                "PYTHONPATH": os.pathsep.join([str(self.code_dir), str(self.layer_dir)]),
            }
        )
        return env

    def start(self) -> float:
        """Start the container and import the handler (Lambda's init phase); returns init ms."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            # -S: no site-packages of the interpreter (Lambda has none); -P: not the script's directory.
            self._process = subprocess.Popen(  # noqa: S603 (our worker script under the chosen interpreter)
                [self.python.executable, "-S", "-P", str(WORKER_SCRIPT)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=self.environment(),
                cwd=self.code_dir,
                start_new_session=True,  # Ctrl-C stops the demo, which then stops its containers
            )
        assert self._process.stdout is not None
        self._channel = _ProtocolChannel(self._process.stdout)
        try:
            message = self._channel.read(time.monotonic() + INIT_TIMEOUT_SECONDS)
        except TimeoutError:
            self.stop()
            raise LambdaHostError(
                f"{self.config.name}: init did not finish in {INIT_TIMEOUT_SECONDS:.0f}s "
                f"(log: {self.log_path})"
            ) from None
        if message is None or message.get("type") != "ready":
            self.stop()
            error = (message or {}).get("error", {})
            raise LambdaHostError(
                f"{self.config.name}: init failed: {error.get('errorType', 'exited')}: "
                f"{error.get('errorMessage', '')} (log: {self.log_path})"
            )
        self.stats.cold_starts += 1
        self.init_ms = float(message["init_ms"])
        return self.init_ms

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def invoke(self, event: Any, invoked_arn: str | None = None) -> Invocation:
        with self._lock:
            if not self.running:
                self.stop()
                self.start()
            return self._invoke(event, invoked_arn or self.config.arn)

    def _invoke(self, event: Any, invoked_arn: str) -> Invocation:
        assert self._process is not None and self._process.stdin is not None and self._channel is not None
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        deadline_epoch_ms = int((time.time() + self.config.timeout_seconds) * 1000)
        request = {
            "request_id": request_id,
            "deadline_epoch_ms": deadline_epoch_ms,
            "invoked_function_arn": invoked_arn,
            "event": event,
        }
        invocation = Invocation(self.config.name, request_id)
        try:
            self._process.stdin.write((json.dumps(request) + "\n").encode())
            self._process.stdin.flush()
            message = self._channel.read(started + self.config.timeout_seconds + TIMEOUT_GRACE_SECONDS)
        except TimeoutError:
            self.stop()
            message = {
                "type": "error",
                "error": {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"Task timed out after {self.config.timeout_seconds:.2f} seconds",
                },
            }
        except (BrokenPipeError, OSError):
            message = None
        if message is None:
            self.stop()
            message = {
                "type": "error",
                "error": {"errorType": "Runtime.ExitError", "errorMessage": "the runtime exited"},
            }
        invocation.duration_ms = float(message.get("duration_ms", (time.monotonic() - started) * 1000))
        if message.get("type") == "result":
            invocation.result = message.get("result")
        else:
            invocation.error = dict(message.get("error") or {})
            self.stats.errors += 1
        self.stats.invocations += 1
        self.stats.total_ms += invocation.duration_ms
        return invocation

    def stop(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


@dataclass(frozen=True)
class LoadedFunction:
    config: FunctionConfig
    code_source: str
    python: RuntimePython
    init_ms: float
    log_path: Path


class LambdaHost:
    """The deployed functions of one sandbox, each in its own warm worker."""

    def __init__(
        self,
        lambda_client: Any,
        *,
        artefact: Path,
        work_dir: Path,
        log_dir: Path,
        layer_dir: Path,
        aws_environment: Mapping[str, str],
        python_for: Any,
    ) -> None:
        self._lambda = lambda_client
        self._artefact = artefact.resolve()
        self._work_dir = work_dir.resolve()  # the workers run in the code directory: no relative paths
        self._log_dir = log_dir.resolve()
        self._layer_dir = layer_dir.resolve()
        self._aws_environment = dict(aws_environment)
        self._python_for = python_for  # runtime name -> RuntimePython
        self._workers: dict[str, LambdaWorker] = {}
        self._code_dirs: dict[str, Path] = {}

    @property
    def workers(self) -> Mapping[str, LambdaWorker]:
        return self._workers

    def read_config(self, function_name: str) -> FunctionConfig:
        return FunctionConfig.from_api(self._lambda.get_function(FunctionName=function_name)["Configuration"])

    def _code_dir(self, config: FunctionConfig) -> tuple[Path, str]:
        local = code_sha256(self._artefact)
        if config.code_sha256 != local:
            raise LambdaHostError(
                f"{config.name}: the deployed code (CodeSha256 {config.code_sha256}) is not "
                f"{self._artefact} ({local}); rebuild with `make build` and apply again"
            )
        source = (
            f"{self._artefact.name}, whose CodeSha256 {local[:12]}… is the deployed code's "
            "(moto serves no Code.Location to download)"
        )
        if local not in self._code_dirs:
            target = self._work_dir / f"code-{hashlib.sha256(local.encode()).hexdigest()[:12]}"
            with zipfile.ZipFile(self._artefact) as archive:
                archive.extractall(target)
            self._code_dirs[local] = target
        return self._code_dirs[local], source

    def load(self, function_name: str) -> LoadedFunction:
        config = self.read_config(function_name)
        code_dir, source = self._code_dir(config)
        python: RuntimePython = self._python_for(config.runtime)
        worker = LambdaWorker(
            config=config,
            code_dir=code_dir,
            python=python,
            layer_dir=self._layer_dir,
            aws_environment=self._aws_environment,
            log_path=self._log_dir / f"{config.name}.log",
        )
        init_ms = worker.start()
        self._workers[config.name] = worker
        return LoadedFunction(config, source, python, init_ms, worker.log_path)

    def function_name(self, name_or_arn: str) -> str:
        """``my-fn``, ``arn:aws:lambda:r:a:function:my-fn`` or an API Gateway invoke URI -> ``my-fn``."""
        if ":function:" in name_or_arn:
            name_or_arn = name_or_arn.split(":function:", 1)[1].split("/", 1)[0].split(":", 1)[0]
        return name_or_arn

    def invoke(self, name_or_arn: str, event: Any) -> Invocation:
        name = self.function_name(name_or_arn)
        worker = self._workers.get(name)
        if worker is None:
            raise LambdaHostError(f"function {name} is not loaded")
        return worker.invoke(event)

    def stop(self) -> None:
        for worker in self._workers.values():
            worker.stop()
