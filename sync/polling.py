"""Polling by cursor: the fallback that catches what webhooks dropped.

Per ERP connection and flow, ``Cursor.watermark`` is the newest Procore ``updated_at`` seen.
A poll lists only what changed since then (``filters[updated_at]``, procore-api.md §7.4; a
second earlier so a record saved in the same second is read twice, never missed), syncs those
records through the engine under the flow's lease, and then moves the watermark. The cursor
moves only after every record was handled, so a run killed half-way leaves the old watermark:
the next poll reads the same changes again, and the engine's fingerprints make the records
already done cost no ERP call.

The first poll of a flow (and every poll of a flow Procore cannot list by date) is a full
pass: every record, so it runs like "sync now", in batches with the ERP's concurrency
(``sync_flow``). One record at a time it would keep one ERP request in flight: at NetSuite's
~1 s a write, a 5,000-commitment company outlasts the task timeout (600 s) several times over.
The full pass's run moves the cursor when its last batch has succeeded (``cursor_settle``);
until then a poll of that flow waits for it. A poll that lists many changes (``MANY``) syncs
them the same way, the records that did not change passed over, and moves the cursor to the
newest of them once done. The flows of a connection are polled in order,
each after the one before it (``sync.services.chain``).

The run notes which changes no webhook had delivered (compared with the recorded deliveries):
that count is how an admin sees webhooks going missing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F
from django.utils import timezone

from sync.config import pushes
from sync.flows import FLOWS, flow_for
from sync.models import Connection, Cursor, RunStatus, SyncRun
from sync.services.batches import sync_flow
from sync.services.chain import cursor_move, in_order

# The engine's run machinery (same package): one lease, one context, one record loop.
from sync.services.locks import lock_acquire, lock_release
from sync.services.runs import _calls, _finish, _loop, build_context
from sync.webhooks.services import deliveries_naming
from sync.writer import ConnectionDown

log = logging.getLogger(__name__)

OVERLAP = timedelta(seconds=1)
# A poll with at least this many changes syncs them in batches (``_changes_in_batches``), which
# reads the flow's whole list to find them; record by record costs each one its own reads and
# keeps one ERP request in flight. (It was the batch size, 50, until batches grew to 100.)
MANY = 50
# The order flows run in: what others depend on first.
ORDER = (
    "projects",
    "vendors",
    "commitments",
    "commitment_change_orders",
    "requisitions",
    "retainage_releases",
    "direct_costs",
    "owner_invoices",
)
Changed = Iterator[tuple[str, datetime | None]]


def _projects(ctx) -> list:
    return [p for p, target in ctx.projects() if target is not None]


def _changed_commitments(ctx, since) -> Changed:
    for project in _projects(ctx):
        for c in ctx.procore.commitments(project.id, with_lines=False, updated_since=since):
            yield c.id, c.updated_at
        for c in ctx.procore.commitments(
            project.id, with_lines=False, updated_since=since, include_deleted="only"
        ):
            yield c.id, c.updated_at


def _changed_change_orders(ctx, since) -> Changed:
    # The v1.0 CCO list takes no updated_at filter (procore-api.md §5.2): filter here.
    for project in _projects(ctx):
        for cco in ctx.procore.commitment_change_orders(project.id):
            if since is None or cco.updated_at is None or cco.updated_at >= since:
                yield cco.id, cco.updated_at


def _changed_requisitions(ctx, since) -> Changed:
    for project in _projects(ctx):
        for r in ctx.procore.requisitions(project.id, updated_since=since):
            yield r.id, r.updated_at


def _changed_direct_costs(ctx, since) -> Changed:
    for project in _projects(ctx):
        for d in ctx.procore.direct_costs(project.id, with_lines=False, updated_since=since):
            yield d.id, d.updated_at


def _changed_projects(ctx, since) -> Changed:
    for p in ctx.procore.projects(updated_since=since):
        yield p.id, p.updated_at


def _changed_vendors(ctx, since) -> Changed:
    for v in ctx.procore.vendors(updated_since=since):
        yield v.id, v.updated_at


# Flows whose changed records we can list; any other flow is polled as a full pass (its
# unchanged records cost no ERP call, only the Procore reads).
CHANGED: dict[str, Callable[[Any, datetime], Changed]] = {
    "projects": _changed_projects,
    "vendors": _changed_vendors,
    "commitments": _changed_commitments,
    "commitment_change_orders": _changed_change_orders,
    "requisitions": _changed_requisitions,
    "retainage_releases": _changed_requisitions,
    "direct_costs": _changed_direct_costs,
}


def polled_flows(connection: Connection) -> list[str]:
    names = [n for n in ORDER if n in FLOWS] + [n for n in FLOWS if n not in ORDER]
    return [n for n in names if pushes(connection, n)]


def poll_connection(*, connection_id: int, clients=None, lookup=None) -> list[SyncRun]:
    connection = Connection.objects.get(pk=connection_id)
    return poll_flows(
        connection_id=connection.pk, names=polled_flows(connection), clients=clients, lookup=lookup
    )


def poll_flows(*, connection_id: int, names: list[str], clients=None, lookup=None):
    """Poll flows in order, each once the one before it has succeeded."""

    def start(name: str, rest: list[str]) -> SyncRun:
        return poll_flow(
            connection_id=connection_id, object_type=name, clients=clients, lookup=lookup, then=rest
        )

    return in_order(names, start)


def poll_flow(
    *,
    connection_id: int,
    object_type: str,
    clients=None,
    lookup=None,
    trigger: str = "poll",
    then: list[str] | tuple[str, ...] = (),
) -> SyncRun:
    connection = Connection.objects.select_related("procore_connection").get(pk=connection_id)
    flow = flow_for(object_type)
    cursor, _ = Cursor.objects.get_or_create(connection=connection, object_type=flow.name)
    pending = (
        SyncRun.objects.filter(
            connection=connection,
            object_type=flow.name,
            status=RunStatus.RUNNING,
            moves_cursor=True,
        )
        .order_by("-pk")
        .first()
    )
    if pending is not None:
        # A poll still in its batches is this flow's poll: it moves the cursor and starts the
        # flows after it itself; a second pass over the same records would only wait on it.
        return pending
    since = cursor.watermark
    reader = CHANGED.get(flow.name)
    if since is None or reader is None:
        # First poll (or a flow we cannot list by date): one full pass, in batches.
        return _full_pass(connection, flow, since, clients, lookup, trigger, then)
    run = SyncRun.objects.create(connection=connection, object_type=flow.name, trigger=trigger)
    token = lock_acquire(connection_id=connection.pk, flow=flow.name)
    if token is None:
        return _finish(run, RunStatus.LOCKED, "another run of this flow is in progress")
    ctx = None
    try:
        ctx = build_context(connection, run=run, clients=clients, lookup=lookup)
        changed: dict[str, datetime | None] = {}
        for record_id, updated in reader(ctx, since - OVERLAP):
            changed[str(record_id)] = max(
                (t for t in (changed.get(str(record_id)), updated) if t), default=None
            )
        stamps = [t for t in changed.values() if t is not None]
        newest = max([since, *stamps])
        # The overlap re-reads records already seen (our own origin write-backs among
        # them): only what changed after the watermark is news a webhook should have sent.
        fresh = {rid: t for rid, t in changed.items() if t is None or t > since}
        _note_missed(run, connection, flow.name, fresh, since, cursor.updated_at)
        if len(changed) >= MANY:
            lock_release(connection_id=connection.pk, flow=flow.name, token=token)
            token = ""  # the batched run's fetch takes the lease itself
            return _changes_in_batches(run, ctx, flow, changed, newest, clients, lookup, then)
        for record_id in sorted(changed):
            _loop(ctx, flow, run, record_id, token)
        run.api_calls = _calls(ctx)
        # Only now: a run that died above leaves the cursor where it was (resumable).
        Cursor.objects.filter(pk=cursor.pk).update(watermark=newest, updated_at=timezone.now())
        return _finish(run, RunStatus.SUCCEEDED)
    except ConnectionDown as exc:
        run.api_calls = _calls(ctx) if ctx else 0
        return _finish(run, RunStatus.FAILED, f"connection needs attention: {exc}")
    except Exception as exc:
        run.api_calls = _calls(ctx) if ctx else 0
        _finish(run, RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        if token:
            lock_release(connection_id=connection.pk, flow=flow.name, token=token)


def _changes_in_batches(run, ctx, flow, changed, newest, clients, lookup, then) -> SyncRun:
    """Many changes (a bulk import, a webhook outage): synced in batches like a full pass,
    passing over the records that did not change. One at a time, 2,000 of them at NetSuite's
    ~1 s a write outlast the task's timeout, and every retry reads the ones done again one by
    one. The run moves the cursor to ``newest`` when it has succeeded."""
    here = _here(clients, lookup)
    SyncRun.objects.filter(pk=run.pk).update(
        api_calls=_calls(ctx), moves_cursor=not here, cursor_to=newest
    )
    run.moves_cursor, run.cursor_to = not here, newest
    return _in_batches(run, flow, clients, lookup, then, only=set(changed))


def _full_pass(connection, flow, since, clients, lookup, trigger, then) -> SyncRun:
    """Every record of the flow, in batches."""
    run = SyncRun.objects.create(
        connection=connection,
        object_type=flow.name,
        trigger=trigger,
        moves_cursor=not _here(clients, lookup),
    )
    _note(run, "full pass" + (" (first poll)" if since is None else ""))
    return _in_batches(run, flow, clients, lookup, then)


def _here(clients, lookup) -> bool:
    """Given clients (tests, the benchmark), a run's batches run in this process."""
    return clients is not None or lookup is not None


