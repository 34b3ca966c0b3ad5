"""Loopback HTTP servers for CLI tests: a webhook receiver and a Docker Engine API stand-in."""

from __future__ import annotations

import base64
import io
import json
import tarfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


Reply = tuple[int, bytes]
Answer = Callable[[Received], Reply]


@dataclass
class LoopbackServer:
    answer: Answer
    received: list[Received] = field(default_factory=list)
    url: str = ""


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        data = bytearray()
        while True:
            size = int(handler.rfile.readline().strip().split(b";")[0], 16)
            if size == 0:
                handler.rfile.readline()
                return bytes(data)
            data += handler.rfile.read(size)
            handler.rfile.readline()
    return handler.rfile.read(int(handler.headers.get("Content-Length") or 0))


@contextmanager
def serve(answer: Answer, *, chunked: bool = False) -> Iterator[LoopbackServer]:
    """A server on 127.0.0.1 that records every request and replies with ``answer(request)``."""
    state = LoopbackServer(answer)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            request = Received(
                self.command,
                unquote(parts.path),
                parse_qs(parts.query),
                {k.lower(): v for k, v in self.headers.items()},
                _read_body(self),
            )
            state.received.append(request)
            status, body = state.answer(request)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for line in body.splitlines(keepends=True):
                    self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        do_GET = do_POST = do_HEAD = _handle

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- Docker Engine API stand-in ---------------------------------------------------------------

ENGINE_API_VERSION = "1.45"


@dataclass
class DockerEngineStandIn:
    """The few Engine API endpoints ``images build --local`` uses, answered as dockerd streams them.

    ``on_push(repository, tag)`` plays the registry's part (the image appears in ECR).
    """

    on_push: Callable[[str, str], None]
    expected_auth: Mapping[str, str]
    fail_build: str | None = None
    built: list[dict[str, Any]] = field(default_factory=list)
    pushed: list[tuple[str, str]] = field(default_factory=list)

    def answer(self, request: Received) -> Reply:
        path = request.path.split("/", 2)[-1] if request.path.startswith("/v") else request.path.lstrip("/")
        if request.method == "GET" and path.endswith("version"):
            return 200, json.dumps({"ApiVersion": ENGINE_API_VERSION, "Version": "27.0.0"}).encode()
        if request.method == "POST" and path == "build":
            return self._build(request)
        if request.method == "POST" and path.startswith("images/") and path.endswith("/push"):
            return self._push(request, path.removeprefix("images/").removesuffix("/push"))
        return 404, json.dumps({"message": f"page not found: {request.method} {request.path}"}).encode()

    def _build(self, request: Received) -> Reply:
        with tarfile.open(fileobj=io.BytesIO(request.body)) as archive:
            names = archive.getnames()
        build = {
            "tag": request.query.get("t", [""])[0],
            "buildargs": json.loads(request.query.get("buildargs", ["{}"])[0]),
            "platform": request.query.get("platform", [""])[0],
            "files": names,
        }
        self.built.append(build)
        if self.fail_build:
            return 200, _lines({"stream": "Step 1/9 : ARG BASE_IMAGE\n"}, {"error": self.fail_build})
        return 200, _lines(
            {"stream": "Step 1/9 : ARG BASE_IMAGE=ubuntu:22.04\n"},
            {"stream": f"Successfully tagged {build['tag']}\n"},
            {"aux": {"ID": "sha256:" + "b" * 64}},
        )

    def _push(self, request: Received, repository: str) -> Reply:
        auth = json.loads(base64.urlsafe_b64decode(request.headers.get("x-registry-auth", "e30=") + "=="))
        if any(auth.get(key) != value for key, value in self.expected_auth.items()):
            return 200, _lines({"errorDetail": {"message": "no basic auth credentials"}, "error": "denied"})
        tag = request.query.get("tag", [""])[0]
        self.pushed.append((repository, tag))
        self.on_push(repository, tag)
        return 200, _lines(
            {"status": f"The push refers to repository [{repository}]"},
            {"status": "Pushed", "id": "5f70bf18a086"},
            {"status": f"{tag}: digest: sha256:{'c' * 64} size: 529"},
        )


def _lines(*chunks: Mapping[str, Any]) -> bytes:
    return b"".join(json.dumps(chunk).encode() + b"\n" for chunk in chunks)
