"""RunnerStore and ImageStore on one DynamoDB table (schema in docs/DESIGN.md)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ..domain.images import LOCAL_BUILD_PREFIX, ImageRecord, ImageState
from ..domain.runner import RunnerRecord
from ..domain.status import ACTIVE_STATUSES, RunnerStatus
from ..ports import CapacityExceeded, Clock, ConcurrentUpdate, CreateResult, RecordChange
from .dynamodb_codec import (
    BUILD_PREFIX,
    COUNTER_KEY,
    DELIVERY_PREFIX,
    DUE_ATTRIBUTE,
    IMAGE_INDEX_PARTITION,
    IMAGE_PREFIX,
    JOB_PREFIX,
    PAUSE_PREFIX,
    REPO_INDEX_PARTITION,
    REPO_PREFIX,
    WAITING_ATTRIBUTE,
    WAITING_PARTITION,
    WARM_PREFIX,
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
WAITING_INDEX = "waiting-index"
DELIVERY_MEMORY_SECONDS = 3 * 86400
LEASE_PREFIX = "LEASE#"  # GitHub keeps webhook deliveries for three days
MAX_UPDATE_TRIES = 8
PAUSE_CACHE_SECONDS = 5.0
READY_IMAGE_CACHE_SECONDS = 60.0
REPOSITORY_TOUCH_SECONDS = 3600.0


def _cancellation_codes(error: ClientError) -> list[str]:
    reasons = error.response.get("CancellationReasons") or []
    return [str(reason.get("Code", "None")) for reason in reasons]


def _is(error: ClientError, code: str) -> bool:
    return bool(error.response.get("Error", {}).get("Code") == code)


def _back_off(attempt: int) -> None:
    time.sleep(min(0.01 * 2**attempt, 0.2))


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
        self._ready_images: dict[str, tuple[float, ImageRecord]] = {}
        self._repositories: dict[str, float] = {}

    def _expiry(self) -> int:
        return int((self._clock.now() + self._retention).timestamp())

    # --- runners --------------------------------------------------------------------------

    def create(
        self, record: RunnerRecord, *, replacing: str | None = None, take_slot: bool = False
    ) -> CreateResult:
        """One transaction: the job guard, the runner and (with ``take_slot``) its capacity slot.

        When ``max_runners`` are active the runner is stored without a slot, waiting for one. On a
        duplicate, the guard's current runner comes back from the failed condition (no extra read).
        """
        stored = replace(record, version=1, holds_slot=take_slot)
        try:
            self._transact(self._create_items(stored, replacing), f"job {record.job_id}")
        except ClientError as exc:
            codes = _cancellation_codes(exc) if _is(exc, "TransactionCanceledException") else []
            if codes[:1] == ["ConditionalCheckFailed"]:
                reasons: list[Any] = list(exc.response.get("CancellationReasons") or [{}])
                old: dict[str, Any] = reasons[0].get("Item") or {}
                existing = old.get("runner_name", {}).get("S")
                return CreateResult(created=False, record=None, existing_runner=existing)
            if take_slot and codes[2:3] == ["ConditionalCheckFailed"]:
                return self.create(record, replacing=replacing)  # no slot free: store it waiting
            raise
        return CreateResult(created=True, record=stored, existing_runner=None)

    def create_pool_runner(self, record: RunnerRecord, *, take_slot: bool = True) -> RunnerRecord:
        """A warm pool's runner: no job, so no job guard; with its capacity slot when one is free."""
        stored = replace(record, version=1, holds_slot=take_slot)
        put: dict[str, Any] = {
            "Put": {
                "TableName": self._table,
                "Item": runner_to_item(stored),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        if not take_slot:
            self._db.put_item(**put["Put"])
            return stored
        try:
            self._transact([put, {"Update": self._counter_update(True)}], f"warm runner {record.runner_name}")
        except ClientError as exc:
            codes = _cancellation_codes(exc) if _is(exc, "TransactionCanceledException") else []
            if codes[1:2] == ["ConditionalCheckFailed"]:
                return self.create_pool_runner(record, take_slot=False)
            raise
        return stored

    def _transact(self, items: list[Any], what: str) -> None:
        """TransactWriteItems, tried again while another transaction holds one of the items (the job
        guard of a concurrent delivery, or the capacity counter every launch and stop writes). A
        failed condition is the caller's to read, so it raises at once."""
        for attempt in range(MAX_UPDATE_TRIES):
            try:
                self._db.transact_write_items(TransactItems=items)
                return
            except ClientError as exc:
                codes = _cancellation_codes(exc) if _is(exc, "TransactionCanceledException") else []
                if "TransactionConflict" not in codes or "ConditionalCheckFailed" in codes:
                    raise
                _back_off(attempt)
        raise ConcurrentUpdate(f"{what} kept conflicting; giving up after {MAX_UPDATE_TRIES} tries")

    def claimable(self, pool: str, *, limit: int = 3) -> Iterator[RunnerRecord]:
        """Idle warm runners of ``pool`` nobody claimed, the longest idle first."""
        page = self._db.query(
            TableName=self._table,
            IndexName=WAITING_INDEX,
            KeyConditionExpression="#w = :w",
            ExpressionAttributeNames={"#w": WAITING_ATTRIBUTE},
            ExpressionAttributeValues={":w": {"S": WARM_PREFIX + pool}},
            ScanIndexForward=True,
            Limit=limit,
        )
        for item in page.get("Items", []):
            yield runner_from_item(item)

    def claim(self, claimed: RunnerRecord, *, expected_version: int) -> CreateResult:
        """Give a warm runner its job in one write: the job's guard (a job gets one runner) and the
        runner as ``claimed`` (on condition that it is the version read: nobody claimed it since)."""
        stored = replace(claimed, version=expected_version + 1)
        items: list[Any] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        "pk": {"S": f"{JOB_PREFIX}{claimed.job_id}"},
                        "runner_name": {"S": claimed.runner_name},
                        "created_at": {"S": time_text(claimed.updated_at)},
                        "expires_at": {"N": str(self._expiry())},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": runner_to_item(stored),
                    "ConditionExpression": "version = :v",
                    "ExpressionAttributeValues": {":v": {"N": str(expected_version)}},
                }
            },
        ]
        try:
            self._db.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if not _is(exc, "TransactionCanceledException"):
                raise
            codes = _cancellation_codes(exc)
            if codes[:1] == ["ConditionalCheckFailed"]:
                reasons: list[Any] = list(exc.response.get("CancellationReasons") or [{}])
                old: dict[str, Any] = reasons[0].get("Item") or {}
                return CreateResult(created=False, existing_runner=old.get("runner_name", {}).get("S"))
            if "ConditionalCheckFailed" in codes or "TransactionConflict" in codes:
                return CreateResult(created=False)  # another job claimed it first
            raise
        return CreateResult(created=True, record=stored)

    def _create_items(self, record: RunnerRecord, replacing: str | None) -> list[Any]:
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
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
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
        if record.holds_slot:
            items.append({"Update": self._counter_update(True)})
        return items

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
        self, runner_name: str, change: RecordChange, *, current: RunnerRecord | None = None
    ) -> tuple[RunnerRecord | None, RunnerRecord | None]:
        for attempt in range(MAX_UPDATE_TRIES):
            # A caller that holds the record it last wrote saves the read; a conflict reads again.
            before = current if attempt == 0 and current is not None else self.get(runner_name)
            if before is None:
                return None, None
            changed = change(before)
            if changed is None:
                return before, None
            after = replace(changed, version=before.version + 1)
            try:
                self._write(before, after)
            except _VersionConflict:
                _back_off(attempt)
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
        return self._counter_update(after.holds_slot)

    def _counter_update(self, take: bool) -> dict[str, Any]:
        update: dict[str, Any] = {"TableName": self._table, "Key": {"pk": {"S": COUNTER_KEY}}}
        if take:
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
        """Cached for a few seconds per container: a pause set elsewhere is seen that much later.
        A pause that ended and was resumed (:meth:`claim_resume`) reads as no pause."""
        cached = self._pauses.get(name)
        if cached is not None and time.monotonic() - cached[0] < PAUSE_CACHE_SECONDS:
            return cached[1]
        item = self._db.get_item(TableName=self._table, Key={"pk": {"S": PAUSE_PREFIX + name}}).get("Item")
        until = parse_time(item["until"]["S"]) if item and "resumed" not in item else None
        self._pauses[name] = (time.monotonic(), until)
        return until

    def claim_resume(self, name: str, until: datetime) -> bool:
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"pk": {"S": PAUSE_PREFIX + name}},
                UpdateExpression="SET resumed = :yes",
                ConditionExpression="#u = :until AND attribute_not_exists(resumed)",
                ExpressionAttributeNames={"#u": "until"},
                ExpressionAttributeValues={":yes": {"BOOL": True}, ":until": {"S": time_text(until)}},
            )
        except ClientError as exc:
            if _is(exc, "ConditionalCheckFailedException"):
                self._pauses[name] = (time.monotonic(), None)
                return False
            raise
        self._pauses[name] = (time.monotonic(), None)
        return True

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

    def waiting(self, due_by: datetime, *, page_size: int = 10) -> Iterator[RunnerRecord]:
        """STARTING runners without a task whose wait ends by ``due_by``, soonest due first: the
        sparse ``waiting-index`` holds only these, so this reads what it returns, not a partition."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": WAITING_INDEX,
            "KeyConditionExpression": "#w = :w AND #d <= :due",
            "ExpressionAttributeNames": {"#w": WAITING_ATTRIBUTE, "#d": DUE_ATTRIBUTE},
            "ExpressionAttributeValues": {":w": {"S": WAITING_PARTITION}, ":due": {"S": time_text(due_by)}},
            "ScanIndexForward": True,
            "Limit": page_size,
        }
        while True:
            page = self._db.query(**kwargs)
            for item in page.get("Items", []):
                yield runner_from_item(item)
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def next_waiting_due(self, after: datetime) -> datetime | None:
        """The soonest ``due_at`` in the waiting index later than ``after``: one item read."""
        page = self._db.query(
            TableName=self._table,
            IndexName=WAITING_INDEX,
            KeyConditionExpression="#w = :w AND #d > :after",
            ExpressionAttributeNames={"#w": WAITING_ATTRIBUTE, "#d": DUE_ATTRIBUTE},
            ExpressionAttributeValues={":w": {"S": WAITING_PARTITION}, ":after": {"S": time_text(after)}},
            ScanIndexForward=True,
            Limit=1,
        )
        items = page.get("Items", [])
        return parse_time(items[0][DUE_ATTRIBUTE]["S"]) if items else None

    # --- leases ---------------------------------------------------------------------------

    def claim_lease(self, name: str, owner: str, until: datetime) -> bool:
        """Hold ``name`` until ``until`` unless someone else holds it now (one janitor at a time)."""
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": LEASE_PREFIX + name},
                    "owner": {"S": owner},
                    "until": {"S": time_text(until)},
                    "expires_at": {"N": str(int(until.timestamp()) + 3600)},
                },
                ConditionExpression="attribute_not_exists(pk) OR #u < :now OR #o = :owner",
                ExpressionAttributeNames={"#u": "until", "#o": "owner"},
                ExpressionAttributeValues={
                    ":now": {"S": time_text(self._clock.now())},
                    ":owner": {"S": owner},
                },
            )
        except ClientError as exc:
            if _is(exc, "ConditionalCheckFailedException"):
                return False
            raise
        return True

    def release_lease(self, name: str, owner: str) -> None:
        try:
            self._db.delete_item(
                TableName=self._table,
                Key={"pk": {"S": LEASE_PREFIX + name}},
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except ClientError as exc:
            if not _is(exc, "ConditionalCheckFailedException"):
                raise

    # --- repositories and webhook deliveries (reconciliation) ------------------------------

    def touch_repository(self, repository: str, at: datetime) -> None:
        """Remember that ``repository`` sent a job (organisation scope: where to look for jobs); at
        most once per :data:`REPOSITORY_TOUCH_SECONDS` per repository from this container."""
        key = repository.lower()
        last = self._repositories.get(key)
        if last is not None and time.monotonic() - last < REPOSITORY_TOUCH_SECONDS:
            return
        self._repositories[key] = time.monotonic()
        self._db.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": REPO_PREFIX + repository.lower()},
                "status": {"S": REPO_INDEX_PARTITION},
                "created_at": {"S": time_text(at)},
                "repository": {"S": repository},
                "expires_at": {"N": str(self._expiry())},
            },
        )

    def recent_repositories(self, since: datetime) -> Iterator[str]:
        """Repositories that sent a job since ``since``, most recent first."""
        for item in self._query_index(REPO_INDEX_PARTITION, since, True):
            yield str(item["repository"]["S"])

    def claim_redelivery(self, guid: str, at: datetime, *, failed_at: datetime, max_attempts: int) -> bool:
        """Count one more redelivery of delivery ``guid``. ``False`` when an earlier redelivery was
        asked for after its latest failure (``failed_at``; GitHub keeps listing the first failure
        after a redelivery succeeded) or ``max_attempts`` were made, by any janitor run."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"pk": {"S": DELIVERY_PREFIX + guid}},
                UpdateExpression="ADD attempts :one SET last_at = :at, expires_at = :exp",
                ConditionExpression=(
                    "attribute_not_exists(attempts) OR (attempts < :max AND last_at < :failed)"
                ),
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":at": {"S": time_text(at)},
                    ":exp": {"N": str(int(at.timestamp()) + DELIVERY_MEMORY_SECONDS)},
                    ":max": {"N": str(max_attempts)},
                    ":failed": {"S": time_text(failed_at)},
                },
            )
        except ClientError as exc:
            if _is(exc, "ConditionalCheckFailedException"):
                return False
            raise
        return True

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

    def get_image(self, tag: str, *, cached: bool = False) -> ImageRecord | None:
        hit = self._ready_images.get(tag)
        if cached and hit is not None and time.monotonic() - hit[0] < READY_IMAGE_CACHE_SECONDS:
            return hit[1]
        item = self._db.get_item(
            TableName=self._table, Key={"pk": {"S": IMAGE_PREFIX + tag}}, ConsistentRead=True
        ).get("Item")
        image = image_from_item(item) if item else None
        self._remember(image)
        return image

    def _remember(self, image: ImageRecord | None) -> None:
        if image is not None and image.state is ImageState.READY:
            self._ready_images[image.tag] = (time.monotonic(), image)
        elif image is not None:
            self._ready_images.pop(image.tag, None)

    def lock_build(
        self,
        record: ImageRecord,
        *,
        retry_failed_before: datetime,
        stale_lock_before: datetime | None = None,
        stale_local_before: datetime | None = None,
    ) -> bool:
        condition = "attribute_not_exists(pk) OR (#state = :failed AND updated_at < :before)"
        values: dict[str, Any] = {
            ":failed": {"S": ImageState.FAILED.value},
            ":before": {"S": time_text(retry_failed_before)},
        }
        if stale_lock_before is not None:
            # A lock whose holder died between taking it and StartBuild (it never got a build id).
            condition += " OR (#state = :building AND attribute_not_exists(build_id) AND updated_at < :stale)"
            values[":building"] = {"S": ImageState.BUILDING.value}
            values[":stale"] = {"S": time_text(stale_lock_before)}
        if stale_local_before is not None:
            # A local build (`images build --local`) that never came back.
            condition += (
                " OR (#state = :building AND begins_with(build_id, :local) AND updated_at < :stale_local)"
            )
            values[":building"] = {"S": ImageState.BUILDING.value}
            values[":local"] = {"S": LOCAL_BUILD_PREFIX}
            values[":stale_local"] = {"S": time_text(stale_local_before)}
        try:
            self._db.put_item(
                TableName=self._table,
                Item=image_to_item(record),
                ConditionExpression=condition,
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if _is(exc, "ConditionalCheckFailedException"):
                return False
            raise
        return True

    def save_image(self, record: ImageRecord) -> None:
        self._db.put_item(TableName=self._table, Item=image_to_item(record))
        self._remember(record)
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
        self._ready_images.pop(tag, None)
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
