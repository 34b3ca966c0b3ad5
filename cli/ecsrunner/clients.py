"""The one factory for AWS clients: a boto3 session (region, profile) and the core's Services.

boto3 honours ``AWS_ENDPOINT_URL`` (and per-service ``AWS_ENDPOINT_URL_<SERVICE>``) by itself,
so a moto server or LocalStack needs no code here.
"""

from __future__ import annotations

import boto3
from ecsrunner_core.settings import Settings
from ecsrunner_core.wiring import Services

# An operator waits for one answer: retry GitHub a little longer than a webhook invocation does.
GITHUB_BUDGET_SECONDS = 10.0


def new_session(region: str | None, profile: str | None) -> boto3.Session:
    return boto3.Session(region_name=region, profile_name=profile)


def make_services(settings: Settings, *, region: str | None, profile: str | None) -> Services:
    return Services(settings, new_session(region, profile), github_budget_seconds=GITHUB_BUDGET_SECONDS)
