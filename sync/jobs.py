"""django-q2 jobs: take ids, are idempotent (delivery is at least once), call a service."""

from __future__ import annotations

from typing import Any

from sync.services.runs import change_send, items_reevaluate, sync_run


def run_flow(
    connection_id: int, object_type: str, procore_id: str | None = None, trigger: str = "schedule"
) -> dict[str, Any]:
    """Safe to repeat: unchanged records cost no ERP write, the flow lock stops overlaps."""
    run = sync_run(
        connection_id=connection_id,
        object_type=object_type,
        procore_id=procore_id,
        trigger=trigger,
    )
    return {"run": run.pk, "status": run.status, **run.counts()}


def send_change(change_id: int) -> str:
    """Send an approved change; a second delivery finds it sent (or claimed) and does nothing."""
    return change_send(change_id=change_id)


def reevaluate_blocked(connection_id: int, table: str, key: dict[str, str]) -> int:
    return len(items_reevaluate(connection_id=connection_id, table=table, key=key))


def on_mapping_added(connection_id: int, table: str, key: dict[str, str]) -> None:
    """``mappings.events`` callback (it runs after the mapping's transaction committed):
    re-check the items blocked on that mapping in a task, off the admin's request."""
    from django_q.tasks import async_task

    async_task("sync.jobs.reevaluate_blocked", connection_id, table, key)


def send_queue_digest() -> int:
    """Daily: the exception queue digest to controllers (scheduled by migration)."""
    from sync.services.digest import queue_digest_send

    return queue_digest_send()


def run_flow_batched(
    connection_id: int, object_type: str, trigger: str = "schedule", batch: int | None = None
) -> dict[str, Any]:
    """Fetch, then one ``sync_batch`` task per batch of records (sync/services/batches.py): a
    killed worker costs one batch, and the batches spread over all workers."""
    from sync.services.batches import BATCH, sync_fan_out

    run = sync_fan_out(
        connection_id=connection_id,
        object_type=object_type,
        trigger=trigger,
        batch=batch or BATCH,
    )
    return {"run": run.pk, "status": run.status, "total": run.total}


def sync_stored_batch(batch_id: int) -> dict[str, int]:
    """Plan, send and bind one stored batch (``RunBatch``); safe to deliver twice."""
    from sync.services.batches import sync_stored_batch as batch

    return batch(batch_id)


def sync_batch(run_id: int, object_type: str, sources: list) -> dict[str, int]:
    """The batch task as the release before ``RunBatch`` queued it, with its records in its
    arguments: kept so that tasks queued before an upgrade still run after it."""
    from sync.services.batches import sync_batch as batch

    return batch(run_id=run_id, object_type=object_type, sources=sources)


def recover_stale_changes() -> dict[str, int]:
    """Every few minutes (schedule ``recover-stale-changes``): send again the changes a dead
    worker left in ``sending`` (sync/services/recovery.py), and close the runs a dead worker
    left ``running`` with no progress (sync.services.runs.runs_close_interrupted); a second
    delivery finds neither. It also keeps the task history bounded
    (erpbridge.task_history)."""
    from erpbridge.task_history import task_history_prune
    from sync.services.recovery import changes_recover_stale
    from sync.services.runs import runs_close_interrupted

    counts = changes_recover_stale()
    closed = runs_close_interrupted()
    if closed:
        counts["runs_interrupted"] = len(closed)
    pruned = task_history_prune()
    if pruned:
        counts["tasks_pruned"] = pruned
    return counts
