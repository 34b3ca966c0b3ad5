"""Provision the AWS side of one deployment with boto3 (moto in-process or a moto server).

Mirrors what the Terraform module creates, for tests and benchmarks that need a deployment
without a `terraform apply`. The Terraform e2e tests prove the module itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
from ecsrunner_core.domain.classes import DEFAULT_CLASS_SIZES, ClassSizes
from ecsrunner_core.settings import Settings

CONTAINER = "runner"


@dataclass(frozen=True)
class Deployment:
    settings: Settings
    webhook_secret: str
    github_credentials: str
    account: str
    region: str


def _table(ddb: Any, name: str) -> None:
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "status", "AttributeType": "S"},
            {"AttributeName": "created_at", "AttributeType": "S"},
            {"AttributeName": "waiting", "AttributeType": "S"},
            {"AttributeName": "due_at", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "status-index",
                "KeySchema": [
                    {"AttributeName": "status", "KeyType": "HASH"},
                    {"AttributeName": "created_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "waiting-index",
                "KeySchema": [
                    {"AttributeName": "waiting", "KeyType": "HASH"},
                    {"AttributeName": "due_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
        ],
    )


def provision(
    session: boto3.Session,
    *,
    name: str = "ecsr",
    github_api_url: str = "http://127.0.0.1:9",
    github_credentials: str = '{"type": "pat", "token": "ghp_sandbox_token"}',
    webhook_secret: str = "sandbox-webhook-secret",  # noqa: S107 - a sandbox value, not a secret
    github_repo: str | None = "octo-org/octo-repo",
    github_org: str | None = None,
    class_sizes: ClassSizes = DEFAULT_CLASS_SIZES,
    **overrides: Any,
) -> Deployment:
    region = session.region_name or "us-east-1"
    account = session.client("sts").get_caller_identity()["Account"]
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=f"{name}-runners", Description="runners", VpcId=vpc)[
        "GroupId"
    ]

    table = f"{name}-runners"
    _table(session.client("dynamodb"), table)
    session.client("dynamodb").update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    param = f"/{name}/class-sizes"
    session.client("ssm").put_parameter(Name=param, Type="String", Value=json.dumps(class_sizes.to_json()))
    sm = session.client("secretsmanager")
    webhook_arn = sm.create_secret(Name=f"{name}/webhook-secret", SecretString=webhook_secret)["ARN"]
    github_arn = sm.create_secret(Name=f"{name}/github-credentials", SecretString=github_credentials)["ARN"]
    key = session.client("kms").create_key(Description=f"{name} runners")["KeyMetadata"]["Arn"]
    bucket = f"{name}-jit-{account}"
    s3 = session.client("s3")
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        location: Any = {"LocationConstraint": region}
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration=location)
    ecs = session.client("ecs")
    cluster = ecs.create_cluster(clusterName=f"{name}-runners")["cluster"]["clusterArn"]
    repo_url = session.client("ecr").create_repository(repositoryName=f"{name}-runner")["repository"][
        "repositoryUri"
    ]
    iam = session.client("iam")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    execution = iam.create_role(RoleName=f"{name}-execution", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    task_role = iam.create_role(RoleName=f"{name}-task", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    base = ecs.register_task_definition(
        family=f"{name}-runner",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="1024",
        memory="2048",
        executionRoleArn=execution,
        taskRoleArn=task_role,
        containerDefinitions=[
            {"name": CONTAINER, "image": f"{repo_url}:bootstrap", "essential": True, "memoryReservation": 512}
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    project = f"{name}-image-build"
    session.client("codebuild").create_project(
        name=project,
        source={"type": "S3", "location": f"{bucket}/runner-context.zip"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
        },
        serviceRole=execution,
    )
    values: dict[str, Any] = {
        "name": name,
        "runner_table": table,
        "class_sizes_param": param,
        "cluster_arn": cluster,
        "subnet_ids": (subnet,),
        "security_group_ids": (group,),
        "base_task_definition_arn": base,
        "execution_role_arn": execution,
        "task_role_arn": task_role,
        "ecr_repository_url": repo_url,
        "jit_bucket": bucket,
        "jit_kms_key_arn": key,
        "github_repo": github_repo,
        "github_org": github_org,
        "github_api_url": github_api_url,
        "github_credentials_secret_arn": github_arn,
        "webhook_secret_arn": webhook_arn,
        "codebuild_project_name": project,
        "build_context_digest": "sha256:sandbox",
    }
    values.update(overrides)
    return Deployment(Settings(**values), webhook_secret, github_credentials, account, region)


def push_image(session: boto3.Session, settings: Settings, tag: str) -> None:
    """Put a (fake) image under ``tag`` in the runner repository, as a finished build would."""
    repository = settings.ecr_repository_url.split("/", 1)[1]
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 7023,
                "digest": "sha256:" + "a" * 64,
            },
            "layers": [],
        }
    )
    session.client("ecr").put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag)
