"""DynamoDB item sizes and request units, from the low-level attribute maps the client sends and gets.

moto answers ``ConsumedCapacity`` with a constant, so the units are estimated from the documented rules
(Amazon DynamoDB Developer Guide, "Item sizes and formats" and "Read/write capacity mode"):

* on-demand write request unit (WRU): one write of up to 1 KB; transactional writes cost 2 units per KB;
* read request unit (RRU): one strongly consistent read of up to 4 KB, or two eventually consistent
  ones; transactional reads 2 units; a Query is charged for the summed size of the items it read;
* every write of an item that carries the index key also writes the global secondary index
  (projection ALL: the whole item again). A status change writes the index twice (delete + put); that
  second write is not visible in the request, so the index estimate is a lower bound.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
INDEX_KEY = "status"


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes of one attribute value in the low-level format (``{"S": "x"}``, ``{"M": {...}}`` ...)."""
    (kind, raw), *_ = value.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        digits = str(raw).lstrip("-").replace(".", "").lstrip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + value_size(item) for item in raw)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + value_size(item) for name, item in raw.items())
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: item}) for item in raw)
    raise ValueError(f"unknown attribute type {kind!r}")


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(item: Mapping[str, Mapping[str, Any]] | None, *, transactional: bool = False) -> float:
    """Table write units plus one index write for items that carry the index key."""
    size = item_size(item) if item else 0
    units = max(1, math.ceil(size / WRITE_UNIT_BYTES))
    if item and INDEX_KEY in item:
        units *= 2
    return float(units * (2 if transactional else 1))


def read_units(total_bytes: int, *, consistent: bool, transactional: bool = False) -> float:
    units = max(1, math.ceil(total_bytes / READ_UNIT_BYTES))
    if transactional:
        return float(units * 2)
    return float(units) if consistent else units / 2


def request_units(
    operation: str, params: Mapping[str, Any], response: Mapping[str, Any]
) -> tuple[float, float]:
    """(read units, write units) of one DynamoDB call."""
    if operation == "GetItem":
        item = response.get("Item")
        return read_units(item_size(item) if item else 0, consistent=bool(params.get("ConsistentRead"))), 0.0
    if operation in ("Query", "Scan"):
        total = sum(item_size(item) for item in response.get("Items", []))
        return read_units(total, consistent=bool(params.get("ConsistentRead"))), 0.0
    if operation == "PutItem":
        return 0.0, write_units(params.get("Item"))
    if operation in ("UpdateItem", "DeleteItem"):
        return 0.0, write_units(None)
    if operation == "TransactWriteItems":
        units = 0.0
        for action in params.get("TransactItems", []):
            put = action.get("Put")
            units += write_units(put["Item"] if put else None, transactional=True)
        return 0.0, units
    if operation == "BatchWriteItem":
        units = 0.0
        for requests in params.get("RequestItems", {}).values():
            for request in requests:
                put = request.get("PutRequest")
                units += write_units(put["Item"] if put else None)
        return 0.0, units
    return 0.0, 0.0
