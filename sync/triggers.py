""" "Sync now" and the full resync: what an integration admin starts by hand.

``sync_now_request`` only enqueues (the page answers at once; the run page shows progress);
the job calls ``sync_now``. A full resync walks every Procore record of a flow and, for one
that has no binding yet, first looks for the ERP document that already exists and *binds* it
instead of creating a second one (``sync.services.resync``). Records already bound go through
the engine as usual: unchanged ones cost no ERP call, so a full resync over an already-synced
company writes nothing.
"""

from __future__ import annotations

from audit.services import audit_record
from sync.flows import flow_for
from sync.models import Connection, SyncRun
from sync.polling import polled_flows
from sync.services.batches import sync_flow, sync_flows
from sync.services.resync import TRIGGER as FULL_RESYNC


def sync_now_request(
    *, connection_id: int, object_type: str = "", procore_id: str = "", full: bool = False
) -> str:
    """Queue a sync of a connection (every flow), one object type, or one record."""
    from django_q.tasks import async_task

    connection = Connection.objects.get(pk=connection_id)
    if not connection.is_erp:
        raise ValueError("sync runs belong to an ERP connection")
    if object_type:
        flow_for(object_type)  # refuses an unknown name before anything is queued
    if procore_id and not object_type:
        raise ValueError("a single record needs its object type")
    func = "sync.jobs_triggers.full_resync" if full else "sync.jobs_triggers.sync_now"
    audit_record(
        actor=None,  # the signed-in person who pressed the button or called the API
        action="sync.full_resync" if full else "sync.sync_now",
        target=connection,
        after={"object_type": object_type or "", "procore_id": str(procore_id or "")},
    )
    return async_task(func, connection_id, object_type or "", str(procore_id or ""))


def sync_now(
    *, connection_id: int, object_type: str = "", procore_id: str = "", clients=None, lookup=None
) -> list[SyncRun]:
    """Sync one record, one flow, or every flow of the connection. A whole flow runs in
    batches with the ERP's concurrency, spread over the workers; its run shows "running"
    until its last batch is recorded. Every flow: in dependency order, each started once the
    one before it has succeeded (``sync_flows``), so the runs returned are those started here."""
    if procore_id:
        return [
            sync_flow(
                connection_id=connection_id,
                object_type=object_type,
                procore_id=procore_id,
                trigger="sync_now",
                clients=clients,
                lookup=lookup,
            )
        ]
    connection = Connection.objects.get(pk=connection_id)
    names = [object_type] if object_type else polled_flows(connection)
    return sync_flows(
        connection_id=connection_id,
        names=names,
        trigger="sync_now",
        clients=clients,
        lookup=lookup,
    )


def full_resync(
    *, connection_id: int, object_type: str = "", clients=None, lookup=None
) -> list[SyncRun]:
    """Every record of one flow, or of every flow in order, each record without a binding
    first bound to the ERP document that already holds it (``sync.services.resync``). Runs
    in batches like sync now: a large company no longer outlasts one task's timeout."""
    connection = Connection.objects.get(pk=connection_id)
    names = [object_type] if object_type else polled_flows(connection)
    return sync_flows(
        connection_id=connection_id,
        names=names,
        trigger=FULL_RESYNC,
        clients=clients,
        lookup=lookup,
    )
