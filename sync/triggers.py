""" "Sync now" and the full resync: what an integration admin starts by hand.

``sync_now_request`` only enqueues (the page answers at once; the run page shows progress);
the job calls ``sync_now``. A full resync walks every Procore record of a flow and, for one
that has no binding yet, first looks for the ERP document that already exists (NetSuite by
our externalId, either ERP by document number + vendor through the adapter's duplicate
search) and *binds* it instead of creating a second one. Records already bound go through the
engine as usual: unchanged ones cost no ERP call, so a full resync over an already-synced
company writes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from sync.engine import plan_record
from sync.fingerprint import canonical, fingerprint
from sync.flows import flow_for
from sync.lookups import MappingMissing
from sync.models import Binding, Connection, Kind, Outcome, RunStatus, SyncRun
from sync.polling import polled_flows
from sync.services.batches import sync_flow, sync_flows
from sync.services.exceptions import items_auto_resolve
from sync.services.locks import lock_acquire, lock_release, lock_renew
from sync.services.runs import RENEW_EVERY, _calls, _finish, _record, build_context
from sync.writer import ConnectionDown, send_change, write_back

log = logging.getLogger(__name__)


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
    connection = Connection.objects.get(pk=connection_id)
    names = [object_type] if object_type else polled_flows(connection)
    return [_resync_flow(connection_id, name, clients=clients, lookup=lookup) for name in names]


def _resync_flow(connection_id: int, name: str, *, clients, lookup) -> SyncRun:
    connection = Connection.objects.select_related("procore_connection").get(pk=connection_id)
    flow = flow_for(name)
    run = SyncRun.objects.create(
        connection=connection, object_type=flow.name, trigger="full_resync"
    )
    token = lock_acquire(connection_id=connection.pk, flow=flow.name)
    if token is None:
        return _finish(run, RunStatus.LOCKED, "another run of this flow is in progress")
    ctx = None
    bound = 0
    try:
        ctx = build_context(connection, run=run, clients=clients, lookup=lookup)
        for n, source in enumerate(flow.fetch(ctx, None), start=1):
            linked = None if source.skip or source.deleted else _bind_existing(ctx, flow, source)
            if linked is not None:
                bound += 1
                _record(run, source.procore_id, Outcome.SYNCED, None, linked)
            else:
                planned = plan_record(ctx, flow, source)
                outcome, note, change = planned.outcome, planned.note, planned.change
                if outcome == "send":
                    sent = send_change(ctx, flow, change)
                    outcome, note = sent.outcome, sent.note
                _record(run, source.procore_id, outcome, change, note or source.skip)
            if n % RENEW_EVERY == 0:
                lock_renew(connection_id=connection.pk, flow=flow.name, token=token)
        run.api_calls = _calls(ctx)
        run.note = f"full resync: {bound} bound to documents already in the ERP"
        SyncRun.objects.filter(pk=run.pk).update(note=run.note)
        return _finish(run, RunStatus.SUCCEEDED)
    except ConnectionDown as exc:
        run.api_calls = _calls(ctx) if ctx else 0
        return _finish(run, RunStatus.FAILED, f"connection needs attention: {exc}")
    except Exception as exc:
        run.api_calls = _calls(ctx) if ctx else 0
        _finish(run, RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        lock_release(connection_id=connection.pk, flow=flow.name, token=token)


def _bound_payload(full, plan, source) -> dict:
    """The payload of a binding made without a Change: the flows' write-backs read the Procore
    kind and project from it, as they would from the Change (summaries ignore ``_`` keys)."""
    payload = canonical(full)
    if plan.context.get("kind"):
        payload["_kind"] = plan.context["kind"]
    project_id = plan.context.get("project_id") or source.project_id
    if project_id:
        payload["_project_id"] = str(project_id)
    return payload


def _bind_existing(ctx, flow, source) -> str | None:
    """Bind an unbound Procore record to the one ERP document that already holds it; a note
    when bound, ``None`` to let the engine plan it as usual."""
    if Binding.objects.filter(
        connection=ctx.connection, object_type=flow.binding_type, procore_id=source.procore_id
    ).exists():
        return None
    try:
        plan = flow.propose(ctx, source, None)
    except MappingMissing:
        return None  # the engine opens the UNMAPPED_* item
    if plan is None or plan.holds or plan.operation != "create" or not plan.erp_type:
        return None
    remote = _existing(ctx, flow, source, plan)
    if remote is None:
        return None
    full = plan.full_payload if plan.full_payload is not None else plan.payload
    try:
        with transaction.atomic():
            binding = Binding.objects.create(
                connection=ctx.connection,
                object_type=flow.binding_type,
                procore_id=source.procore_id,
                # As the flows' own bindings: the parent record, else the project (what a
                # write-back without a Change reads).
                parent_procore_id=str(source.parent_id or source.project_id or ""),
                erp_type=plan.erp_type,
                erp_id=remote.erp_id,
                erp_number=remote.number or plan.number,
                fingerprint=fingerprint(full),
                payload=_bound_payload(full, plan, source),
                erp_version=remote.version,
                synced_at=timezone.now(),
            )
    except IntegrityError:
        return None  # that ERP document is bound to another record already
    try:
        write_back(ctx, flow, binding)  # best effort: the next run repeats a missing one
    except Exception:  # noqa: BLE001 - a flow's write-back must not stop the resync
        log.exception("write-back after binding %s %s failed", flow.name, source.procore_id)
    items_auto_resolve(
        connection_id=ctx.connection.pk,
        object_type=flow.binding_type,
        procore_id=source.procore_id,
        note=f"full resync bound it to ERP {plan.erp_type} {remote.number or remote.erp_id}",
    )
    return f"bound to existing {plan.erp_type} {remote.number or remote.erp_id} (nothing written)"


def _existing(ctx, flow, source, plan) -> Any:
    taken = set(
        Binding.objects.filter(connection=ctx.connection, erp_type=plan.erp_type).values_list(
            "erp_id", flat=True
        )
    )
    if ctx.kind == Kind.NETSUITE:
        client = getattr(ctx.erp, "client", None)
        found = (
            client.find_by_external_id(plan.erp_type, flow.external_id(ctx, source.procore_id))
            if client
            else None
        )
        if found and str(found.get("id")) not in taken:
            return ctx.erp.read(plan.erp_type, str(found["id"]))
    if not plan.check_duplicates:
        return None
    candidates = [
        r
        for r in ctx.erp.find_duplicates(plan.erp_type, canonical(plan.payload))
        if r.erp_id not in taken
    ]
    if len(candidates) != 1:
        return None  # none, or ambiguous: the engine's SUSPECTED_DUPLICATE asks a person
    return ctx.erp.read(plan.erp_type, candidates[0].erp_id) or candidates[0]
