"""The deployed HTTP API on 127.0.0.1: routes read back from API Gateway, payload 2.0 events.

A request is matched against the deployed routes as API Gateway does (``METHOD /path``, then
``ANY /path``, then ``$default``; no match is API Gateway's own 404), turned into the payload
format 2.0 event (built from AWS's documented example), and the integration's Lambda function
answers it.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .lambda_host import Invocation

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "aws"
HTTP_API_EXAMPLE = FIXTURES / "apigateway" / "http-api.v2.docs.json"
TEXT_TYPES = ("text/", "application/json", "application/x-www-form-urlencoded", "application/xml")
# Fields of the documented example that only exist with an authorizer, mTLS, cookies or stage variables.
ABSENT_UNLESS_USED = ("cookies", "pathParameters", "stageVariables", "queryStringParameters")


@dataclass(frozen=True)
class Route:
    route_key: str  # "POST /webhook", "ANY /x", "$default"
    function: str  # the integration's Lambda (name or ARN)
    payload_format: str


@dataclass(frozen=True)
class HttpApi:
    api_id: str
    api_endpoint: str
    account: str
    region: str
    routes: tuple[Route, ...]

    def match(self, method: str, path: str) -> Route | None:
        by_key = {route.route_key: route for route in self.routes}
        return by_key.get(f"{method} {path}") or by_key.get(f"ANY {path}") or by_key.get("$default")


def function_of_integration_uri(uri: str) -> str:
    """``arn:aws:apigateway:r:lambda:path/2015-03-31/functions/<function arn>/invocations`` -> ARN."""
    if "/functions/" in uri:
        return uri.split("/functions/", 1)[1].removesuffix("/invocations")
    return uri


def read_http_api(client: Any, api_id: str, *, account: str, region: str) -> HttpApi:
    api = client.get_api(ApiId=api_id)
    routes = []
    for item in client.get_routes(ApiId=api_id)["Items"]:
        target = item.get("Target", "")
        if not target.startswith("integrations/"):
            continue
        integration = client.get_integration(ApiId=api_id, IntegrationId=target.split("/", 1)[1])
        if integration.get("IntegrationType") != "AWS_PROXY":
            continue
        routes.append(
            Route(
                item["RouteKey"],
                function_of_integration_uri(integration["IntegrationUri"]),
                integration.get("PayloadFormatVersion", "1.0"),
            )
        )
    return HttpApi(api_id, api.get("ApiEndpoint", ""), account, region, tuple(routes))


def find_http_api(client: Any, *, route_key: str, account: str, region: str) -> HttpApi:
    """The deployed HTTP API that has ``route_key`` (the sandbox deploys exactly one)."""
    for api in client.get_apis()["Items"]:
        if api.get("ProtocolType") != "HTTP":
            continue
        found = read_http_api(client, api["ApiId"], account=account, region=region)
        if any(route.route_key == route_key for route in found.routes):
            return found
    raise LookupError(f"no deployed HTTP API has a route {route_key!r}")


def http_api_event(
    api: HttpApi,
    route: Route,
    *,
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    source_ip: str,
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway sends for this request."""
    event: dict[str, Any] = copy.deepcopy(json.loads(HTTP_API_EXAMPLE.read_text("utf-8")))
    for name in ABSENT_UNLESS_USED:
        event.pop(name, None)
    parts = urlsplit(target)
    lowered: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
    now = datetime.now(UTC)
    domain = urlsplit(api.api_endpoint).hostname or f"{api.api_id}.execute-api.{api.region}.amazonaws.com"
    lowered.update(
        {
            "host": domain,
            "x-amzn-trace-id": f"Root=1-{int(now.timestamp()):08x}-{uuid.uuid4().hex[:24]}",
            "x-forwarded-for": source_ip,
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        }
    )
    content_type = lowered.get("content-type", "")
    as_text = not body or content_type.startswith(TEXT_TYPES)
    if as_text:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            as_text = False
    event.update(
        routeKey=route.route_key,
        rawPath=parts.path,
        rawQueryString=parts.query,
        headers=lowered,
        body=text if as_text else base64.b64encode(body).decode(),
        isBase64Encoded=not as_text,
    )
    if parts.query:
        query: dict[str, str] = {}
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            query[name] = f"{query[name]},{value}" if name in query else value
        event["queryStringParameters"] = query
    context = event["requestContext"]
    for name in ("authentication", "authorizer"):
        context.pop(name, None)
    context.update(
        accountId=api.account,
        apiId=api.api_id,
        domainName=domain,
        domainPrefix=domain.split(".", 1)[0],
        requestId=base64.b32encode(uuid.uuid4().bytes[:10]).decode().rstrip("=")[:16],
        routeKey=route.route_key,
        stage="$default",
        time=now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        timeEpoch=int(now.timestamp() * 1000),
    )
    context["http"] = {
        "method": method,
        "path": parts.path,
        "protocol": "HTTP/1.1",
        "sourceIp": source_ip,
        "userAgent": lowered.get("user-agent", ""),
    }
    return event


@dataclass(frozen=True)
class GatewayResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def gateway_response(invocation: Invocation) -> GatewayResponse:
    """API Gateway's mapping of a payload 2.0 function result (or error) to the HTTP response."""
    if not invocation.ok:
        return GatewayResponse(
            500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}'
        )
    result = invocation.result
    if not isinstance(result, dict) or "statusCode" not in result:
        # Without statusCode, API Gateway infers a 200 JSON response from the returned value.
        return GatewayResponse(200, {"content-type": "application/json"}, json.dumps(result).encode())
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    return GatewayResponse(int(result["statusCode"]), headers, data)


@dataclass(frozen=True)
class GatewayExchange:
    """One request through the gateway, for the demo's log."""

    method: str
    path: str
    status: int
    request_headers: Mapping[str, str]
    response_body: bytes
    invocation: Invocation | None
    at: float


class WebhookGateway:
    """Serves an :class:`HttpApi` on 127.0.0.1:<free port>; ``invoke(function, event)`` runs a function."""

    def __init__(self, api: HttpApi, invoke: Callable[[str, dict[str, Any]], Invocation]) -> None:
        self.api = api
        self._invoke = invoke
        self.exchanges: list[GatewayExchange] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        handler = type("GatewayHandler", (_GatewayHandler,), {"gateway": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="webhook-gateway",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def origin(self) -> str:
        if self._server is None:
            raise RuntimeError("the webhook gateway is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def handle(
        self, method: str, target: str, headers: Sequence[tuple[str, str]], body: bytes, source_ip: str
    ) -> GatewayResponse:
        path = urlsplit(target).path
        route = self.api.match(method, path)
        invocation: Invocation | None = None
        if route is None:
            response = GatewayResponse(404, {"content-type": "application/json"}, b'{"message":"Not Found"}')
        else:
            event = http_api_event(
                self.api, route, method=method, target=target, headers=headers, body=body, source_ip=source_ip
            )
            invocation = self._invoke(route.function, event)
            response = gateway_response(invocation)
        exchange = GatewayExchange(
            method,
            path,
            response.status,
            {k.lower(): v for k, v in headers},
            response.body,
            invocation,
            time.time(),
        )
        with self._lock:
            self.exchanges.append(exchange)
        return response


class _GatewayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    gateway: WebhookGateway

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        response = self.gateway.handle(
            self.command, self.path, list(self.headers.items()), body, self.client_address[0]
        )
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        return None
