"""`mapping_added`: plain callbacks the sync engine registers to re-evaluate blocked items.

    from mappings.events import on_mapping_added
    on_mapping_added(lambda connection_id, table, key: ...)

`key` has the shape of `MappingMissing.key` for the same table (cost codes:
{"cost_code", "cost_type"}, cost_type None for an any-type row, which can unblock items of
every cost type). Callbacks run after the transaction that added the mapping commits, once per
distinct key (an upload of many rows for the same key calls back once); an exception in one
callback is logged and does not stop the others or undo the mapping.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.db import transaction

log = logging.getLogger(__name__)

Callback = Callable[[int, str, dict], None]
BatchCallback = Callable[[int, str, list[dict]], None]
_callbacks: list[Callback] = []
_batch_callbacks: list[BatchCallback] = []


def on_mapping_added(callback: Callback) -> Callback:
    """Register `callback(connection_id, table, key)`; returns it, so it works as a decorator."""
    if callback not in _callbacks:
        _callbacks.append(callback)
    return callback


def on_mappings_added(callback: BatchCallback) -> BatchCallback:
    """Register `callback(connection_id, table, keys)`, called once per commit."""
    if callback not in _batch_callbacks:
        _batch_callbacks.append(callback)
    return callback


def remove_callback(callback) -> None:
    for registry in (_callbacks, _batch_callbacks):
        if callback in registry:
            registry.remove(callback)


def _dispatch(connection_id: int, table: str, keys: list[dict]) -> None:
    for batch in list(_batch_callbacks):
        try:
            batch(connection_id, table, [dict(k) for k in keys])
        except Exception:
            log.exception("mappings_added callback %r failed for %s", batch, table)
    for key in keys:
        for callback in list(_callbacks):
            try:
                callback(connection_id, table, dict(key))
            except Exception:
                log.exception("mapping_added callback %r failed for %s %s", callback, table, key)


def mapping_added(connection_id: int, table: str, keys: Iterable[dict]) -> None:
    """Schedule the callbacks for after the current transaction commits."""
    unique: list[dict] = []
    seen = set()
    for key in keys:
        marker = tuple(sorted(key.items()))
        if marker not in seen:
            seen.add(marker)
            unique.append(key)
    if unique and (_callbacks or _batch_callbacks):
        transaction.on_commit(lambda: _dispatch(connection_id, table, unique))


def event_key(table: str, row: dict[str, str]) -> dict:
    """The event/MappingMissing key of a mapping row in text form."""
    if table == "project":
        return {"procore_project_id": row["procore_project_id"]}
    if table == "cost_code":
        return {"cost_code": row["cost_code"], "cost_type": row["cost_type"] or None}
    if table == "vendor":
        return {"procore_vendor_id": row["procore_vendor_id"]}
    if table == "account_role":
        return {"role": row["role"]}
    if table == "currency":
        return {"currency": row["currency"]}
    raise ValueError(f"unknown mapping table {table!r}")
