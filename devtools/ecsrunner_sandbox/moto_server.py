"""A moto server on a free 127.0.0.1 port, run as a subprocess for tests, the demo and benchmarks.

with moto_server() as server:
    boto3.client("dynamodb", endpoint_url=server.endpoint_url, region_name=server.region, ...)
    server.reset()
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DEVTOOLS_DIR = Path(__file__).resolve().parents[1]
READY_TIMEOUT_SECONDS = 60.0
POLL_INTERVAL_SECONDS = 0.1
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}

# Tasks otherwise advance one status on every DescribeTasks call; callers move them explicitly.
ECS_MANUAL_TRANSITIONS: dict[str, Any] = {
    "model_name": "ecs::task",
    "transition": {"progression": "manual", "times": 1_000_000},
}


class MotoServerError(RuntimeError):
    """The server did not start, died, or refused a control request."""


def _denies_only_plain_http(statement: Mapping[str, Any]) -> bool:
    """A Deny whose only condition is ``aws:SecureTransport = false`` (the TLS-only bucket policy)."""
    condition = statement.get("Condition") or {}
    if statement.get("Effect") != "Deny" or list(condition) != ["Bool"]:
        return False
    if list(condition["Bool"]) != ["aws:SecureTransport"]:
        return False
    values = condition["Bool"]["aws:SecureTransport"]
    values = values if isinstance(values, list) else [values]
    return all(str(value).lower() == "false" for value in values)


def treat_requests_as_tls() -> None:
    """Make moto's S3 bucket-policy check see every request as TLS.

    moto evaluates bucket policies for object requests but treats every condition it has no value
    for as satisfied, so the module's TLS-only statement (Deny s3:* when aws:SecureTransport is
    false) would deny every PutObject/GetObject, over HTTP or HTTPS. The sandbox stands in for
    AWS's HTTPS endpoints, so such statements are left out of the evaluation; all other statements
    are evaluated by moto as before.
    """
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(bucket: Any, action: str, resource: str) -> Any:
        if bucket.policy is None:
            return PermissionResult.NEUTRAL
        document = json.loads(bucket.policy)
        statements = document.get("Statement", [])
        statements = statements if isinstance(statements, list) else [statements]
        applicable = [statement for statement in statements if not _denies_only_plain_http(statement)]
        if not applicable:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps({**document, "Statement": applicable})).is_action_permitted(
            action, resource
        )

    FakeBucket.get_permission = get_permission  # type: ignore[assignment]


def serve(argv: list[str]) -> None:
    """Entry point of the server subprocess: moto's WSGI app after the patch, on the given port.

    With ``-p 0`` the operating system picks a free port while binding it, and the server writes the
    port to ``--port-file``: no other process can take it between choosing and binding.
    """
    import argparse
    import signal

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    parser = argparse.ArgumentParser(prog="python -m ecsrunner_sandbox.moto_server")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=0)
    parser.add_argument("--port-file", type=Path)
    args = parser.parse_args(argv)
    treat_requests_as_tls()
    server = make_server(args.host, args.port, DomainDispatcherApplication(create_backend_app), threaded=True)
    os.environ["MOTO_PORT"] = str(server.server_port)  # moto builds URLs (e.g. SQS queue URLs) from it
    if args.port_file is not None:
        partial = args.port_file.with_suffix(".partial")
        partial.write_text(str(server.server_port))
        partial.replace(args.port_file)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    finally:
        server.server_close()


def venv_python() -> str:
    """The project venv's interpreter (which has moto[server]), else the current one."""
    candidate = REPO_ROOT / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


@dataclass
class MotoServer:
    """Handle on a running server: its endpoint, control API and the environment boto3 needs."""

    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    region: str = "us-east-1"
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client_environment(self) -> dict[str, str]:
        """Variables that point boto3 (and the AWS CLI) at this server with dummy credentials."""
        return {
            **DUMMY_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }

    def log_tail(self, max_chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-max_chars:]
        except OSError:
            return ""

    def _request(self, path: str, payload: Mapping[str, Any] | None = None) -> bytes:
        data = None if payload is None else json.dumps(payload).encode()
        method = "GET" if payload is None else "POST"
        request = urllib.request.Request(f"{self.endpoint_url}{path}", data=data, method=method)  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (fixed 127.0.0.1 URL)
            body: bytes = response.read()
            return body

    def wait_until_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise MotoServerError(
                    f"moto server exited with {code} before it was ready:\n{self.log_tail()}"
                )
            try:
                self._request("/moto-api/data.json")
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise MotoServerError(
                        f"moto server on port {self.port} not ready after {timeout:.0f}s:\n{self.log_tail()}"
                    ) from None
                time.sleep(POLL_INTERVAL_SECONDS)

    def set_ecs_manual_transitions(self) -> None:
        self._request("/moto-api/state-manager/set-transition", ECS_MANUAL_TRANSITIONS)

    def reset(self) -> None:
        """Forget every resource; ECS task transitions stay manual."""
        self._request("/moto-api/reset", {})
        self.set_ecs_manual_transitions()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None


def start_moto_server(
    *,
    region: str = "us-east-1",
    load_managed_policies: bool = False,
    log_dir: Path | None = None,
    module: str = "ecsrunner_sandbox.moto_server",
    pythonpath: tuple[Path, ...] = (),
) -> MotoServer:
    """Start a server (``python -m <module>``, whose main calls :func:`serve`) and return once it
    answers; the caller must ``stop()`` it."""
    directory = log_dir or Path(tempfile.mkdtemp(prefix="moto-server-"))
    directory.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **DUMMY_CREDENTIALS, "AWS_DEFAULT_REGION": region}
    env.pop("AWS_ENDPOINT_URL", None)
    paths = [*map(str, pythonpath), str(DEVTOOLS_DIR), env.get("PYTHONPATH")]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
    if load_managed_policies:
        env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    server = _spawn(directory, env, region, module)
    try:
        server.wait_until_ready()
        server.set_ecs_manual_transitions()
    except BaseException:
        server.stop()
        raise
    return server


def _spawn(directory: Path, env: Mapping[str, str], region: str, module: str) -> MotoServer:
    fd, name = tempfile.mkstemp(prefix="moto-", suffix=".log", dir=directory)
    os.close(fd)
    log_path = Path(name)
    port_file = log_path.with_suffix(".port")
    log = log_path.open("wb")
    process = subprocess.Popen(  # noqa: S603 (fixed argv: our interpreter and a module of ours)
        [venv_python(), "-m", module, "-H", "127.0.0.1", "-p", "0", "--port-file", str(port_file)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dict(env),
        cwd=directory,
        start_new_session=True,  # Ctrl-C goes to the demo, which still needs moto to destroy
    )
    server = MotoServer(port=0, process=process, log_path=log_path, region=region, _log=log)
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not port_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise MotoServerError(f"moto server did not report its port:\n{server.log_tail()}")
        time.sleep(POLL_INTERVAL_SECONDS)
    server.port = int(port_file.read_text())
    return server


@contextmanager
def moto_server(
    *, region: str = "us-east-1", load_managed_policies: bool = False, log_dir: Path | None = None
) -> Iterator[MotoServer]:
    """A running server for the duration of the block; stopped afterwards even on errors."""
    server = start_moto_server(region=region, load_managed_policies=load_managed_policies, log_dir=log_dir)
    try:
        yield server
    finally:
        server.stop()


if __name__ == "__main__":
    serve(sys.argv[1:])
