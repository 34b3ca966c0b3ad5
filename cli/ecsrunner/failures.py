"""Errors the CLI reports as one line on stderr (exit 1), never as a traceback."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)
from ecsrunner_core.adapters.github.auth import CredentialsError
from ecsrunner_core.domain.classes import ClassSizeError
from ecsrunner_core.domain.image_ref import ImageReferenceError
from ecsrunner_core.ports import GitHubError
from ecsrunner_core.settings import SettingsError
from ecsrunner_core.usecases.operator import UnknownRunner
from ecsrunner_core.usecases.prebuild import PrebuildRefused

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

_DYNAMODB_OPERATIONS = frozenset(
    {"Query", "Scan", "GetItem", "PutItem", "DeleteItem", "UpdateItem", "TransactWriteItems", "DescribeTable"}
)
_CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
    }
)


class CliError(Exception):
    """A failure with a message meant for the operator as it is."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Where:
    """What the failing command was configured with, to say what to check."""

    table: str = ""
    parameter: str = ""
    region: str = ""
    source: str = "environment"

    @property
    def check(self) -> str:
        return "--terraform-dir" if self.source != "environment" else ""


def describe_failure(exc: BaseException, where: Where) -> str | None:
    """One line for an error the operator can fix; None for anything else (a bug)."""
    if isinstance(exc, CliError | UnknownRunner | PrebuildRefused | CredentialsError):
        return str(exc)
    if isinstance(exc, SettingsError):
        hint = (
            "check the Terraform outputs" if where.source != "environment" else "or pass --terraform-dir DIR"
        )
        return f"configuration: {exc} ({hint})"
    if isinstance(exc, ClassSizeError):
        return f"class sizes parameter {where.parameter}: {exc}"
    if isinstance(exc, ImageReferenceError):
        return str(exc)
    if isinstance(exc, GitHubError):
        return f"GitHub: {exc}"
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return "no AWS credentials: pass --profile, or set AWS_PROFILE or AWS_ACCESS_KEY_ID and its secret"
    if isinstance(exc, NoRegionError):
        return "no AWS region: pass --region, or set AWS_REGION"
    if isinstance(exc, ProfileNotFound):
        return f"{exc}: check --profile / AWS_PROFILE"
    if isinstance(exc, EndpointConnectionError):
        return f"{exc}: check the network, --region and AWS_ENDPOINT_URL"
    if isinstance(exc, ClientError):
        return _client_error(exc, where)
    if isinstance(exc, BotoCoreError):
        return f"AWS: {exc}"
    return None


def _client_error(exc: ClientError, where: Where) -> str:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    message = str(error.get("Message", "")).strip()
    operation = exc.operation_name
    region = where.region or "the configured region"
    also = f" / {where.check}" if where.check else ""
    if code == "ResourceNotFoundException" and operation in _DYNAMODB_OPERATIONS:
        return f"table {where.table} not found in region {region}: check RUNNER_TABLE{also}"
    if code == "ParameterNotFound":
        return f"parameter {where.parameter} not found in region {region}: check CLASS_SIZES_PARAM{also}"
    if code in _CREDENTIAL_CODES:
        return f"AWS refused the credentials ({code}): {message}"
    if code in {"AccessDenied", "AccessDeniedException"}:
        return f"AWS denied {operation}: {message}"
    return f"AWS {operation} failed: {code}: {message}"
