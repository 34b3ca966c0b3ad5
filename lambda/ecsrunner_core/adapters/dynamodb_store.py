"""RunnerStore and ImageStore on one DynamoDB table (schema in docs/DESIGN.md)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ..domain.images import ImageRecord, ImageState
from ..domain.runner import RunnerRecord
from ..domain.status import ACTIVE_STATUSES, RunnerStatus
from ..ports import CapacityExceeded, Clock, ConcurrentUpdate, RecordChange
from .dynamodb_codec import (
    BUILD_PREFIX,
    COUNTER_KEY,
    IMAGE_INDEX_PARTITION,
    IMAGE_PREFIX,
    JOB_PREFIX,
    PAUSE_PREFIX,
    image_from_item,
    image_to_item,
    parse_time,
    runner_from_item,
    runner_key,
    runner_to_item,
    time_text,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

STATUS_INDEX = "status-index"
MAX_UPDATE_TRIES = 8
PAUSE_CACHE_SECONDS = 5.0


def _cancellation_codes(error: ClientError) -> list[str]:
    reasons = error.response.get("CancellationReasons") or []
    return [str(reason.get("Code", "None")) for reason in reasons]


def _is(error: ClientError, code: str) -> bool:
    return bool(error.response.get("Error", {}).get("Code") == code)


class DynamoDbStore:
    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        clock: Clock,
        *,
        max_runners: int = 0,
        retention: timedelta = timedelta(days=30),
        page_size: int = 100,
    ) -> None:
        self._db = client
        self._table = table
        self._clock = clock
        self._max_runners = max_runners
        self._retention = retention
        self._page_size = page_size
        self._pauses: dict[str, tuple[float, datetime | None]] = {}

    def _expiry(self) -> int:
        return int((self._clock.now() + self._retention).timestamp())

    # --- runners --------------------------------------------------------------------------

    def create(self, record: RunnerRecord, *, replacing: str | None = None) -> bool:
        record = replace(record, version=1, holds_slot=False)
        expires = self._expiry() if record.terminal else None
        job_guard = {
            "pk": {"S": f"{JOB_PREFIX}{record.job_id}"},
            "runner_name": {"S": record.runner_name},
            "created_at": {"S": time_text(record.created_at)},
            "expires_at": {"N": str(self._expiry())},
        }
        guard_put: dict[str, Any] = {
            "TableName": self._table,
            "Item": job_guard,
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        if replacing is not None:
            guard_put["ConditionExpression"] = "runner_name = :replaced"
            guard_put["ExpressionAttributeValues"] = {":replaced": {"S": replacing}}
        items: list[Any] = [
            {"Put": guard_put},
            {
                "Put": {
                    "TableName": self._table,
                    "Item": runner_to_item(record, expires),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        for attempt in range(MAX_UPDATE_TRIES):
            try:
                self._db.transact_write_items(TransactItems=items)
            except ClientError as exc:
                if not _is(exc, "TransactionCanceledException"):
                    raise
                codes = _cancellation_codes(exc)
                if codes[:1] == ["ConditionalCheckFailed"]:
                    return False
                if "TransactionConflict" not in codes:
                    raise
                # Another transaction held the job guard (a concurrent delivery of the same job):
                # try again, and see its guard (False) or write ours.
                time.sleep(min(0.01 * 2**attempt, 0.2))
                continue
            return True
        raise ConcurrentUpdate(
            f"job {record.job_id} kept conflicting; giving up after {MAX_UPDATE_TRIES} tries"
        )

    def get(self, runner_name: str) -> RunnerRecord | None:
        item = self._db.get_item(TableName=self._table, Key=runner_key(runner_name), ConsistentRead=True).get(
            "Item"
        )
        return runner_from_item(item) if item else None

    def get_by_job(self, job_id: int) -> RunnerRecord | None:
        guard = self._db.get_item(
            TableName=self._table, Key={"pk": {"S": f"{JOB_PREFIX}{job_id}"}}, ConsistentRead=True
        ).get("Item")
        return self.get(guard["runner_name"]["S"]) if guard else None

    def update(
        self, runner_name: str, change: RecordChange
    ) -> tuple[RunnerRecord | None, RunnerRecord | None]:
        for attempt in range(MAX_UPDATE_TRIES):
            before = self.get(runner_name)
            if before is None:
                return None, None
            changed = change(before)
            if changed is None:
                return before, None
            after = replace(changed, version=before.version + 1)
            try:
                self._write(before, after)
            except _VersionConflict:
                time.sleep(min(0.01 * 2**attempt, 0.2))
                continue
            return before, after
        raise ConcurrentUpdate(
            f"runner {runner_name} kept changing; giving up after {MAX_UPDATE_TRIES} tries"
        )

    def _write(self, before: RunnerRecord, after: RunnerRecord) -> None:
        expires = self._expiry() if after.terminal else None
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": runner_to_item(after, expires),
            "ConditionExpression": "version = :v",
            "ExpressionAttributeValues": {":v": {"N": str(before.version)}},
        }
        counter = self._counter_change(before, after)
        try:
            if counter is None:
                self._db.put_item(**put)
            else:
                items: list[Any] = [{"Put": put}, {"Update": counter}]
                self._db.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if _is(exc, "ConditionalCheckFailedException"):
                raise _VersionConflict from None
            if _is(exc, "TransactionCanceledException"):
                codes = _cancellation_codes(exc)
                if codes and codes[0] == "ConditionalCheckFailed":
                    raise _VersionConflict from None
                if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                    raise CapacityExceeded(f"{self._max_runners} runners are active (max_runners)") from None
                if "TransactionConflict" in codes:
                    raise _VersionConflict from None
            raise

    def _counter_change(self, before: RunnerRecord, after: RunnerRecord) -> dict[str, Any] | None:
        if after.holds_slot == before.holds_slot:
            return None
        update: dict[str, Any] = {"TableName": self._table, "Key": {"pk": {"S": COUNTER_KEY}}}
        if after.holds_slot:
            update["UpdateExpression"] = "ADD active :one"
            update["ExpressionAttributeValues"] = {":one": {"N": "1"}}
            if self._max_runners > 0:
                update["ConditionExpression"] = "attribute_not_exists(active) OR active < :max"
                update["ExpressionAttributeValues"][":max"] = {"N": str(self._max_runners)}
        else:
            update["UpdateExpression"] = "ADD active :minus"
            update["ExpressionAttributeValues"] = {":minus": {"N": "-1"}}
        return update

    def active_slots(self) -> int:
        item = self._db.get_item(
            TableName=self._table, Key={"pk": {"S": COUNTER_KEY}}, ConsistentRead=True
        ).get("Item")
        return int(item["active"]["N"]) if item and "active" in item else 0

    def get_pause(self, name: str) -> datetime | None:
        """Cached for a few seconds per container: a pause set elsewhere is seen that much later."""
        cached = self._pauses.get(name)
        if cached is not None and time.monotonic() - cached[0] < PAUSE_CACHE_SECONDS:
            return cached[1]
        item = self._db.get_item(TableName=self._table, Key={"pk": {"S": PAUSE_PREFIX + name}}).get("Item")
        until = parse_time(item["until"]["S"]) if item else None
        self._pauses[name] = (time.monotonic(), until)
        return until

    def set_pause(self, name: str, until: datetime) -> None:
        self._pauses[name] = (time.monotonic(), until)
        self._db.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": PAUSE_PREFIX + name},
                "until": {"S": time_text(until)},
                "expires_at": {"N": str(int(until.timestamp()) + 3600)},
            },
        )

    def by_status(
        self, status: RunnerStatus, *, since: datetime | None = None, newest_first: bool = True
    ) -> Iterator[RunnerRecord]:
        for item in self._query_index(status.value, since, newest_first):
            yield runner_from_item(item)

    def active(self) -> Iterator[RunnerRecord]:
        for status in ACTIVE_STATUSES:
            yield from self.by_status(status, newest_first=False)

    def _query_index(
        self, partition: str, since: datetime | None, newest_first: bool
    ) -> Iterator[dict[str, Any]]:
        condition = "#s = :s"
        values: dict[str, Any] = {":s": {"S": partition}}
        if since is not None:
            condition += " AND created_at >= :since"
            values[":since"] = {"S": time_text(since)}
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": STATUS_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": values,
            "ScanIndexForward": not newest_first,
            "Limit": self._page_size,
        }
        while True:
            page = self._db.query(**kwargs)
            yield from page.get("Items", [])
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    # --- images ---------------------------------------------------------------------------

    def get_image(self, tag: str) -> ImageRecord | None:
        item = self._db.get_item(
            TableName=self._table, Key={"pk": {"S": IMAGE_PREFIX + tag}}, ConsistentRead=True
        ).get("Item")
        return image_from_item(item) if item else None

    def lock_build(self, record: ImageRecord, *, retry_failed_before: datetime) -> bool:
        try:
            self._db.put_item(
                TableName=self._table,
                Item=image_to_item(record),
                ConditionExpression="attribute_not_exists(pk) OR (#state = :failed AND updated_at < :before)",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":failed": {"S": ImageState.FAILED.value},
                    ":before": {"S": time_text(retry_failed_before)},
                },
            )
        except ClientError as exc:
            if _is(exc, "ConditionalCheckFailedException"):
                return False
            raise
        return True

    def save_image(self, record: ImageRecord) -> None:
        self._db.put_item(TableName=self._table, Item=image_to_item(record))
        if record.build_id:
            self._db.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": BUILD_PREFIX + record.build_id},
                    "tag": {"S": record.tag},
                    "expires_at": {"N": str(self._expiry())},
                },
            )

    def delete_image(self, tag: str) -> None:
        self._db.delete_item(TableName=self._table, Key={"pk": {"S": IMAGE_PREFIX + tag}})

    def tag_for_build(self, build_id: str) -> str | None:
        item = self._db.get_item(TableName=self._table, Key={"pk": {"S": BUILD_PREFIX + build_id}}).get(
            "Item"
        )
        return item["tag"]["S"] if item else None

    def list_images(self) -> Iterator[ImageRecord]:
        for item in self._query_index(IMAGE_INDEX_PARTITION, None, True):
            yield image_from_item(item)


class _VersionConflict(Exception):
    pass
