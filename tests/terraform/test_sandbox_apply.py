"""terraform apply of examples/sandbox (the real root module) against a moto server.

One apply, checks of what it created (read back from moto with boto3), a plan that must show no
changes, then destroy. It is one test, so no test scheduler can split the deployment: each check
runs even when an earlier one failed, and the test reports every failed check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from ecsrunner_core.domain.names import REBUILD_TAG_PREFIX
from ecsrunner_core.usecases.image_refresh import REBUILD_EVENT
from ecsrunner_sandbox.moto_server import MotoServer, moto_server
from ecsrunner_sandbox.terraform import Terraform, stage_configuration
from metric_references import alarm_references, dashboard_references, emitted_metrics, mismatches

pytestmark = pytest.mark.e2e

# boto3's stubs type client() per literal service name; the deployment passes names as variables.
CLIENT_FACTORY: Callable[..., Any] = boto3.client
REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "aws" / "events"
NAME = "ecsrunner-sandbox"
# Actions AWS only grants on "*" (no resource-level permissions), each commented in the module.
STAR_RESOURCE_ACTIONS = {
    "ecr:GetAuthorizationToken",
    "ecs:RegisterTaskDefinition",
    "ecs:DescribeTaskDefinition",
    "ecs:ListTasks",
}
# Environment variables documented in docs/DESIGN.md that the module leaves out when empty.
OPTIONAL_ENVIRONMENT = {
    "GITHUB_REPO",
    "GITHUB_ORG",
    "RUNNER_EXTRA_LABELS",
    "ALLOWED_BASE_IMAGES",
    "WEBHOOK_HOOK_ID",
}


@dataclass
class Deployment:
    server: MotoServer
    terraform: Terraform
    outputs: dict[str, Any]
    destroyed: bool = False
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = CLIENT_FACTORY(
                service,
                endpoint_url=self.server.endpoint_url,
                region_name=self.server.region,
                aws_access_key_id="test",
                aws_secret_access_key="test",
            )
        return self._clients[service]


@contextmanager
def sandbox_deployment(workdir: Path) -> Iterator[Deployment]:
    """Apply examples/sandbox to a fresh moto server; destroy on the way out unless already done."""
    with moto_server(log_dir=workdir) as server:
        staged = stage_configuration(workdir / "configuration")
        terraform = Terraform(staged / "examples" / "sandbox")
        terraform.write_variables(
            {
                "aws_endpoint_url": server.endpoint_url,
                "lambda_zip_path": str(staged / "dist" / "lambda.zip"),
                "runner_context_zip_path": str(staged / "dist" / "runner-context.zip"),
            }
        )
        terraform.init()
        terraform.apply()
        deployed = Deployment(server, terraform, terraform.outputs())
        try:
            yield deployed
        finally:
            if not deployed.destroyed:
                terraform.destroy()


def design_environment() -> set[str]:
    """Variable names in the 'Environment of both functions' table of docs/DESIGN.md."""
    text = (REPO_ROOT / "docs" / "DESIGN.md").read_text()
    section = text.split("## Environment of both functions", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names


def statements(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, str):
        document = json.loads(document)
    found = document["Statement"]
    return found if isinstance(found, list) else [found]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_policies(iam: Any, role_name: str) -> list[dict[str, Any]]:
    """Statements of every inline and attached policy of a role."""
    found: list[dict[str, Any]] = []
    for policy_name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        found += statements(iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"])
    for attached in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(
            PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"]
        )
        found += statements(version["PolicyVersion"]["Document"])
    return found


def allows(policy: list[dict[str, Any]], action: str, resource: str) -> bool:
    """Whether an Allow statement names the action and a resource pattern covering the resource."""
    for statement in policy:
        if statement["Effect"] != "Allow":
            continue
        actions = as_list(statement["Action"])
        resources = as_list(statement.get("Resource", []))
        action_hit = any(re.fullmatch(re.escape(a).replace(r"\*", ".*"), action) for a in actions)
        resource_hit = any(re.fullmatch(re.escape(r).replace(r"\*", ".*"), resource) for r in resources)
        if action_hit and resource_hit:
            return True
    return False


def check_runner_table_has_the_status_index_ttl_pitr_and_kms(deployment: Deployment) -> None:
    dynamodb = deployment.client("dynamodb")
    table = dynamodb.describe_table(TableName=deployment.outputs["runner_table_name"])["Table"]

    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"status-index", "waiting-index"}
    assert indexes["status-index"]["KeySchema"] == [
        {"AttributeName": "status", "KeyType": "HASH"},
        {"AttributeName": "created_at", "KeyType": "RANGE"},
    ]
    assert indexes["waiting-index"]["KeySchema"] == [
        {"AttributeName": "waiting", "KeyType": "HASH"},
        {"AttributeName": "due_at", "KeyType": "RANGE"},
    ]
    assert all(index["Projection"]["ProjectionType"] == "ALL" for index in indexes.values())
    assert table["SSEDescription"]["SSEType"] == "KMS"
    assert table["SSEDescription"]["KMSMasterKeyArn"] == deployment.outputs["kms_key_arn"]
    ttl = dynamodb.describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"]
    assert (ttl["AttributeName"], ttl["TimeToLiveStatus"]) == ("expires_at", "ENABLED")
    backups = dynamodb.describe_continuous_backups(TableName=table["TableName"])[
        "ContinuousBackupsDescription"
    ]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def check_functions_get_the_design_environment_and_no_secret(deployment: Deployment) -> None:
    lambda_client = deployment.client("lambda")
    secrets = deployment.client("secretsmanager")
    outputs = deployment.outputs
    secret_values = [
        secrets.get_secret_value(SecretId=outputs["webhook_secret_arn"])["SecretString"],
        json.loads(
            secrets.get_secret_value(SecretId=outputs["github_credentials_secret_arn"])["SecretString"]
        )["token"],
    ]
    control_plane = lambda_client.get_function_configuration(
        FunctionName=outputs["control_plane_function_name"]
    )
    janitor = lambda_client.get_function_configuration(FunctionName=outputs["janitor_function_name"])
    environment = control_plane["Environment"]["Variables"]
    documented = design_environment()

    assert (control_plane["Handler"], janitor["Handler"]) == (
        "ecsrunner_lambda.control_plane.handler",
        "ecsrunner_lambda.janitor.handler",
    )
    assert control_plane["Runtime"] == janitor["Runtime"] == "python3.13"
    assert (control_plane["Timeout"], control_plane["MemorySize"]) == (30, 512)
    assert (janitor["Timeout"], janitor["MemorySize"]) == (300, 512)
    assert control_plane["KMSKeyArn"] == janitor["KMSKeyArn"] == outputs["kms_key_arn"]
    assert janitor["Environment"]["Variables"] == environment
    assert documented - OPTIONAL_ENVIRONMENT <= set(environment), "documented variables missing"
    assert set(environment) <= documented, f"undocumented variables: {set(environment) - documented}"
    assert environment["GITHUB_REPO"] == "octo-org/octo-repo" and "GITHUB_ORG" not in environment
    assert environment["WEBHOOK_SECRET_ARN"] == outputs["webhook_secret_arn"]
    assert environment["ECS_CLUSTER_ARN"] == outputs["cluster_arn"]
    assert environment["BASE_TASK_DEFINITION_ARN"] == outputs["base_task_definition_arn"]
    assert all(secret not in value for secret in secret_values for value in environment.values())
    assert set(outputs["cli_environment"].items()) - set(environment.items()) == {("AWS_REGION", "us-east-1")}


def check_terraform_outputs_print_no_secret(deployment: Deployment) -> None:
    printed = deployment.terraform.run("output", "-json").stdout + deployment.terraform.run("output").stdout
    secrets = deployment.client("secretsmanager")
    webhook_secret = secrets.get_secret_value(SecretId=deployment.outputs["webhook_secret_arn"])[
        "SecretString"
    ]
    credentials = secrets.get_secret_value(SecretId=deployment.outputs["github_credentials_secret_arn"])

    assert webhook_secret not in printed
    assert json.loads(credentials["SecretString"])["token"] not in printed
    for arn in (
        deployment.outputs["webhook_secret_arn"],
        deployment.outputs["github_credentials_secret_arn"],
    ):
        assert secrets.describe_secret(SecretId=arn)["KmsKeyId"] == deployment.outputs["kms_key_arn"]


def check_class_sizes_parameter_holds_the_documented_json(deployment: Deployment) -> None:
    parameter = deployment.client("ssm").get_parameter(Name=deployment.outputs["class_sizes_parameter_name"])
    document = json.loads(parameter["Parameter"]["Value"])

    assert parameter["Parameter"]["Type"] == "String"
    assert document["default"] == "medium"
    assert document["classes"]["arm"] == {
        "cpu": 1024,
        "memory": 2048,
        "spot": False,
        "architecture": "arm64",
        "ephemeral_storage_gib": None,
    }
    assert set(document["classes"]) == {"small", "medium", "large", "arm", "spot"}


def check_webhook_route_is_post_webhook_with_payload_2(deployment: Deployment) -> None:
    api_client = deployment.client("apigatewayv2")
    (api,) = [api for api in api_client.get_apis()["Items"] if api["Name"] == f"{NAME}-webhook"]
    routes = api_client.get_routes(ApiId=api["ApiId"])["Items"]
    (integration,) = api_client.get_integrations(ApiId=api["ApiId"])["Items"]
    stage = api_client.get_stage(ApiId=api["ApiId"], StageName="$default")
    function_arn = deployment.client("lambda").get_function(
        FunctionName=deployment.outputs["control_plane_function_name"]
    )["Configuration"]["FunctionArn"]
    permission = statements(
        deployment.client("lambda").get_policy(
            FunctionName=deployment.outputs["control_plane_function_name"]
        )["Policy"]
    )

    assert [route["RouteKey"] for route in routes] == ["POST /webhook"]
    assert routes[0]["Target"] == f"integrations/{integration['IntegrationId']}"
    assert (integration["IntegrationType"], integration["PayloadFormatVersion"]) == ("AWS_PROXY", "2.0")
    assert function_arn in integration["IntegrationUri"]
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 512
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == 256
    assert stage["AccessLogSettings"]["DestinationArn"].endswith(f"log-group:/aws/apigateway/{NAME}-webhook")
    assert deployment.outputs["webhook_url"].endswith("/webhook")
    assert "//webhook" not in deployment.outputs["webhook_url"]
    (api_permission,) = [s for s in permission if s["Principal"] == {"Service": "apigateway.amazonaws.com"}]
    assert api_permission["Condition"]["ArnLike"]["AWS:SourceArn"].endswith("/*/POST/webhook")


def check_event_rules_match_only_this_cluster_and_this_project(deployment: Deployment) -> None:
    from moto.events.models import EventPattern

    events = deployment.client("events")
    rules = {rule["Name"]: rule for rule in events.list_rules(NamePrefix=f"{NAME}-")["Rules"]}
    ecs_pattern = EventPattern.load(rules[f"{NAME}-ecs-task-state"]["EventPattern"])
    build_pattern = EventPattern.load(rules[f"{NAME}-codebuild-state"]["EventPattern"])
    task_event: Any = json.loads((FIXTURES / "ecs-task-state-change.running.docs.json").read_text())
    build_event: Any = json.loads((FIXTURES / "codebuild-build-state-change.succeeded.docs.json").read_text())
    ours_task: Any = {
        **task_event,
        "detail": {**task_event["detail"], "clusterArn": deployment.outputs["cluster_arn"]},
    }
    ours_build: Any = {
        **build_event,
        "detail": {**build_event["detail"], "project-name": deployment.outputs["codebuild_project_name"]},
    }

    assert ecs_pattern.matches_event(ours_task)
    assert not ecs_pattern.matches_event(task_event), "an event of another cluster must not match"
    assert not ecs_pattern.matches_event(ours_build)
    assert build_pattern.matches_event(ours_build)
    assert not build_pattern.matches_event(build_event), "an event of another project must not match"
    assert rules[f"{NAME}-janitor-schedule"]["ScheduleExpression"] == "rate(5 minutes)"
    # Scheduled image rebuilds (image_rebuild_schedule, default weekly): the janitor function with
    # the input its handler dispatches on (REBUILD_EVENT).
    assert rules[f"{NAME}-image-rebuild"]["ScheduleExpression"] == "rate(7 days)"
    (rebuild,) = events.list_targets_by_rule(Rule=f"{NAME}-image-rebuild")["Targets"]
    assert json.loads(rebuild["Input"]) == REBUILD_EVENT


def check_event_targets_retry_and_dead_letter_to_the_queue(deployment: Deployment) -> None:
    events = deployment.client("events")
    lambda_client = deployment.client("lambda")
    queue_url = deployment.outputs["dead_letter_queue_url"]
    queue_arn = deployment.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    expected_function = {
        "ecs-task-state": deployment.outputs["control_plane_function_name"],
        "codebuild-state": deployment.outputs["control_plane_function_name"],
        "janitor-schedule": deployment.outputs["janitor_function_name"],
        "image-rebuild": deployment.outputs["janitor_function_name"],
    }

    for suffix, function_name in expected_function.items():
        (target,) = events.list_targets_by_rule(Rule=f"{NAME}-{suffix}")["Targets"]
        assert target["Arn"].endswith(f":function:{function_name}")
        assert target["DeadLetterConfig"]["Arn"] == queue_arn
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    for function_name in set(expected_function.values()):
        config = lambda_client.get_function_event_invoke_config(FunctionName=function_name)
        assert config["DestinationConfig"]["OnFailure"]["Destination"] == queue_arn
    queue = deployment.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])[
        "Attributes"
    ]
    assert queue["KmsMasterKeyId"] == deployment.outputs["kms_key_arn"]
    (send,) = [s for s in statements(queue["Policy"]) if s["Effect"] == "Allow"]
    rule_arns = {rule["Arn"] for rule in events.list_rules(NamePrefix=f"{NAME}-")["Rules"]}
    assert send["Principal"] == {"Service": "events.amazonaws.com"}
    assert set(as_list(send["Condition"]["ArnEquals"]["aws:SourceArn"])) == rule_arns


def check_jit_bucket_is_private_tls_only_encrypted_and_expires_in_a_day(deployment: Deployment) -> None:
    s3 = deployment.client("s3")
    bucket = deployment.outputs["jit_bucket_name"]
    (deny,) = statements(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    (encryption,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]

    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "s3:*")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(as_list(deny["Resource"])) == {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"}
    assert all(block.values()) and len(block) == 4
    assert encryption["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": deployment.outputs["kms_key_arn"],
    }
    assert encryption["BucketKeyEnabled"] is True
    assert rule["Status"] == "Enabled" and rule["Expiration"] == {"Days": 1}
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


def check_fleet_cluster_task_definition_and_repository(deployment: Deployment) -> None:
    ecs = deployment.client("ecs")
    ecr = deployment.client("ecr")
    (cluster,) = ecs.describe_clusters(clusters=[deployment.outputs["cluster_arn"]])["clusters"]
    definition = ecs.describe_task_definition(taskDefinition=deployment.outputs["base_task_definition_arn"])[
        "taskDefinition"
    ]
    (container,) = definition["containerDefinitions"]
    repository_name = deployment.outputs["ecr_repository_url"].split("/", 1)[1]
    (repository,) = ecr.describe_repositories(repositoryNames=[repository_name])["repositories"]

    assert set(cluster["capacityProviders"]) == {"FARGATE", "FARGATE_SPOT"}
    assert definition["family"] == f"{NAME}-runner"
    assert definition["requiresCompatibilities"] == ["FARGATE"] and definition["networkMode"] == "awsvpc"
    assert definition["executionRoleArn"] == deployment.outputs["execution_role_arn"]
    assert definition["taskRoleArn"] == deployment.outputs["task_role_arn"]
    assert container["name"] == "runner"
    assert container["image"] == f"{deployment.outputs['ecr_repository_url']}:bootstrap"
    assert container["memoryReservation"] > 0 and container["stopTimeout"] == 120
    assert (
        container["logConfiguration"]["options"]["awslogs-group"]
        == deployment.outputs["runner_log_group_name"]
    )
    assert not container.get("environment") and not container.get("secrets")
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["imageScanningConfiguration"]["scanOnPush"] is True
    assert repository["encryptionConfiguration"]["encryptionType"] == "KMS"
    lifecycle = json.loads(ecr.get_lifecycle_policy(repositoryName=repository_name)["lifecyclePolicyText"])
    untagged, rebuilt = lifecycle["rules"]
    assert untagged["selection"]["tagStatus"] == "untagged"
    # Scheduled rebuilds expire by age (image_rebuild_retention_days); first builds are kept.
    assert rebuilt["selection"] == {
        "tagStatus": "tagged",
        "tagPrefixList": [REBUILD_TAG_PREFIX],
        "countType": "sinceImagePushed",
        "countUnit": "days",
        "countNumber": 30,
    }
    assert rebuilt["action"] == {"type": "expire"}


def check_iam_is_least_privilege(deployment: Deployment) -> None:
    iam = deployment.client("iam")
    outputs = deployment.outputs
    roles = [
        role["RoleName"] for role in iam.list_roles()["Roles"] if role["RoleName"].startswith(f"{NAME}-")
    ]
    policies = {role: role_policies(iam, role) for role in roles}
    jit_object = f"arn:aws:s3:::{outputs['jit_bucket_name']}/jit/some-runner.env"
    passed_roles = {outputs["execution_role_arn"], outputs["task_role_arn"]}
    wakeup_role = iam.get_role(RoleName=f"{NAME}-wakeup")["Role"]["Arn"]
    janitor_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{NAME}-janitor"

    assert set(roles) == {
        f"{NAME}-control-plane",
        f"{NAME}-janitor",
        f"{NAME}-runner-execution",
        f"{NAME}-runner-task",
        f"{NAME}-image-build",
        f"{NAME}-wakeup",
    }
    for role, policy in policies.items():
        for statement in policy:
            assert statement["Effect"] == "Allow", f"{role}: unexpected {statement}"
            actions = set(as_list(statement["Action"]))
            assert not any(action == "*" or action.endswith(":*") for action in actions), f"{role}: {actions}"
            if "*" in as_list(statement["Resource"]):
                assert actions <= STAR_RESOURCE_ACTIONS, f"{role}: {actions} on *"
            if "ecs:ListTasks" in actions:
                assert statement["Condition"]["ArnEquals"]["ecs:cluster"] == outputs["cluster_arn"]
            if "iam:PassRole" in actions and as_list(statement["Resource"]) == [wakeup_role]:
                # The one-time schedule that wakes the janitor when a GitHub pause ends.
                assert statement["Condition"] == {
                    "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}
                }
            elif "iam:PassRole" in actions:
                assert set(as_list(statement["Resource"])) == passed_roles
                assert statement["Condition"] == {
                    "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
                }
            if actions & {"scheduler:CreateSchedule", "scheduler:UpdateSchedule"}:
                schedule = f"arn:aws:scheduler:us-east-1:123456789012:schedule/default/{NAME}-resume-launches"
                assert as_list(statement["Resource"]) == [schedule]
    assert policies[f"{NAME}-runner-task"] == [], "the task role gets no permissions by default"
    readers = {role for role, policy in policies.items() if allows(policy, "s3:GetObject", jit_object)}
    assert readers == {f"{NAME}-runner-execution"}, "only the ECS agent may read JIT files"
    webhook_secret = outputs["webhook_secret_arn"]
    assert allows(policies[f"{NAME}-control-plane"], "secretsmanager:GetSecretValue", webhook_secret)
    assert not allows(policies[f"{NAME}-janitor"], "secretsmanager:GetSecretValue", webhook_secret)
    project_arn = f"arn:aws:codebuild:us-east-1:123456789012:project/{outputs['codebuild_project_name']}"
    assert allows(policies[f"{NAME}-control-plane"], "codebuild:StartBuild", project_arn)
    # The janitor resumes launches whose image is missing and takes over dead build locks.
    assert allows(policies[f"{NAME}-janitor"], "codebuild:StartBuild", project_arn)
    assert allows(policies[f"{NAME}-janitor"], "ecs:RunTask", outputs["base_task_definition_arn"])
    assert policies[f"{NAME}-wakeup"] and all(
        statement["Action"] in ("lambda:InvokeFunction", ["lambda:InvokeFunction"])
        and as_list(statement["Resource"]) == [janitor_arn]
        for statement in policies[f"{NAME}-wakeup"]
    )
    assert allows(policies[f"{NAME}-control-plane"], "lambda:InvokeFunction", janitor_arn)
    assert not allows(policies[f"{NAME}-janitor"], "lambda:InvokeFunction", janitor_arn)


def check_kms_key_rotates_and_serves_only_our_log_groups_and_rules(deployment: Deployment) -> None:
    kms = deployment.client("kms")
    key_arn = deployment.outputs["kms_key_arn"]
    policy = {
        statement["Sid"]: statement
        for statement in statements(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])
    }
    log_groups = {
        group["logGroupName"]: group
        for group in deployment.client("logs").describe_log_groups()["logGroups"]
        if f"/{NAME}-" in group["logGroupName"]
    }

    assert kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"] is True
    assert len(log_groups) == 5
    assert all(group.get("kmsKeyId") == key_arn for group in log_groups.values())
    allowed_groups = set(
        as_list(policy["CloudWatchLogsForOurLogGroups"]["Condition"]["ArnEquals"].popitem()[1])
    )
    assert allowed_groups == {f"arn:aws:logs:us-east-1:123456789012:log-group:{name}" for name in log_groups}
    rule_arns = {
        rule["Arn"] for rule in deployment.client("events").list_rules(NamePrefix=f"{NAME}-")["Rules"]
    }
    events_statement = policy["EventBridgeDeadLettersFromOurRules"]
    assert set(as_list(events_statement["Condition"]["ArnEquals"]["aws:SourceArn"])) == rule_arns


def check_dashboard_and_alarms_watch_what_the_deployment_emits(deployment: Deployment) -> None:
    cloudwatch = deployment.client("cloudwatch")
    outputs = deployment.outputs
    environment = deployment.client("lambda").get_function_configuration(
        FunctionName=outputs["control_plane_function_name"]
    )["Environment"]["Variables"]
    namespace, service = environment["POWERTOOLS_METRICS_NAMESPACE"], environment["POWERTOOLS_SERVICE_NAME"]
    body = json.loads(cloudwatch.get_dashboard(DashboardName=outputs["dashboard_name"])["DashboardBody"])
    alarms = cloudwatch.describe_alarms(AlarmNames=list(outputs["alarm_names"].values()))["MetricAlarms"]
    (api,) = [
        a for a in deployment.client("apigatewayv2").get_apis()["Items"] if a["Name"] == f"{NAME}-webhook"
    ]
    references = dashboard_references(body) + alarm_references(alarms)
    fixed = {
        (reference.namespace, dimension): value
        for reference in references
        if reference.namespace.startswith("AWS/")
        for dimension, value in reference.values.items()
    }

    assert outputs["dashboard_name"] == f"{NAME}-us-east-1" and service == NAME
    assert set(outputs["alarm_names"]) == {
        "dead_letter_queue_event_failures", "control_plane_errors", "runners_failed", "jobs_queued_too_long",
        "image_rebuilds_failed",
    }  # fmt: skip
    assert sorted(alarm["AlarmName"] for alarm in alarms) == sorted(outputs["alarm_names"].values())
    for alarm in alarms:
        assert alarm["AlarmActions"] == alarm["OKActions"] == [outputs["alarm_topic_arn"]]
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0.0)
        assert alarm["TreatMissingData"] == "notBreaching"
        tags = cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
        assert {"Key": "ecsrunner:deployment", "Value": NAME} in tags
    assert mismatches(references, emitted_metrics(namespace, service)) == []
    assert len([reference for reference in references if reference.namespace == namespace]) >= 10
    assert fixed[("AWS/ApiGateway", "ApiId")] == api["ApiId"]
    assert fixed[("AWS/SQS", "QueueName")] == outputs["dead_letter_queue_name"]
    lambda_functions = {
        reference.values["FunctionName"] for reference in references if reference.namespace == "AWS/Lambda"
    }
    assert lambda_functions == {outputs["control_plane_function_name"], outputs["janitor_function_name"]}


CHECKS: list[Callable[[Deployment], None]] = [
    check_runner_table_has_the_status_index_ttl_pitr_and_kms,
    check_functions_get_the_design_environment_and_no_secret,
    check_terraform_outputs_print_no_secret,
    check_class_sizes_parameter_holds_the_documented_json,
    check_webhook_route_is_post_webhook_with_payload_2,
    check_event_rules_match_only_this_cluster_and_this_project,
    check_event_targets_retry_and_dead_letter_to_the_queue,
    check_jit_bucket_is_private_tls_only_encrypted_and_expires_in_a_day,
    check_fleet_cluster_task_definition_and_repository,
    check_iam_is_least_privilege,
    check_kms_key_rotates_and_serves_only_our_log_groups_and_rules,
    check_dashboard_and_alarms_watch_what_the_deployment_emits,
]


def run_check(check: Callable[[Deployment], None], deployment: Deployment, failures: list[str]) -> None:
    try:
        check(deployment)
    except (AssertionError, pytest.fail.Exception) as error:
        failures.append(f"{check.__name__}: {error}")


def test_apply_then_plan_shows_no_changes_then_destroy(tmp_path: Path) -> None:
    failures: list[str] = []
    with sandbox_deployment(tmp_path) as deployment:
        for check in CHECKS:
            run_check(check, deployment, failures)

        exit_code, plan = deployment.terraform.plan_exit_code()
        if exit_code != 0:
            failures.append(f"terraform plan found changes after apply:\n{plan[-6000:]}")

        deployment.terraform.destroy(refresh=False)
        deployment.destroyed = True
        run_check(check_nothing_is_left, deployment, failures)

    assert not failures, "\n\n".join(failures)


def check_nothing_is_left(deployment: Deployment) -> None:
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        deployment.client("dynamodb").describe_table(TableName=deployment.outputs["runner_table_name"])
    functions = deployment.client("lambda").list_functions()["Functions"]
    assert not [function for function in functions if function["FunctionName"].startswith(NAME)]
    clusters = deployment.client("ecs").describe_clusters(clusters=[deployment.outputs["cluster_arn"]])[
        "clusters"
    ]
    assert all(cluster["status"] == "INACTIVE" for cluster in clusters)
    cloudwatch = deployment.client("cloudwatch")
    assert cloudwatch.list_dashboards()["DashboardEntries"] == []
    assert cloudwatch.describe_alarms(AlarmNamePrefix=f"{NAME}-")["MetricAlarms"] == []
    assert deployment.terraform.run("state", "list").stdout.strip() == ""
