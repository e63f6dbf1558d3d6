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
import pickle
import time
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from django.db import IntegrityError
from django.db.models import F
from django.utils import timezone

from connectors.limits import slot_priority
from sync.config import AMEND_IN_PLACE, PULL, pushes
from sync.engine import plan_record, prefetch, store_new
from sync.erp.prefetch import PrefetchedDuplicates
from sync.flows import Source, flow_for
from sync.flows.commitments import prefetch_amended
from sync.models import (
    Binding,
    Connection,
    Outcome,
    RunBatch,
    RunStatus,
    SyncRun,
    SyncRunRecord,
)
from sync.services.chain import in_order, run_succeeded
from sync.services.locks import lock_acquire, lock_release, lock_renew
from sync.services.resync import BOUND, bind_existing
from sync.services.resync import TRIGGER as RESYNC
from sync.services.runs import (
    ClientFactory,
    LookupFactory,
    _calls,
    _finish,
    _repair_write_back,
    build_context,
    sync_run,
)
from sync.writer import ConcurrentSender, ConnectionDown, send_change, write_concurrency

log = logging.getLogger(__name__)

# Records per task: small enough that a kill loses little (the batch is redone), large enough
# to amortise what each batch does once (its duplicate search, reading back the versions of the
# documents it created, the task's own bookkeeping). Measured 2026-12-04, NetSuite, qcluster x 3,
# PostgreSQL + Redis, 2,000 + 2,000 at rate scale 5: 25 kept 66 % of the account's slots
# writing (calls 1.04 x the minimum), 50 kept 81 % (1.02 x), 100 kept 86 % (1.01 x); and
# 2026-12-05 (batches stored, not carried in the task), 5,000 + 5,000: 50 kept 87 %, 100 kept
# 90 %. Each batch costs two serial ERP reads and a worker's turn-around with none of its
# requests in flight; a killed worker's batch is planned again, which writes nothing twice.
BATCH = 100
# The run's first batch is smaller, so that its ERP writes start once the fetch has read a page
# or two, not a full batch's worth: measured, a run's first write came 0.9-1.4 s after its start.
FIRST_BATCH = 20
# Flows whose Procore number is the ERP document number: their duplicate search is batched.
BILLS = {"netsuite": "vendorBill", "quickbooks": "Bill"}
DOCUMENT_TYPES = {
    "commitments": {"netsuite": "purchaseOrder", "quickbooks": "PurchaseOrder"},
    "requisitions": BILLS,
    "retainage_releases": BILLS,
}
Enqueue = Callable[[int, str, list[Source]], Any]  # (run id, flow, sources) -> queued


def _async_enqueue(run_id: int, object_type: str, sources: list[Source]) -> Any:
    """Store the batch (``RunBatch``: why) and queue a task that carries its id."""
    from django_q.tasks import async_task

    stored = batch_store(run_id, object_type, sources)
    return async_task("sync.jobs.sync_stored_batch", stored, group=f"run-{run_id}")


def batch_store(run_id: int, object_type: str, sources: list[Source]) -> int:
    return RunBatch.objects.create(
        run_id=run_id,
        object_type=object_type,
        size=len(sources),
        sources=pickle.dumps(list(sources), protocol=pickle.HIGHEST_PROTOCOL),
    ).pk


def sync_stored_batch(
    batch_id: int, *, clients: ClientFactory | None = None, lookup: LookupFactory | None = None
) -> dict[str, int]:
    """``sync_batch`` for a stored batch, which is deleted once its records are recorded. A
    second delivery after that finds no batch and does nothing; one before it (the worker died
    mid-batch) runs the batch again, which writes nothing twice (``sync_batch``)."""
    row = RunBatch.objects.filter(pk=batch_id).values_list("run_id", "object_type", "sources")
    found = row.first()
    if found is None:
        return {}
    run_id, object_type, raw = found
    counts = sync_batch(
        run_id=run_id,
        object_type=object_type,
        sources=pickle.loads(raw),  # noqa: S301 - our own rows (RunBatch.sources)
        clients=clients,
        lookup=lookup,
    )
    RunBatch.objects.filter(pk=batch_id).delete()
    return counts


