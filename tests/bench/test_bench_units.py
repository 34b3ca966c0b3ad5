"""Unit checks of the benchmark helpers whose mistakes would silently skew the published figures."""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from ecsrunner_sandbox.moto_patches import patched_transactions
from moto import mock_aws

from bench.cold_start import heaviest_children, import_microseconds, parse_importtime
from bench.dynamodb_units import item_size, read_units, write_units
from bench.stats import percentile

IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       100 |        100 |   json.decoder
import time:       200 |        300 | json
import time:        50 |         50 | pkg
import time:        10 |         10 |     pkg.deep
import time:        40 |         50 |   requests
import time:        70 |        120 | pkg.mod
"""


def test_importtime_parsing() -> None:
    lines = parse_importtime(IMPORTTIME)
    assert [line.module for line in lines] == [
        "json.decoder",
        "json",
        "pkg",
        "pkg.deep",
        "requests",
        "pkg.mod",
    ]
    assert import_microseconds(lines, "pkg.mod") == 50 + 120
    assert heaviest_children(lines, "pkg.mod") == [("requests", 50)]


def test_dynamodb_item_size_and_units() -> None:
    item: dict[str, dict[str, Any]] = {
        "pk": {"S": "RUNNER#a"},
        "n": {"N": "12345"},
        "ok": {"BOOL": True},
        "l": {"L": [{"S": "ab"}]},
    }
    assert item_size(item) == (2 + 8) + (1 + 4) + (2 + 1) + (1 + 3 + 1 + 2)
    assert write_units(item) == 1
    assert write_units({**item, "status": {"S": "RUNNING"}}) == 2  # the index write too
    assert write_units(item, transactional=True) == 2
    assert read_units(5000, consistent=True) == 2
    assert read_units(100, consistent=False) == 0.5


def test_percentile_nearest_rank() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2
    assert percentile(list(range(1, 101)), 99) == 99


def test_patched_transactions_roll_back_only_what_they_touched() -> None:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws(), patched_transactions():
        db = boto3.client("dynamodb", region_name="us-east-1")
        db.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        db.put_item(TableName="t", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
        db.put_item(TableName="t", Item={"pk": {"S": "other"}})
        with pytest.raises(ClientError) as cancelled:
            db.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}, "v": {"N": "2"}}}},
                    {"Put": {"TableName": "t", "Item": {"pk": {"S": "new"}}}},
                    {
                        "Put": {
                            "TableName": "t",
                            "Item": {"pk": {"S": "missing"}},
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                ]
            )
        assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
        assert db.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"]["v"] == {"N": "1"}
        assert "Item" not in db.get_item(TableName="t", Key={"pk": {"S": "new"}})
        assert "Item" in db.get_item(TableName="t", Key={"pk": {"S": "other"}})
        db.transact_write_items(TransactItems=[{"Put": {"TableName": "t", "Item": {"pk": {"S": "new"}}}}])
        assert "Item" in db.get_item(TableName="t", Key={"pk": {"S": "new"}})
