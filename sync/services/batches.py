"""A flow run split into tasks: one task fetches the Procore records and queues them in
batches, one task per batch plans, sends and binds its records.

Why: a run of thousands of records in one task loses all its progress when its worker is
killed (the task comes back after ``retry`` and starts over), and one task uses one worker
however many a cluster has. Split, a kill costs at most the batch in hand (redelivered, and
idempotent: an unchanged record is skipped without an ERP call, a planned Change is reused, a
Change left in ``sending`` is claimed again once stale and written idempotently), and the
batches spread over every worker of every cluster.

The fetch task holds the flow's lease (a second fetch of the same flow waits its turn); the
batch tasks do not: two batches holding the same record (two overlapping runs) are kept apart
per record by the Change's unique idempotency key and its conditional claim.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError
from django.db.models import F
from django.utils import timezone

from sync.config import pushes
from sync.engine import plan_record
from sync.erp.prefetch import PrefetchedDuplicates
from sync.flows import Source, flow_for
from sync.models import Connection, Outcome, RunStatus, SyncRun, SyncRunRecord
from sync.services.locks import lock_acquire, lock_release, lock_renew
from sync.services.runs import (
    ClientFactory,
    LookupFactory,
    _calls,
    _finish,
    _repair_write_back,
    build_context,
)
from sync.writer import ConnectionDown, send_change

log = logging.getLogger(__name__)

BATCH = 25  # records per task: small enough that a kill loses little, large enough to amortise
# Flows whose Procore number is the ERP document number: their duplicate search is batched.
DOCUMENT_TYPES = {"commitments": {"netsuite": "purchaseOrder", "quickbooks": "PurchaseOrder"}}
Enqueue = Callable[[int, str, list[Source]], Any]  # (run id, flow, sources) -> queued


def _async_enqueue(run_id: int, object_type: str, sources: list[Source]) -> Any:
    from django_q.tasks import async_task

    return async_task("sync.jobs.sync_batch", run_id, object_type, sources, group=f"run-{run_id}")


def sync_fan_out(
    *,
    connection_id: int,
    object_type: str,
    trigger: str = "schedule",
    batch: int = BATCH,
    enqueue: Enqueue | None = None,
    clients: ClientFactory | None = None,
    lookup: LookupFactory | None = None,
) -> SyncRun:
    """Fetch the flow's Procore records and queue them in batches; the run stays ``running``
    until its batches have recorded every record (``done == total``)."""
    connection = Connection.objects.select_related("procore_connection").get(pk=connection_id)
    flow = flow_for(object_type)
    run = SyncRun.objects.create(connection=connection, object_type=flow.name, trigger=trigger)
    if not pushes(connection, flow.name):
        return _finish(run, RunStatus.SUCCEEDED, f"direction for {flow.name} is not push")
    token = lock_acquire(connection_id=connection.pk, flow=flow.name)
    if token is None:
        return _finish(run, RunStatus.LOCKED, "another run of this flow is in progress")
    send = enqueue or _async_enqueue
    try:
        ctx = build_context(connection, run=run, clients=clients, lookup=lookup)
        pending: list[Source] = []
        total = 0
        for n, source in enumerate(flow.fetch(ctx, None), start=1):
            pending.append(source)
            if len(pending) == batch:
                total += _queue(run, flow.name, pending, send)
                pending = []
            if n % 50 == 0:
                lock_renew(connection_id=connection.pk, flow=flow.name, token=token)
        total += _queue(run, flow.name, pending, send)
        SyncRun.objects.filter(pk=run.pk).update(api_calls=F("api_calls") + _calls(ctx))
        if total == 0:
            return _finish(run, RunStatus.SUCCEEDED)
        run.refresh_from_db()
        return run
    except Exception as exc:
        _finish(run, RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        lock_release(connection_id=connection.pk, flow=flow.name, token=token)


def _queue(run: SyncRun, flow: str, sources: list[Source], send: Enqueue) -> int:
    if not sources:
        return 0
    # Count first: a fast batch must not find done == total before the total is known.
    SyncRun.objects.filter(pk=run.pk).update(total=F("total") + len(sources))
    send(run.pk, flow, list(sources))
    return len(sources)


def sync_batch(
    *,
    run_id: int,
    object_type: str,
    sources: list[Source],
    clients: ClientFactory | None = None,
    lookup: LookupFactory | None = None,
) -> dict[str, int]:
    """Plan, send and bind one batch of records of a fanned-out run. Safe to deliver twice."""
    run = SyncRun.objects.select_related("connection__procore_connection").get(pk=run_id)
    flow = flow_for(object_type)
    ctx = build_context(run.connection, run=run, clients=clients, lookup=lookup)
    erp_type = DOCUMENT_TYPES.get(flow.name, {}).get(ctx.kind)
    if erp_type:  # the batch's duplicate search in one query (sync/erp/prefetch.py)
        numbers = [getattr(s.record, "number", None) for s in sources if not s.skip]
        ctx.erp = PrefetchedDuplicates(ctx.erp, erp_type, numbers)
    ctx.cache["calls_at_start"] = _calls(ctx)  # clients may be shared across batches
    counts = {o.value: 0 for o in Outcome}
    try:
        for source in sources:
            try:
                planned = plan_record(ctx, flow, source)
            except IntegrityError:  # an overlapping run stored this record's change first
                _record(run, source.procore_id, Outcome.SKIPPED, None, "planned by another run")
                counts[Outcome.SKIPPED] += 1
                continue
            outcome, note, change = planned.outcome, planned.note, planned.change
            if outcome == "send":
                sent = send_change(ctx, flow, change)
                outcome, note = sent.outcome, sent.note
            elif note == "unchanged":
                _repair_write_back(ctx, flow, source.procore_id)
            _record(run, source.procore_id, outcome, change, note or source.skip)
            counts[outcome] += 1
    except ConnectionDown as exc:
        _close(run, ctx, RunStatus.FAILED, f"connection needs attention: {exc}")
        return counts
    _close(run, ctx)
    return counts


def _record(run: SyncRun, procore_id: str, outcome: str, change, note: str) -> None:
    SyncRunRecord.objects.create(
        run=run, procore_id=procore_id, outcome=outcome, change=change, note=note[:300]
    )
    SyncRun.objects.filter(pk=run.pk).update(done=F("done") + 1, **{outcome: F(outcome) + 1})


def _close(run: SyncRun, ctx, status: str = RunStatus.SUCCEEDED, error: str = "") -> None:
    calls = _calls(ctx) - ctx.cache.get("calls_at_start", 0)
    SyncRun.objects.filter(pk=run.pk).update(api_calls=F("api_calls") + calls)
    # The last batch to finish closes the run (a redelivered batch counts its records again:
    # done may pass total, never stop short of it).
    fields: dict[str, Any] = {"status": status, "finished_at": timezone.now()}
    if error:
        fields["error"] = error[:5000]
    finished = SyncRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING)
    if status == RunStatus.SUCCEEDED:
        finished = finished.filter(done__gte=F("total"))
    finished.update(**fields)