def _in_batches(run, flow, clients, lookup, then, only=None) -> SyncRun:
    """A poll's run in batches. It moves the cursor once it has succeeded: here when its
    batches ran in this process, else by the batch that closes it (``settle_cursor`` job).
    A poll while the batches still run returns that run (``poll_flow``)."""
    run = sync_flow(
        connection_id=run.connection_id,
        object_type=flow.name,
        trigger=run.trigger,
        clients=clients,
        lookup=lookup,
        then=then,
        run=run,
        only=only,
    )
    if _here(clients, lookup) and run.status == RunStatus.SUCCEEDED:
        cursor_settle(run_id=run.pk, clients=clients, lookup=lookup)
    return run


def cursor_settle(*, run_id: int, clients=None, lookup=None) -> bool:
    """After a poll run in batches has succeeded: its flow's cursor moves to the newest change
    it was given, or after a full pass to the newest record Procore holds (the remote's own
    clock, so a skewed local clock cannot skip changes)."""
    run = SyncRun.objects.select_related("connection__procore_connection").get(pk=run_id)
    if run.status != RunStatus.SUCCEEDED:
        return False
    flow = flow_for(run.object_type)
    newest = run.cursor_to  # the newest of the changes it was given
    if newest is None:  # a full pass
        ctx = build_context(run.connection, run=run, clients=clients, lookup=lookup)
        newest = _newest_seen(ctx, flow) or run.started_at
        SyncRun.objects.filter(pk=run.pk).update(api_calls=F("api_calls") + _calls(ctx))
    return cursor_move(connection_id=run.connection_id, object_type=flow.name, watermark=newest)


