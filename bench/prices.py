"""List prices the cost model uses: AWS us-east-1 and GitHub, each with where it was read.

All read on 2026-11-23 from stored copies of the pages (no live web here). The official AWS pricing
pages render most rates in the browser, so where the stored official page shows no number the figure
was confirmed on a second page that quotes it (``confirmed_by``). Check the official page before
relying on a number: prices change.
"""

from __future__ import annotations

from dataclasses import dataclass

READ_ON = "2026-11-23"
REGION = "us-east-1"


@dataclass(frozen=True)
class Price:
    key: str
    what: str
    usd: float
    unit: str
    source: str
    confirmed_by: str = ""
    note: str = ""


_LAMBDA = "https://aws.amazon.com/lambda/pricing/"
_LAMBDA_CONFIRM = "https://app.unpkg.com/artillery@2.0.28/files/lib/platform/aws-lambda/prices.js"
_FARGATE = "https://aws.amazon.com/fargate/pricing/"
_FARGATE_CONFIRM = "https://www.vantage.sh/blog/fargate-pricing"
_GITHUB = "https://docs.github.com/en/billing/reference/actions-runner-pricing"

PRICES: dict[str, Price] = {
    price.key: price
    for price in (
        Price(
            "lambda_request",
            "Lambda requests",
            0.20 / 1e6,
            "per request ($0.20 per 1M)",
            _LAMBDA,
            "https://gist.github.com/thiagozs/019a25fbcbd987209ef1d25e10d0dde9",
        ),
        Price(
            "lambda_gb_second_x86",
            "Lambda duration, x86_64",
            0.0000166667,
            "per GB-second",
            _LAMBDA,
            _LAMBDA_CONFIRM,
        ),
        Price(
            "lambda_gb_second_arm",
            "Lambda duration, arm64",
            0.0000133334,
            "per GB-second",
            _LAMBDA,
            _LAMBDA_CONFIRM,
        ),
        Price(
            "http_api_request",
            "API Gateway HTTP API requests (first 300M/month)",
            1.00 / 1e6,
            "per request ($1.00 per 1M, 512 KB increments)",
            "https://aws.amazon.com/api-gateway/pricing/",
            "https://awsforengineers.com/blog/aws-api-gateway-pricing-explained",
        ),
        Price(
            "dynamodb_wru",
            "DynamoDB on-demand write request unit",
            0.625 / 1e6,
            "per WRU ($0.625 per 1M)",
            "https://aws.amazon.com/dynamodb/pricing/on-demand/",
            "https://airbyte.com/data-engineering-resources/dynamodb-pricing",
            "after the November 2024 on-demand price cut",
        ),
        Price(
            "dynamodb_rru",
            "DynamoDB on-demand read request unit",
            0.125 / 1e6,
            "per RRU ($0.125 per 1M)",
            "https://aws.amazon.com/dynamodb/pricing/on-demand/",
            "https://airbyte.com/data-engineering-resources/dynamodb-pricing",
        ),
        Price(
            "dynamodb_storage",
            "DynamoDB storage (Standard table class)",
            0.25,
            "per GB-month",
            "https://aws.amazon.com/dynamodb/pricing/on-demand/",
            "https://infratally.com/articles/aws-dynamodb-pricing-explained-on-demand-vs-provisioned-capacity-free-tier-2026/",
        ),
        Price(
            "eventbridge_aws_event",
            "EventBridge events from AWS services (ECS, CodeBuild, schedules)",
            0.0,
            "free",
            "https://aws.amazon.com/eventbridge/pricing/",
            "https://www.wring.co/blog/aws-eventbridge-pricing-guide",
            "custom events would be $1.00 per 1M; we publish none",
        ),
        Price(
            "s3_put",
            "S3 Standard PUT/COPY/POST/LIST",
            0.005 / 1000,
            "per request ($0.005 per 1,000)",
            "https://aws.amazon.com/s3/pricing/",
            "https://c3x.dev/blog/s3-request-fees-explained",
        ),
        Price(
            "s3_get",
            "S3 Standard GET",
            0.0004 / 1000,
            "per request ($0.0004 per 1,000)",
            "https://aws.amazon.com/s3/pricing/",
            "https://c3x.dev/blog/s3-request-fees-explained",
            "DELETE is free",
        ),
        Price(
            "secret_month",
            "Secrets Manager secret",
            0.40,
            "per secret-month",
            "https://aws.amazon.com/secrets-manager/pricing/",
            "https://hivebook.wiki/wiki/aws-secrets-manager-rotated-secrets-dynamic-db-credentials-kms",
        ),
        Price(
            "secret_call",
            "Secrets Manager API calls",
            0.05 / 10_000,
            "per call ($0.05 per 10,000)",
            "https://aws.amazon.com/secrets-manager/pricing/",
            "https://hivebook.wiki/wiki/aws-secrets-manager-rotated-secrets-dynamic-db-credentials-kms",
        ),
        Price(
            "kms_key_month",
            "KMS customer managed key",
            1.00,
            "per key-month",
            "https://aws.amazon.com/kms/pricing/",
            "https://www.wring.co/blog/aws-kms-pricing-guide",
        ),
        Price(
            "kms_request",
            "KMS requests (symmetric)",
            0.03 / 10_000,
            "per request ($0.03 per 10,000)",
            "https://aws.amazon.com/kms/pricing/",
            "https://www.wring.co/blog/aws-kms-pricing-guide",
        ),
        Price(
            "logs_ingest_gb",
            "CloudWatch Logs ingestion (standard)",
            0.50,
            "per GB",
            "https://aws.amazon.com/cloudwatch/pricing/",
            "https://go-cloud.io/aws-api-gateway-pricing",
        ),
        Price(
            "fargate_vcpu_x86", "Fargate Linux/x86 vCPU", 0.04048, "per vCPU-hour", _FARGATE, _FARGATE_CONFIRM
        ),
        Price(
            "fargate_gb_x86", "Fargate Linux/x86 memory", 0.004445, "per GB-hour", _FARGATE, _FARGATE_CONFIRM
        ),
        Price(
            "fargate_vcpu_arm", "Fargate Linux/ARM vCPU", 0.03238, "per vCPU-hour", _FARGATE, _FARGATE_CONFIRM
        ),
        Price(
            "fargate_gb_arm", "Fargate Linux/ARM memory", 0.00356, "per GB-hour", _FARGATE, _FARGATE_CONFIRM
        ),
        Price(
            "fargate_storage",
            "Fargate ephemeral storage above 20 GB",
            0.000111,
            "per GB-hour",
            _FARGATE,
            _FARGATE_CONFIRM,
        ),
        Price(
            "fargate_spot_discount",
            "Fargate Spot discount (x86 only)",
            0.70,
            "fraction off on-demand, at most",
            _FARGATE,
            "https://fortem.dev/fargate-spot/",
            "'up to a 70% discount'; the live Spot price moves (typically 50-70% off)",
        ),
        Price(
            "github_linux_2",
            "GitHub-hosted Linux 2-core (x64, standard)",
            0.006,
            "per minute",
            _GITHUB,
            note="January 1, 2026 onward; $0.008 before",
        ),
        Price("github_linux_4", "GitHub-hosted Linux 4-core (x64, larger)", 0.012, "per minute", _GITHUB),
        Price("github_linux_16", "GitHub-hosted Linux 16-core (x64, larger)", 0.042, "per minute", _GITHUB),
        Price("github_linux_2_arm", "GitHub-hosted Linux 2-core (arm64)", 0.005, "per minute", _GITHUB),
        Price("github_linux_4_arm", "GitHub-hosted Linux 4-core (arm64)", 0.008, "per minute", _GITHUB),
        Price("github_linux_16_arm", "GitHub-hosted Linux 16-core (arm64)", 0.026, "per minute", _GITHUB),
        Price(
            "github_self_hosted_platform",
            "GitHub Actions cloud platform charge, self-hosted runners",
            0.002,
            "per minute (private repositories)",
            "https://github.com/github/docs/blob/main/content/billing/reference/actions-runner-pricing.md",
            "https://tenki.cloud/blog/github-actions-runner-pricing-2026",
            "announced for March 2026, then postponed; the current docs page no longer lists it",
        ),
    )
}


def price(key: str) -> float:
    return PRICES[key].usd
