"""``doctor``: is the deployment wired correctly? Each check says what is wrong and how to fix it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from ecsrunner_core.adapters.dynamodb_store import STATUS_INDEX
from ecsrunner_core.adapters.github.auth import AppAuth, CredentialsError, credentials_from_secret
from ecsrunner_core.domain.classes import ClassSizeError
from ecsrunner_core.ports import GitHubAuthError, GitHubError, GitHubNotFound
from ecsrunner_core.settings import Settings
from ecsrunner_core.wiring import Services

from ..context import Context
from ..failures import CliError, describe_failure
from ..webhook_delivery import deliver

TTL_ATTRIBUTE = "expires_at"
INDEX_KEYS = {"status": "HASH", "created_at": "RANGE"}
PING_TIMEOUT_SECONDS = 15.0
OK, FAIL, SKIP = "ok", "FAIL", "skip"


@dataclass(frozen=True)
class Finding:
    name: str
    outcome: str
    detail: str
    fix: str = ""


class _Doctor:
    def __init__(self, context: Context, settings: Settings, services: Services) -> None:
        self.context = context
        self.settings = settings
        self.services = services
        self.webhook_secret: bytes | None = None
        self.credentials_ok = False

    def _unexpected(self, exc: Exception) -> str:
        return describe_failure(exc, self.context.where()) or f"{type(exc).__name__}: {exc}"

    # --- checks ---------------------------------------------------------------------------

    def table(self) -> Finding:
        name = self.settings.runner_table
        reapply = "apply the Terraform module again (modules/control-plane creates the table)"
        db = self.services.client("dynamodb")
        try:
            table = db.describe_table(TableName=name)["Table"]
            ttl = db.describe_time_to_live(TableName=name).get("TimeToLiveDescription", {})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return Finding(
                    "runner table", FAIL, f"table {name} does not exist", f"check RUNNER_TABLE, or {reapply}"
                )
            raise
        index = next(
            (i for i in table.get("GlobalSecondaryIndexes", []) if i.get("IndexName") == STATUS_INDEX), None
        )
        keys = {k["AttributeName"]: k["KeyType"] for k in (index or {}).get("KeySchema", [])}
        if index is None or keys != INDEX_KEYS:
            return Finding(
                "runner table",
                FAIL,
                f"table {name} has no {STATUS_INDEX} GSI (hash status, range created_at)",
                reapply,
            )
        if (
            ttl.get("TimeToLiveStatus") not in {"ENABLED", "ENABLING"}
            or ttl.get("AttributeName") != TTL_ATTRIBUTE
        ):
            return Finding(
                "runner table",
                FAIL,
                f"table {name}: TTL is not enabled on {TTL_ATTRIBUTE}, so finished records are never removed",
                f"{reapply}, or: aws dynamodb update-time-to-live --table-name {name} "
                f"--time-to-live-specification Enabled=true,AttributeName={TTL_ATTRIBUTE}",
            )
        return Finding("runner table", OK, f"{name}: {STATUS_INDEX} GSI, TTL on {TTL_ATTRIBUTE}")

    def class_sizes(self) -> Finding:
        name = self.settings.class_sizes_param
        try:
            sizes = self.services.classes.load()
        except ClassSizeError as exc:
            return Finding(
                "class sizes",
                FAIL,
                f"parameter {name}: {exc}",
                "correct the Terraform variable class_sizes and apply (it writes the parameter)",
            )
        except ClientError as exc:
            return Finding("class sizes", FAIL, self._unexpected(exc), "check CLASS_SIZES_PARAM")
        return Finding("class sizes", OK, f"{name}: {', '.join(sizes.names())} (default {sizes.default})")

    def webhook_secret_readable(self) -> Finding:
        arn = self.settings.webhook_secret_arn
        if not arn:
            return Finding(
                "webhook secret", FAIL, "WEBHOOK_SECRET_ARN is not set", "set it or pass --terraform-dir"
            )
        try:
            secret = self.services.secrets.webhook_secret()
        except ClientError as exc:
            return Finding(
                "webhook secret",
                FAIL,
                self._unexpected(exc),
                f"check WEBHOOK_SECRET_ARN ({arn}) and IAM access",
            )
        if not secret.strip():
            return Finding(
                "webhook secret",
                FAIL,
                f"{arn} is empty",
                f"aws secretsmanager put-secret-value --secret-id {arn} --secret-string <the webhook secret>",
            )
        self.webhook_secret = secret
        return Finding("webhook secret", OK, f"{arn} is readable")

    def github_secret(self) -> Finding:
        arn = self.settings.github_credentials_secret_arn
        fix_value = (
            f'store {{"type": "pat", "token": "..."}} or {{"type": "app", "app_id": ..., '
            f'"private_key": "..."}} in {arn}'
        )
        if not arn:
            return Finding(
                "GitHub credentials",
                FAIL,
                "GITHUB_CREDENTIALS_SECRET_ARN is not set",
                "set it or pass --terraform-dir",
            )
        try:
            auth = credentials_from_secret(self.services.secrets.github_credentials())
        except ClientError as exc:
            return Finding(
                "GitHub credentials",
                FAIL,
                self._unexpected(exc),
                f"check GITHUB_CREDENTIALS_SECRET_ARN ({arn})",
            )
        except CredentialsError as exc:
            return Finding("GitHub credentials", FAIL, str(exc), fix_value)
        if isinstance(auth, AppAuth):
            installation = auth.installation_id or "looked up per scope"
            kind = f"GitHub App {auth.app_id} (installation {installation})"
        else:
            kind = "personal access token"
        self.credentials_ok = True
        return Finding("GitHub credentials", OK, f"{arn}: {kind}")

    def github_api(self) -> Finding:
        where = f"{self.settings.github_api_url} ({self.settings.scope})"
        if not self.credentials_ok:
            return Finding("GitHub API", SKIP, "not checked: the credentials secret is not usable")
        try:
            limits = self.services.github.rate_limit()
        except GitHubAuthError as exc:
            return Finding(
                "GitHub API", FAIL, f"{where}: {exc}", "renew the token or App key in the credentials secret"
            )
        except GitHubNotFound as exc:
            return Finding(
                "GitHub API", FAIL, f"{where}: {exc}", "check GITHUB_API_URL (GHES: https://HOST/api/v3)"
            )
        except (GitHubError, CredentialsError) as exc:
            return Finding("GitHub API", FAIL, f"{where}: {exc}", "check GITHUB_API_URL and the network")
        core = _core_limits(limits)
        return Finding("GitHub API", OK, f"{where}: {core}")

    def webhook(self) -> Finding:
        url = self.context.args.webhook_url or _text(self.context.config.outputs.get("webhook_url"))
        if not url:
            return Finding(
                "webhook URL",
                FAIL,
                "no webhook URL to check",
                "pass --webhook-url URL or --terraform-dir DIR",
            )
        if self.webhook_secret is None:
            return Finding("webhook URL", SKIP, f"{url}: not checked without the webhook secret")
        body = json.dumps(_ping(url)).encode()
        try:
            delivery = deliver(url, self.webhook_secret, body, event="ping", timeout=PING_TIMEOUT_SECONDS)
        except CliError as exc:
            return Finding("webhook URL", FAIL, str(exc), "check the URL (terraform output webhook_url)")
        if delivery.ok:
            return Finding("webhook URL", OK, f"{url}: signed ping answered HTTP {delivery.status}")
        if delivery.status == 401:
            return Finding(
                "webhook URL",
                FAIL,
                f"{url}: HTTP 401, the signature was refused",
                "the endpoint uses another secret than WEBHOOK_SECRET_ARN holds: check the deployment",
            )
        return Finding(
            "webhook URL",
            FAIL,
            f"{url}: signed ping answered HTTP {delivery.status}: {' '.join(delivery.body.split())[:200]}",
            "check the control plane function's logs",
        )


def _ping(url: str) -> dict[str, Any]:
    return {
        "zen": "Design for failure.",
        "hook_id": 0,
        "hook": {
            "type": "Repository",
            "id": 0,
            "active": True,
            "events": ["workflow_job"],
            "config": {"content_type": "json", "insecure_ssl": "0", "url": url},
        },
    }


def _core_limits(limits: Any) -> str:
    core = (limits.get("resources") or {}).get("core") or limits.get("rate") or {}
    if "remaining" in core and "limit" in core:
        return f"credentials work, {core['remaining']}/{core['limit']} core requests left this hour"
    return "credentials work"


def _text(value: Any) -> str:
    return str(value).strip() if value else ""


def doctor_command(context: Context) -> int:
    settings = context.deployment_settings("doctor")
    services = context.services(settings)
    doctor = _Doctor(context, settings, services)
    checks: list[Callable[[], Finding]] = [
        doctor.table,
        doctor.class_sizes,
        doctor.webhook_secret_readable,
        doctor.github_secret,
        doctor.github_api,
        doctor.webhook,
    ]
    console = context.console
    failures = 0
    for check in checks:
        try:
            finding = check()
        except Exception as exc:
            message = describe_failure(exc, context.where())
            if message is None:
                raise
            finding = Finding(check.__name__.replace("_", " "), FAIL, message)
        failures += finding.outcome != OK
        style = {OK: "green", FAIL: "red", SKIP: "yellow"}[finding.outcome]
        console.line(
            f"{console.paint(finding.outcome.ljust(4), style)}  {finding.name.ljust(18)}  {finding.detail}"
        )
        if finding.fix:
            console.line(f"{'':4}  {'':18}  fix: {finding.fix}")
    console.line()
    console.line(f"{len(checks) - failures} of {len(checks)} checks passed")
    return 0 if failures == 0 else 1
