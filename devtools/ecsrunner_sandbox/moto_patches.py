"""moto made fit for 1,000-job runs and 100,000-record tables (the benchmarks and the reliability
campaigns use it). Two patches, same semantics:

* Transactions without a whole-table copy. moto 5.2's ``DynamoDBBackend.transact_write_items``
  deep-copies every table a transaction touches, once per transaction item, to roll back on failure
  (``moto/dynamodb/models/__init__.py``). Each queued job runs two transactions, so a burst costs
  O(table size) per job, O(n²) in all, and the server's memory grew past 5 GB in a 1,000-job burst.
  Patched: the table copy is skipped; before the transaction runs, the items it names are saved (deep
  copies of those items only) and put back if it is cancelled.
* Items built in linear time. moto's ``Item.__init__`` adds attributes one by one to a
  ``LimitedSizeDict`` that re-measures the whole item on every addition (O(attributes²); about 2 ms for a
  runner record with its history, and most of the cost of a PutItem or of loading 100,000 records).
  Patched: the item is measured once against the same 400 KB limit.

Everything else in moto is unchanged.

A patched server process also answers ``POST /_bench/load-items`` (``{"region", "table", "items"}``)
by putting the low-level items straight into moto's DynamoDB backend: loading 100,000 history records
through ``BatchWriteItem`` would take minutes on this machine (moto parses each request against the
service model), so the history benchmarks load most of their records this way.

Run a patched server with ``python -m ecsrunner_sandbox.moto_patches -H 127.0.0.1 -p PORT`` (what
:func:`start_patched_server` does), or patch in-process moto with :func:`patched_transactions`.
"""

from __future__ import annotations

import copy
import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BULK_LOAD_PATH = "/_bench/load-items"
ITEM_SIZE_LIMIT = 405_000  # moto's own threshold (the documented limit is 400 KB)
Saved = list[tuple[Any, Any, Any, Any]]  # (table, hash key, range key or None, item before or None)


class _NoTableCopy:
    """Stands in for the ``copy`` module inside moto's DynamoDB backend: tables are not copied."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _save(backend: Any, transact_items: list[dict[str, Any]]) -> Saved:
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved: Saved = []
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
        key = (op.get("Item") if op_type == "Put" else op.get("Key")) if table is not None else None
        if table is None or not key or table.hash_key_attr not in key:
            continue
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
        if range_key is None:
            before = table.items.get(hash_key)
        else:
            before = table.items.get(hash_key, {}).get(range_key)
        saved.append((table, hash_key, range_key, copy.deepcopy(before)))
    return saved


def _restore(saved: Saved) -> None:
    for table, hash_key, range_key, before in reversed(saved):
        if range_key is None:
            if before is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = before
        elif before is None:
            table.items.get(hash_key, {}).pop(range_key, None)
        else:
            table.items.setdefault(hash_key, {})[range_key] = before


def _linear_item_init(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    self.hash_key = hash_key
    self.range_key = range_key
    converted = {key: DynamoType(value) for key, value in attrs.items()}
    if sum(bytesize(key) + value.size() for key, value in converted.items()) > ITEM_SIZE_LIMIT:
        raise ItemSizeTooLarge
    self.attrs = LimitedSizeDict()
    dict.update(self.attrs, converted)


def install() -> Any:
    """Patch moto in this process; returns what :func:`uninstall` needs."""
    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import Item

    original = models.DynamoDBBackend.transact_write_items
    if getattr(original, "_bench_patched", False):
        return None

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = _save(self, transact_items)
        try:
            original(self, transact_items)
        except BaseException:
            _restore(saved)
            raise

    transact_write_items._bench_patched = True  # type: ignore[attr-defined]
    namespace = vars(models)
    previous_copy = namespace["copy"]
    namespace["copy"] = _NoTableCopy()
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    previous_init = Item.__init__
    Item.__init__ = _linear_item_init  # type: ignore[method-assign]
    return original, previous_copy, previous_init


def uninstall(state: Any) -> None:
    if state is None:
        return
    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import Item

    original, previous_copy, previous_init = state
    models.DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]
    vars(models)["copy"] = previous_copy
    Item.__init__ = previous_init  # type: ignore[method-assign]


def install_bulk_load() -> None:
    """In a moto server process: answer ``POST BULK_LOAD_PATH`` by loading items into a table."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.__call__

    def call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") != BULK_LOAD_PATH or environ.get("REQUEST_METHOD") != "POST":
            return original(self, environ, start_response)
        payload = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
        table = dynamodb_backends[DEFAULT_ACCOUNT_ID][payload["region"]].get_table(payload["table"])
        for item in payload["items"]:
            table.put_item(item)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"loaded": len(payload["items"])}).encode()]

    DomainDispatcherApplication.__call__ = call  # type: ignore[method-assign]


@contextmanager
def patched_transactions() -> Iterator[None]:
    state = install()
    try:
        yield
    finally:
        uninstall(state)


def start_patched_server(region: str = "us-east-1") -> Any:
    """A moto server (``ecsrunner_sandbox.moto_server``) running with the patch; ``stop()`` it."""
    from ecsrunner_sandbox.moto_server import start_moto_server

    return start_moto_server(
        region=region,
        log_dir=Path(tempfile.mkdtemp(prefix="bench-moto-")),
        module="ecsrunner_sandbox.moto_patches",
    )


@contextmanager
def patched_server() -> Iterator[Any]:
    server = start_patched_server()
    try:
        yield server
    finally:
        server.stop()


if __name__ == "__main__":
    install()
    install_bulk_load()
    from ecsrunner_sandbox.moto_server import serve

    serve(sys.argv[1:])
