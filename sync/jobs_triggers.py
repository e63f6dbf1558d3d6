"""django-q2 jobs for the triggers (webhooks, polling, "sync now", full resync).

Stable dotted names: schedules and queued tasks store them (``sync.jobs_triggers.<name>``),
so renaming one needs a data migration. Each takes ids, is idempotent (delivery is at least
once) and only calls a service.
"""

from __future__ import annotations

from typing import Any


def _summary(runs) -> list[dict[str, Any]]:
    return [{"run": r.pk, "flow": r.object_type, "status": r.status, **r.counts()} for r in runs]


def process_delivery(delivery_id: int) -> dict[str, Any]:
    from sync.webhooks.services import delivery_process

    return delivery_process(delivery_id=int(delivery_id))


def poll_connection(connection_id: int) -> list[dict[str, Any]]:
    from sync.polling import poll_connection as poll

    return _summary(poll(connection_id=int(connection_id)))


def sync_now(connection_id: int, object_type: str = "", procore_id: str = "") -> list[dict]:
    from sync.triggers import sync_now as run

    return _summary(
        run(connection_id=int(connection_id), object_type=object_type, procore_id=procore_id)
    )


def continue_flows(connection_id: int, names: list[str], trigger: str = "sync_now") -> list:
    """The flows a succeeded run carried (``SyncRun.then_flows``), started in order: polled
    when the run was a poll's, else synced."""
    if trigger == "poll":
        from sync.polling import poll_flows

        return _summary(poll_flows(connection_id=int(connection_id), names=list(names)))
    from sync.services.batches import sync_flows

    return _summary(
        sync_flows(connection_id=int(connection_id), names=list(names), trigger=trigger)
    )


def settle_cursor(run_id: int) -> bool:
    """A poll run in batches has succeeded: move its flow's cursor."""
    from sync.polling import cursor_settle

    return cursor_settle(run_id=int(run_id))


def full_resync(connection_id: int, object_type: str = "", _unused: str = "") -> list[dict]:
    from sync.triggers import full_resync as run

    return _summary(run(connection_id=int(connection_id), object_type=object_type))


def ensure_schedules() -> list[str]:
    from sync.schedules import schedules_ensure

    return schedules_ensure()
