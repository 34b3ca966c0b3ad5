"""One warm Lambda "container": imports the handler once, then serves invocations one at a time.

Run by :mod:`lambda_host` under the function runtime's Python with only the function's code and
the runtime layer on ``sys.path`` (``python -S -P lambda_worker.py``). Standard library only.

Protocol: the host writes one JSON line per invocation on stdin (``request_id``,
``deadline_epoch_ms``, ``invoked_function_arn``, ``event``). Answers go, one JSON line each, to the
file descriptor that was stdout when the worker started (``ready`` or ``init_error`` first, then
``result`` or ``error`` per invocation). Everything the handler prints (Powertools writes JSON to
stdout) goes to stderr, which the host captures as the function's log, so logs cannot corrupt the
protocol. The log gets the START / END / REPORT lines Lambda writes.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import time
import traceback
from typing import IO, Any


class LambdaContext:
    """The context object of AWS's Python runtime (same attribute names and types)."""

    def __init__(self, request_id: str, deadline_epoch_ms: int, invoked_function_arn: str) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline_epoch_ms = deadline_epoch_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(int(self._deadline_epoch_ms - time.time() * 1000), 0)


def _error(exc: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__.tb_next if exc.__traceback__ else None),
    }


def _max_memory_mb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _log(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _send(channel: IO[str], message: dict[str, Any]) -> None:
    channel.write(json.dumps(message) + "\n")
    channel.flush()


def _load_handler(spec: str) -> Any:
    module_name, _, function_name = spec.rpartition(".")
    if not module_name:
        raise ValueError(f"handler {spec!r} is not module.function")
    return getattr(importlib.import_module(module_name), function_name)


def serve() -> int:
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # the handler's stdout is the function's log from here on
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    memory = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "?")
    started = time.monotonic()
    _log(f"INIT_START Runtime Version: python:{sys.version.split()[0]} Handler: {os.environ['_HANDLER']}")
    try:
        handler = _load_handler(os.environ["_HANDLER"])
    except Exception as exc:
        _log(f"[ERROR] Runtime.ImportModuleError: {exc}")
        _send(channel, {"type": "init_error", "error": _error(exc)})
        return 1
    init_ms = (time.monotonic() - started) * 1000
    _send(channel, {"type": "ready", "python": sys.version.split()[0], "init_ms": init_ms})

    first = True
    for line in sys.stdin:
        request = json.loads(line)
        request_id = request["request_id"]
        _log(f"START RequestId: {request_id} Version: $LATEST")
        context = LambdaContext(request_id, request["deadline_epoch_ms"], request["invoked_function_arn"])
        began = time.monotonic()
        message: dict[str, Any]
        try:
            result = handler(request["event"], context)
            message = {"type": "result", "result": json.loads(json.dumps(result))}
        except Exception as exc:
            error = _error(exc)
            _log(f"[ERROR] {error['errorType']}: {error['errorMessage']}")
            traceback.print_exc()
            message = {"type": "error", "error": error}
        duration_ms = (time.monotonic() - began) * 1000
        sys.stderr.flush()
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {int(duration_ms) + 1} ms\tMemory Size: {memory} MB\t"
            f"Max Memory Used: {_max_memory_mb()} MB"
        )
        if first:
            report += f"\tInit Duration: {init_ms:.2f} ms"
            first = False
        _log(f"END RequestId: {request_id}\n{report}")
        message.update(request_id=request_id, duration_ms=duration_ms)
        _send(channel, message)
    return 0


if __name__ == "__main__":
    sys.exit(serve())