def _newest_seen(ctx, flow) -> datetime | None:
    """After a full pass, the watermark starts from the newest record Procore holds: the
    remote's own clock, so a skewed local clock cannot skip changes."""
    reader = CHANGED.get(flow.name)
    if reader is None:
        return None
    stamps = [t for _id, t in reader(ctx, None) if t is not None]
    return max(stamps, default=None)


def _note(run: SyncRun, text: str) -> None:
    run.note = (run.note + "; " if run.note else "") + text
    SyncRun.objects.filter(pk=run.pk).update(note=run.note[:5000])


def _note_missed(run, connection, flow_name, changed, since, last_poll_at) -> None:
    """Changes this poll found that no webhook delivered since the previous poll."""
    if not changed:
        _note(run, "no changes since the last poll")
        return
    procore_id = connection.procore_connection_id
    window = min(since, last_poll_at) if last_poll_at else since
    delivered = deliveries_naming(
        procore_connection_id=procore_id, since=window - timedelta(minutes=5)
    )
    missed = sorted(rid for rid in changed if (flow_name, rid) not in delivered)
    text = f"{len(changed)} changed since the last poll"
    if missed:
        shown = ", ".join(missed[:10]) + (" …" if len(missed) > 10 else "")
        text += f"; {len(missed)} of them no webhook delivered: {shown}"
        log.warning(
            "%s %s: polling found %d changes webhooks missed", connection, flow_name, len(missed)
        )
    SyncRun.objects.filter(pk=run.pk).update(missed_by_webhooks=len(missed))
    run.missed_by_webhooks = len(missed)
    _note(run, text)