def sync_fan_out(
    *,
    connection_id: int,
    object_type: str,
    trigger: str = "schedule",
    batch: int = BATCH,
    enqueue: Enqueue | None = None,
    clients: ClientFactory | None = None,
    lookup: LookupFactory | None = None,
    then: list[str] | tuple[str, ...] = (),
    run: SyncRun | None = None,
    only: set[str] | None = None,
) -> SyncRun:
    """Fetch the flow's Procore records and queue them in batches; the run stays ``running``
    until its batches have recorded every record (``done == total``). ``then``: the flows to
    start, in order, once this run has succeeded (``sync.services.chain``); stored with the
    first batch queued, and started by whoever closes the run. ``run``: one the caller
    created (a poll's, which moves the flow's cursor when it succeeds); ``only``: the
    Procore ids to queue, the others fetched (a page read costs what it costs) and passed
    over."""
    connection = Connection.objects.select_related("procore_connection").get(pk=connection_id)
    flow = flow_for(object_type)
    if run is None:
        run = SyncRun.objects.create(connection=connection, object_type=flow.name, trigger=trigger)
    if not pushes(connection, flow.name):
        return _succeeded(run, f"direction for {flow.name} is not push")
    token = lock_acquire(connection_id=connection.pk, flow=flow.name)
    if token is None:
        return _finish(run, RunStatus.LOCKED, "another run of this flow is in progress")
    send = enqueue or _async_enqueue
    try:
        ctx = build_context(connection, run=run, clients=clients, lookup=lookup)
        pending: list[Source] = []
        total = 0
        # The fetch's own calls: an enqueue that runs the batch in this process (tests, the
        # benchmark) may share the clients, and the batches count theirs themselves.
        started, elsewhere = _calls(ctx), 0
        for n, source in enumerate(flow.fetch(ctx, None), start=1):
            if only is None or source.procore_id in only:
                pending.append(source)
            if len(pending) == (batch if total else min(batch, FIRST_BATCH)):
                before = _calls(ctx)
                total += _queue(run, flow.name, pending, send, then if total == 0 else ())
                elsewhere += _calls(ctx) - before
                pending = []
            if n % 50 == 0:
                lock_renew(connection_id=connection.pk, flow=flow.name, token=token)
        before = _calls(ctx)
        total += _queue(run, flow.name, pending, send, then if total == 0 else ())
        elsewhere += _calls(ctx) - before
        own = _calls(ctx) - started - elsewhere
        SyncRun.objects.filter(pk=run.pk).update(
            api_calls=F("api_calls") + own, fetched_at=timezone.now()
        )
        if total == 0:
            return _succeeded(run)
        # Every batch may have finished while the fetch was still queuing: then none of them
        # could close the run, and the fetch does.
        _succeed_when_done(run)
        run.refresh_from_db()
        return run
    except Exception as exc:
        _finish(run, RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        lock_release(connection_id=connection.pk, flow=flow.name, token=token)


def sync_flow(
    *,
    connection_id: int,
    object_type: str,
    trigger: str,
    procore_id: str | None = None,
    inline: bool = False,
    clients: ClientFactory | None = None,
    lookup: LookupFactory | None = None,
    then: list[str] | tuple[str, ...] = (),
    run: SyncRun | None = None,
    only: set[str] | None = None,
) -> SyncRun:
    """Run a whole flow the fast way. A push flow fans out in batches, each sent with the
    ERP's concurrency in flight: queued as tasks spread over the workers, or, when ``inline``
    or given clients (tests), run in this process one after another. An ERP → Procore flow
    goes through ``sync_run``, as does one record (``procore_id``). Record after record
    (``sync_run``'s loop) keeps one request in flight: at NetSuite's ~1 s a write, 5,000
    commitments took well over an hour, not minutes.

    ``then`` (flows to start once this one has succeeded) is handed to the run only when its
    batches are queued as tasks; otherwise the run is over when this returns and the caller
    (``sync_flows``) goes on itself."""
    flow = flow_for(object_type)
    if procore_id or getattr(flow, "direction", "push") == PULL:
        return sync_run(
            connection_id=connection_id,
            object_type=object_type,
            procore_id=procore_id,
            trigger=trigger,
            clients=clients,
            lookup=lookup,
        )
    enqueue = None
    if inline or clients is not None or lookup is not None:
        then = ()

        def enqueue(run_id: int, name: str, sources: list[Source]) -> None:
            sync_batch(
                run_id=run_id, object_type=name, sources=sources, clients=clients, lookup=lookup
            )

    return sync_fan_out(
        connection_id=connection_id,
        object_type=object_type,
        trigger=trigger,
        enqueue=enqueue,
        clients=clients,
        lookup=lookup,
        then=then,
        run=run,
        only=only,
    )


def sync_flows(
    *,
    connection_id: int,
    names: list[str],
    trigger: str,
    clients: ClientFactory | None = None,
    lookup: LookupFactory | None = None,
) -> list[SyncRun]:
    """Sync several flows in the given order, each once the one before it has succeeded
    (``sync.services.chain.in_order``: why, and how a fanned-out run hands the rest over)."""

    def start(name: str, rest: list[str]) -> SyncRun:
        return sync_flow(
            connection_id=connection_id,
            object_type=name,
            trigger=trigger,
            clients=clients,
            lookup=lookup,
            then=rest,
        )

    return in_order(names, start)


def _succeeded(run: SyncRun, error: str = "") -> SyncRun:
    """The fetch ends the run itself (nothing to queue, or not a push flow)."""
    _resync_note(run)
    run = _finish(run, RunStatus.SUCCEEDED, error)
    run_succeeded(run)
    return run


def _resync_note(run: SyncRun) -> None:
    """A full resync's run says how many records it bound to documents the ERP held."""
    if run.trigger != RESYNC:
        return
    bound = SyncRunRecord.objects.filter(run_id=run.pk, note__startswith=BOUND).count()
    SyncRun.objects.filter(pk=run.pk).update(
        note=f"full resync: {bound} bound to documents already in the ERP"
    )


def _queue(run: SyncRun, flow: str, sources: list[Source], send: Enqueue, then=()) -> int:
    """Queue one batch. ``then``, with the run's first batch: the flows its closer starts."""
    if not sources:
        return 0
    # Count first: a fast batch must not find done == total before its own records count
    # (nor close the run while the fetch goes on: see ``fetched_at`` in ``_close``).
    handed = {"then_flows": list(then)} if then else {}
    SyncRun.objects.filter(pk=run.pk).update(
        total=F("total") + len(sources), progressed_at=timezone.now(), **handed
    )
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
    """Plan, send and bind one batch of records of a fanned-out run. Safe to deliver twice.

    Its ERP requests wait for the account's shared concurrency slots with the batch's start
    as their priority, so the oldest batch in a cluster goes first (``RedisConcurrency``).

    What planning needs is read for the whole batch first (bindings, changes, open items,
    the duplicate search); flows whose writes are HTTP only are planned first (every Change
    stored before any call) and then sent with the ERP's concurrency in flight
    (``sync.writer.send_changes``); the run's records are stored together at the end."""
    with slot_priority(time.time()):
        return _sync_batch(run_id, object_type, sources, clients, lookup)


def _sync_batch(run_id, object_type, sources, clients, lookup) -> dict[str, int]:
    run = SyncRun.objects.select_related("connection__procore_connection").get(pk=run_id)
    flow = flow_for(object_type)
    ctx = build_context(run.connection, run=run, clients=clients, lookup=lookup)
    erp_type = DOCUMENT_TYPES.get(flow.name, {}).get(ctx.kind)
    if erp_type:  # the batch's duplicate search in one query (sync/erp/prefetch.py)
        live = [s for s in sources if not s.skip]
        if hasattr(flow, "document_numbers"):
            numbers = flow.document_numbers(live)
        else:
            numbers = [getattr(s.record, "number", None) for s in live]
        ctx.erp = PrefetchedDuplicates(ctx.erp, erp_type, numbers)
    ctx.cache["calls_at_start"] = _calls(ctx)  # clients may be shared across batches
    _prefetch(ctx, flow, sources)
    counts = {o.value: 0 for o in Outcome}
    rows: list[tuple[str, str, Any, str]] = []
    together = getattr(flow, "concurrent_writes", False) and write_concurrency(ctx) > 1
    to_send: list[tuple[Source, Any]] = []
    sender = ConcurrentSender(ctx, flow) if together else None
    resync = run.trigger == RESYNC
    unsaved: list[tuple[Source, Any]] = []  # new clean changes, stored a group at a time
    try:
        with sender or nullcontext():
            for source in sources:
                if resync and not (source.skip or source.deleted):
                    bound = bind_existing(ctx, flow, source)
                    if bound is not None:  # the ERP held it already: bound, nothing written
                        rows.append((source.procore_id, Outcome.SYNCED, None, bound))
                        continue
                try:
                    planned = plan_record(ctx, flow, source, save=sender is None)
                except IntegrityError:  # an overlapping run stored this record's change first
                    rows.append(
                        (source.procore_id, Outcome.SKIPPED, None, "planned by another run")
                    )
                    continue
                outcome, note, change = planned.outcome, planned.note, planned.change
                if outcome == "send" and sender is not None:
                    if change.pk is None:
                        unsaved.append((source, change))
                        if len(unsaved) >= sender.limit:
                            _store_and_add(sender, unsaved, to_send, rows)
                    else:
                        to_send.append((source, change))
                        sender.add(change)  # stored; sent while the next ones are planned
                    continue
                if outcome == "send":
                    sent = send_change(ctx, flow, change)
                    outcome, note = sent.outcome, sent.note
                elif note == "unchanged":
                    _repair_write_back(ctx, flow, source.procore_id)
                rows.append((source.procore_id, outcome, change, note or source.skip))
            _store_and_add(sender, unsaved, to_send, rows)
    except ConnectionDown as exc:
        _sent_rows(rows, to_send, sender.results if sender is not None else {})
        _record_all(run, rows, counts)
        _close(run, ctx, RunStatus.FAILED, f"connection needs attention: {exc}")
        return counts
    _sent_rows(rows, to_send, sender.results if sender is not None else {})
    _record_all(run, rows, counts)
    _close(run, ctx)
    return counts


def _store_and_add(sender, unsaved, to_send, rows) -> None:
    """Store the group's new changes in one INSERT (committed, state planned, before any of
    them is claimed and sent), then hand them to the sender, whose claims share an UPDATE."""
    if not unsaved:
        return
    store_new([change for _, change in unsaved])
    stored = []
    for source, change in unsaved:
        if change.pk is None:  # an overlapping run stored this record's change first
            rows.append((source.procore_id, Outcome.SKIPPED, None, "planned by another run"))
            continue
        to_send.append((source, change))
        stored.append(change)
    unsaved.clear()
    sender.add(*stored)


def _carried(ctx, sources: list[Source]) -> None:
    """Seed the batch's cache with the reads the fetch made for its records (Source.cache)."""
    seen: dict[str, set] = {}
    for source in sources:
        for key, value in (getattr(source, "cache", None) or {}).items():
            if isinstance(value, dict):
                ctx.cache.setdefault(key, {}).update(value)
            elif isinstance(value, list):
                have = ctx.cache.setdefault(key, [])
                ids = seen.setdefault(key, {getattr(v, "id", id(v)) for v in have})
                for item in value:
                    if getattr(item, "id", id(item)) not in ids:
                        ids.add(getattr(item, "id", id(item)))
                        have.append(item)
            else:
                ctx.cache[key] = value


def _prefetch(ctx, flow, sources: list[Source]) -> None:
    _carried(ctx, sources)
    prefetch(ctx, flow, [s.procore_id for s in sources])
    parents = sorted({s.parent_id for s in sources if s.parent_id})
    if parents and getattr(flow, "concurrent_writes", False):  # the documents' commitments
        known = ctx.cache["bindings"]
        for pid in parents:
            known.setdefault(("commitment", pid), None)
        for b in Binding.objects.filter(
            connection=ctx.connection, object_type="commitment", procore_id__in=parents
        ):
            known[("commitment", b.procore_id)] = b
    if flow.name == "commitments" and ctx.policies.change_order_strategy == AMEND_IN_PLACE:
        prefetch_amended(ctx, [s.procore_id for s in sources])


def _sent_rows(rows, to_send, results) -> None:
    for source, change in to_send:
        sent = results.get(change.pk)
        if sent is not None:
            rows.append((source.procore_id, sent.outcome, change, sent.note))


def _record_all(run: SyncRun, rows, counts: dict[str, int]) -> None:
    if not rows:
        return
    SyncRunRecord.objects.bulk_create(
        SyncRunRecord(run=run, procore_id=pid, outcome=outcome, change=change, note=note[:300])
        for pid, outcome, change, note in rows
    )
    per = Counter(outcome for _, outcome, _, _ in rows)
    for outcome, n in per.items():
        counts[outcome] += n
    SyncRun.objects.filter(pk=run.pk).update(
        done=F("done") + len(rows),
        progressed_at=timezone.now(),
        **{outcome: F(outcome) + n for outcome, n in per.items()},
    )


def _close(run: SyncRun, ctx, status: str = RunStatus.SUCCEEDED, error: str = "") -> None:
    calls = _calls(ctx) - ctx.cache.get("calls_at_start", 0)
    SyncRun.objects.filter(pk=run.pk).update(api_calls=F("api_calls") + calls)
    if status == RunStatus.SUCCEEDED:
        _succeed_when_done(run)
        return
    SyncRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        status=status, finished_at=timezone.now(), error=error[:5000]
    )


def _succeed_when_done(run: SyncRun) -> None:
    """The last batch to finish closes the run, once the fetch has queued them all (before
    that, total is still growing; the fetch calls this too, in case it ends last). A
    conditional UPDATE, so whichever comes last closes it, once. A redelivered batch counts
    its records again: done may pass total, never stop short of it. The one that closes it
    starts the flows it carries and settles a poll's cursor (``run_succeeded``)."""
    closed = SyncRun.objects.filter(
        pk=run.pk, status=RunStatus.RUNNING, done__gte=F("total"), fetched_at__isnull=False
    ).update(status=RunStatus.SUCCEEDED, finished_at=timezone.now())
    if closed:
        _resync_note(run)
        run_succeeded(run)
