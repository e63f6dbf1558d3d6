"""Entry points of the engine: run a flow for a connection (or one record), send an approved
change, re-evaluate items blocked on a mapping that was just added.

``clients`` and ``lookup`` are injection points (tests wire sandboxes through them; the
benchmark wires limits): ``clients(connection) -> connector client`` defaults to
``sync.clients.connection_client``, ``lookup(connection)`` to ``MappingLookup``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Q, Sum
from django.utils import timezone

from sync.config import PULL, policies, pulls, pushes
from sync.context import BoundLookup, SyncContext
from sync.engine import plan_record
from sync.erp import adapter_for
from sync.flows import BY_BINDING_TYPE, Flow, flow_for
from sync.lookups import MappingLookup
from sync.models import (
    ACTIVE_STATUSES,
    Binding,
    Change,
    ChangeState,
    Connection,
    ExceptionItem,
    Outcome,
    RunBatch,
    RunStatus,
    SyncRun,
    SyncRunRecord,
)
from sync.services.exceptions import blocked_key
from sync.services.locks import lock_acquire, lock_release, lock_renew
from sync.writer import ConnectionDown, send_change, write_back

log = logging.getLogger(__name__)

ClientFactory = Callable[[Connection], Any]
LookupFactory = Callable[[Connection], Any]
RENEW_EVERY = 50  # records between lease renewals and progress saves


def _default_clients(connection: Connection) -> Any:
    from sync.clients import connection_client

    return connection_client(connection)


def build_context(
    connection: Connection,
    *,
    run: SyncRun | None = None,
    clients: ClientFactory | None = None,
    lookup: LookupFactory | None = None,
) -> SyncContext:
    if not connection.is_erp or connection.procore_connection is None:
        raise ValueError(f"{connection.name} is not an ERP connection paired with Procore")
    make = clients or _default_clients
    procore_conn = connection.procore_connection
    mapping = lookup(connection) if lookup else MappingLookup(connection)
    return SyncContext(
        connection=connection,
        procore=make(procore_conn),
        erp=adapter_for(connection.kind, make(connection)),
        lookup=BoundLookup(mapping, connection),
        policies=policies(connection),
        company_id=str(procore_conn.settings.get("company_id") or procore_conn.pk),
        run=run,
    )


def _calls(ctx: SyncContext) -> int:
    return int(getattr(ctx.procore, "calls", 0)) + int(ctx.erp.calls)


def sync_run(
    *,
    connection_id: int,
    object_type: str,
    procore_id: str | None = None,
    trigger: str = "manual",
    clients: ClientFactory | None = None,
    lookup: LookupFactory | None = None,
) -> SyncRun:
    """Run one flow for one ERP connection (or one Procore record); returns the SyncRun."""
    connection = Connection.objects.select_related("procore_connection").get(pk=connection_id)
    flow = flow_for(object_type)
    run = SyncRun.objects.create(
        connection=connection,
        object_type=flow.name,
        procore_id=str(procore_id or ""),
        trigger=trigger,
    )
    pull = getattr(flow, "direction", "push") == PULL
    if not (pulls if pull else pushes)(connection, flow.name):
        wanted = "pull" if pull else "push"
        return _finish(run, RunStatus.SUCCEEDED, f"direction for {flow.name} is not {wanted}")
    token = lock_acquire(connection_id=connection.pk, flow=flow.name)
    if token is None:
        return _finish(run, RunStatus.LOCKED, "another run of this flow is in progress")
    ctx = None
    try:
        ctx = build_context(connection, run=run, clients=clients, lookup=lookup)
        if pull:  # ERP → Procore: the flow reads the ERP and writes Procore itself
            flow.pull(
                ctx,
                record=lambda pid, outcome, note: _record(run, pid, outcome, None, note),
                renew=lambda: lock_renew(connection_id=connection.pk, flow=flow.name, token=token),
                procore_id=procore_id,
            )
        else:
            _loop(ctx, flow, run, procore_id, token)
        run.api_calls = _calls(ctx)
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


def _loop(ctx: SyncContext, flow: Flow, run: SyncRun, procore_id: str | None, token: str) -> None:
    for n, source in enumerate(flow.fetch(ctx, procore_id), start=1):
        planned = plan_record(ctx, flow, source)
        outcome, note, change = planned.outcome, planned.note, planned.change
        if outcome == "send":
            sent = send_change(ctx, flow, change)
            outcome, note = sent.outcome, sent.note
        elif note == "unchanged":
            _repair_write_back(ctx, flow, source.procore_id)
        _record(run, source.procore_id, outcome, change, note or source.skip)
        if n % RENEW_EVERY == 0:
            lock_renew(connection_id=ctx.connection.pk, flow=flow.name, token=token)
            run.api_calls = _calls(ctx)
            run.save(update_fields=["api_calls"])


def _repair_write_back(ctx: SyncContext, flow: Flow, procore_id: str) -> None:
    binding = Binding.objects.filter(
        connection=ctx.connection,
        object_type=flow.binding_type,
        procore_id=procore_id,
        written_back_at__isnull=True,
    ).first()
    if binding is not None:
        write_back(ctx, flow, binding)


def _record(run: SyncRun, procore_id: str, outcome: str, change, note: str) -> None:
    SyncRunRecord.objects.create(
        run=run, procore_id=procore_id, outcome=outcome, change=change, note=note[:300]
    )
    SyncRun.objects.filter(pk=run.pk).update(
        total=F("total") + 1,
        done=F("done") + 1,
        progressed_at=timezone.now(),
        **{outcome: F(outcome) + 1},
    )


def _finish(run: SyncRun, status: str, error: str = "") -> SyncRun:
    SyncRun.objects.filter(pk=run.pk).update(
        status=status, error=error[:5000], finished_at=timezone.now(), api_calls=run.api_calls
    )
    run.refresh_from_db()
    return run


def change_send(
    *,
    change_id: int,
    clients: ClientFactory | None = None,
    lookup: LookupFactory | None = None,
) -> str:
    """Send one approved (or dead-lettered) change now; returns its outcome."""
    change = Change.objects.select_related("connection").get(pk=change_id)
    if change.state not in (ChangeState.APPROVED, ChangeState.PLANNED, ChangeState.FAILED):
        return Outcome.SKIPPED
    flow = BY_BINDING_TYPE[change.object_type]
    ctx = build_context(change.connection, clients=clients, lookup=lookup)
    try:
        return send_change(ctx, flow, change).outcome
    except ConnectionDown:
        return Outcome.FAILED


def items_reevaluate(
    *,
    connection_id: int,
    table: str,
    key: dict[str, Any],
    clients: ClientFactory | None = None,
    lookup: LookupFactory | None = None,
) -> list[SyncRun]:
    """Re-run the records whose items wait for the mapping (``table``, ``key``) just added."""
    items = ExceptionItem.objects.filter(
        connection_id=connection_id, blocked_table=table, status__in=ACTIVE_STATUSES
    )
    wanted = {k: v for k, v in key.items() if v not in (None, "")}
    if len(wanted) == len(key):
        items = items.filter(blocked_key=blocked_key(key))
        records = set(items.values_list("object_type", "procore_id"))
    else:
        # A blank part of the key is a wildcard: an any-cost-type row unblocks every type.
        records = {
            (object_type, procore_id)
            for object_type, procore_id, stored in items.values_list(
                "object_type", "procore_id", "blocked_key"
            )
            if wanted.items() <= json.loads(stored or "{}").items()
        }
    runs = []
    for object_type, procore_id in sorted(records):
        flow = BY_BINDING_TYPE.get(object_type)
        if flow is None:
            continue
        runs.append(
            sync_run(
                connection_id=connection_id,
                object_type=flow.name,
                procore_id=procore_id,
                trigger="mapping_added",
                clients=clients,
                lookup=lookup,
            )
        )
    return runs


def interrupted_after() -> timedelta:
    """How long a run may show no progress before it counts as cut short: every attempt
    django-q2 gives a task (``max_attempts``), each redelivered after ``retry`` seconds, plus
    one more ``retry`` for the queue's wait. Shorter, and a batch still due for redelivery
    would find its run already closed."""
    q = settings.Q_CLUSTER
    return timedelta(seconds=(int(q.get("max_attempts") or 1) + 1) * int(q.get("retry") or 0))


def runs_close_interrupted(*, now=None) -> list[int]:
    """Close the runs a dead worker left ``running``: no batch recorded anything for longer
    than any task can still be redelivered (``interrupted_after``), so no one will close them.
    They end ``failed`` with what they did record kept and an error saying what to do; returns
    their ids. The records they never reached are not lost: their Procore records are read
    again by a full resync, or by the next poll when the run was a poll's (its cursor has not
    moved); their Changes, if any, are sent by the stale-change recovery."""
    now = now or timezone.now()
    limit = interrupted_after()
    cutoff = now - limit
    quiet = Q(status=RunStatus.RUNNING) & (
        Q(progressed_at__lt=cutoff) | Q(progressed_at__isnull=True, started_at__lt=cutoff)
    )
    closed = []
    for run in SyncRun.objects.filter(quiet).only("pk", "done", "total", "moves_cursor"):
        waiting = RunBatch.objects.filter(run_id=run.pk).aggregate(n=Sum("size"))["n"]
        stranded = f"; {waiting} of them were still queued" if waiting else ""
        if run.moves_cursor:  # a poll's: its flow's cursor stayed where it was
            todo = "The next poll of this flow reads them again and syncs what it did not reach."
        else:
            todo = "Run a full resync of this flow to pick up the records it did not reach."
        error = (
            f"interrupted: no progress for over {limit} ({run.done} of {run.total} records "
            f"done{stranded}); a worker running it died. {todo}"
        )
        # Conditional: a batch that records meanwhile keeps the run alive.
        moved = SyncRun.objects.filter(quiet, pk=run.pk).update(
            status=RunStatus.FAILED, finished_at=now, error=error
        )
        if moved:
            # Its batches still stored will never run: no task is left to run them.
            RunBatch.objects.filter(run_id=run.pk).delete()
            log.warning("run %s closed: %s", run.pk, error)
            closed.append(run.pk)
    return closed
