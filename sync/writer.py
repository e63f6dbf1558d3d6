"""Send one Change (DESIGN.md rules 1, 4, 5): claim it (``sending``, conditional UPDATE),
write idempotently, bind, close the record's open items, write back to Procore.

Errors, by family (classified at the connector boundary, never by message text):

* ``Conflict`` (the ERP copy changed under us): held as ERP_EDITED with the current copy;
* other ``DataError`` (validation, duplicate, not found): failed + WRITE_REJECTED dead letter
  with the masked request and response;
* ``TransientError`` (the connector already retried, in its one layer): failed +
  RETRIES_EXHAUSTED dead letter; replayable, and the next run retries it by itself;
* ``PermanentError`` (auth, permission): the connection is marked and the change goes back to
  where it was, untouched, for when an admin has repaired the connection.
"""

from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from queue import Empty, SimpleQueue

from django.db import IntegrityError, connections, transaction

from connectors.errors import (
    AuthError,
    Conflict,
    ConnectorError,
    DataError,
    PermanentError,
    TransientError,
)
from connectors.limits import current_priority, slot_priority
from sync.context import SyncContext
from sync.dbbulk import update_many
from sync.erp import Written
from sync.flows.base import Flow
from sync.models import (
    ACTIVE_STATUSES,
    Binding,
    Change,
    ChangeState,
    ConnectionStatus,
    ExceptionItem,
    ItemStatus,
    Kind,
    Outcome,
)
from sync.reasons import explain
from sync.services.changes import (
    change_claim,
    change_transition,
    changes_claim,
    changes_mark_sent,
)
from sync.services.connections import connection_set_status
from sync.services.exceptions import item_open, item_transition

log = logging.getLogger(__name__)


class ConnectionDown(Exception):
    """A permanent error: stop the run, nothing more can be sent on this connection."""

    results: dict | None = None  # send_changes: what the changes settled before it stopped


@dataclass
class Sent:
    outcome: str
    note: str = ""


def send_change(ctx: SyncContext, flow: Flow, change: Change) -> Sent:
    before = change.state
    if not change_claim(change=change):
        return Sent(Outcome.SKIPPED, "already claimed by another worker")
    try:
        written = flow.write(ctx, change)
    except Exception as exc:  # noqa: BLE001 - _failed re-raises what it does not classify
        return _failed(ctx, change, before, exc)
    [binding] = _settle(ctx, flow, [(change, written)])
    if binding is not None:
        write_back(ctx, flow, binding)
    return Sent(Outcome.SYNCED)


def _failed(ctx: SyncContext, change: Change, before: str, exc: BaseException) -> Sent:
    """The write raised: classify it (the families of the module docstring)."""
    if isinstance(exc, Conflict):
        return _conflict(ctx, change, exc)
    if isinstance(exc, DataError):
        return _dead_letter(change, "WRITE_REJECTED", exc)
    if isinstance(exc, TransientError):
        return _dead_letter(change, "RETRIES_EXHAUSTED", exc)
    if isinstance(exc, PermanentError):
        back = before if before != ChangeState.SENDING else ChangeState.APPROVED
        change_transition(
            change=change, to=back, from_states=(ChangeState.SENDING,), last_error=exc.as_dict()
        )
        status = (
            ConnectionStatus.NEEDS_REAUTH
            if isinstance(exc, AuthError)
            else ConnectionStatus.UNHEALTHY
        )
        connection_set_status(connection_id=ctx.connection.pk, status=status, reason=str(exc))
        raise ConnectionDown(str(exc)) from exc
    if isinstance(exc, LookupError):  # a link target that is gone
        return _dead_letter(change, "WRITE_REJECTED", ConnectorError(str(exc)))
    raise exc


def _settle(ctx: SyncContext, flow: Flow, done: list[tuple[Change, Written]]) -> list:
    """Bind what the ERP now holds and mark the changes sent, in one transaction for the group
    (each binding is durable before the writer starts another write); close their items."""
    try:
        return _settle_once(ctx, flow, done)
    except IntegrityError:  # a binding appeared since the prefetch: bind by update instead
        for change, _ in done:
            ctx.cache.get("bindings", {}).pop((flow.binding_type, change.procore_id), None)
        return _settle_once(ctx, flow, done)


def _settle_once(ctx: SyncContext, flow: Flow, done: list[tuple[Change, Written]]) -> list:
    now = ctx.now()
    with transaction.atomic():
        bindings = flow.bind_many(ctx, done)
        moved = changes_mark_sent(done, at=now)
        if moved != len(done):  # the recovery job took one over: it checks the ERP first
            log.warning("%d of %d changes were no longer sending when settled", moved, len(done))
        for change, _ in done:
            ctx.cache.setdefault("sent", {})[(change.object_type, change.procore_id)] = change
        by_record = {(c.object_type, c.procore_id): (c, w) for c, w in done}
        prefetched = ctx.cache.get("prefetched", set())
        active = ctx.cache.get("active_items", set())
        if all(k in prefetched and k not in active for k in by_record):
            return bindings  # the batch's prefetch found no open item for these records
        items = ExceptionItem.objects.filter(
            connection_id=ctx.connection.pk,
            object_type__in={t for t, _ in by_record},
            procore_id__in={p for _, p in by_record},
            status__in=ACTIVE_STATUSES,
        )
        for item in items:
            found = by_record.get((item.object_type, item.procore_id))
            if found is None:
                continue
            change, written = found
            item_transition(
                item=item,
                to=ItemStatus.AUTO_RESOLVED,
                action="auto_resolved",
                note="Closed automatically: the ERP now holds this record "
                f"({change.erp_type} {written.erp_id}).",
            )
    return bindings


def write_concurrency(ctx: SyncContext) -> int:
    """Requests the ERP lets one account have in flight: NetSuite's account concurrency
    (reference §4.1, the connection's ``concurrency_limit`` when set), QuickBooks' 10 per
    realm+app (§3.1). The connector's shared limiter enforces it across workers; this is how
    many writes one batch keeps going."""
    if ctx.kind == Kind.NETSUITE:
        return int((ctx.connection.settings or {}).get("concurrency_limit") or 15)
    if ctx.kind == Kind.QUICKBOOKS:
        return 10
    return 1


def _in_thread(priority, fn, *args):
    try:
        with slot_priority(priority):  # the caller's, for the shared concurrency slots
            return fn(*args)
    finally:
        # A token refresh or a database limiter may have opened this thread's own connection.
        connections.close_all()


def _remote_write_back(ctx: SyncContext, flow: Flow, binding: Binding) -> Binding | None:
    try:
        flow.write_back(ctx, binding)
    except ConnectorError as exc:
        log.warning("write-back of %s %s failed: %s", binding.object_type, binding.procore_id, exc)
        return None
    return binding


def send_changes(ctx: SyncContext, flow: Flow, changes: list[Change]) -> dict[int, Sent]:
    """Send many changes with up to the ERP's concurrency in flight (``ConcurrentSender``)."""
    if write_concurrency(ctx) <= 1 or not getattr(flow, "concurrent_writes", False):
        return {change.pk: send_change(ctx, flow, change) for change in changes}
    with ConcurrentSender(ctx, flow) as sender:
        for change in changes:
            sender.add(change)
    return sender.results


class ConcurrentSender:
    """Sends changes with up to the ERP's concurrency in flight while the caller plans more.

    The database work stays in the caller's thread, in the order ``send_change`` does it: a
    change is claimed (``sending``, durable) before its request starts; when a request returns,
    its binding and ``sent`` are committed before any further write starts; only the HTTP calls
    (the ERP write, then the Procore write-back) run in the pool. ``add`` queues a change and
    settles what has finished; leaving the ``with`` block waits for the rest. A permanent
    error stops new writes, settles those in flight, then raises ``ConnectionDown`` (with
    ``.results``) when the block ends."""

    def __init__(self, ctx: SyncContext, flow: Flow) -> None:
        self.ctx, self.flow = ctx, flow
        self.limit = write_concurrency(ctx)
        self.results: dict[int, Sent] = {}
        self.pending: deque[Change] = deque()
        self.writes: dict[Future, tuple[Change, str]] = {}
        self.backs: dict[Future, Binding] = {}
        # Futures put themselves here when done: settling takes what finished without
        # scanning (and installing a waiter on) every future in flight, as wait() would.
        self.finished: SimpleQueue[Future] = SimpleQueue()
        self.written_back: list[int] = []
        self.synced: list[Change] = []
        self.down: ConnectionDown | None = None
        self.adapter = getattr(ctx.erp, "adapter", ctx.erp)  # under PrefetchedDuplicates
        self.deferring = hasattr(self.adapter, "defer_versions")
        self.pool: ThreadPoolExecutor | None = None
        self.priority = current_priority()  # the batch's (sync_batch), for its pool threads

    def __enter__(self) -> ConcurrentSender:
        for client in (getattr(self.ctx.erp, "client", None), self.ctx.procore):
            tokens = getattr(client, "tokens", None)
            if tokens is not None:  # read (or get) the tokens here, not in each pool thread
                tokens.access_token()
        if self.deferring:
            self.adapter.defer_versions = True
        self.pool = ThreadPoolExecutor(max_workers=2 * self.limit, thread_name_prefix="erp-write")
        return self

    def add(self, *changes: Change) -> None:
        """Queue stored changes (several at once: their claims share one UPDATE)."""
        self.pending.extend(changes)
        self._start()
        self._settle(block=False)

    def _start(self) -> None:
        while self.pending and self.down is None and len(self.writes) < self.limit:
            free = min(self.limit - len(self.writes), len(self.pending))
            group = [self.pending.popleft() for _ in range(free)]
            states = [change.state for change in group]  # the claim changes them
            claimed = {change.pk for change in changes_claim(changes=group)}
            for change, before in zip(group, states, strict=True):
                if change.pk not in claimed:
                    self.results[change.pk] = Sent(
                        Outcome.SKIPPED, "already claimed by another worker"
                    )
                    continue
                future = self.pool.submit(
                    _in_thread, self.priority, self.flow.write, self.ctx, change
                )
                self.writes[future] = (change, before)
                future.add_done_callback(self.finished.put)
        if self.down is not None:
            self.pending.clear()  # not claimed: they keep their state for the next run

    def _settle(self, *, block: bool) -> None:
        if not self.writes and not self.backs:
            return
        finished = []
        try:
            finished.append(self.finished.get(block=block))
            while True:
                finished.append(self.finished.get_nowait())
        except Empty:
            pass
        ctx, flow = self.ctx, self.flow
        ok: list[tuple[Change, Written]] = []
        for future in finished:
            if future in self.backs:
                self.backs.pop(future)
                bound = future.result()
                if bound is not None:
                    self.written_back.append(bound.pk)
                continue
            change, before = self.writes.pop(future)
            error = future.exception()
            if error is None:
                ok.append((change, future.result()))
                continue
            try:
                self.results[change.pk] = _failed(ctx, change, before, error)
            except ConnectionDown as exc:
                self.down = self.down or exc
                self.results[change.pk] = Sent(Outcome.FAILED, str(exc))
        if ok:
            for (change, _), binding in zip(ok, _settle(ctx, flow, ok), strict=True):
                self.results[change.pk] = Sent(Outcome.SYNCED)
                self.synced.append(change)
                if binding is not None and flow.writes_back:
                    future = self.pool.submit(
                        _in_thread, self.priority, _remote_write_back, ctx, flow, binding
                    )
                    self.backs[future] = binding
                    future.add_done_callback(self.finished.put)
            self._start()

    def __exit__(self, kind, exc, tb) -> None:
        try:
            if exc is None:
                while self.pending or self.writes or self.backs:
                    self._start()
                    self._settle(block=True)
            else:  # the caller failed: settle what is in flight, start nothing new
                self.pending.clear()
                while self.writes or self.backs:
                    self._settle(block=True)
        finally:
            self.pool.shutdown(wait=True)
            if self.deferring:
                self.adapter.defer_versions = False
            if self.written_back:
                Binding.objects.filter(pk__in=self.written_back).update(
                    written_back_at=self.ctx.now()
                )
        if self.deferring:
            _fill_versions(self.ctx, self.synced)
        if self.down is not None and exc is None:
            self.down.results = self.results
            raise self.down


def _fill_versions(ctx: SyncContext, sent: list[Change]) -> None:
    """The ERP versions the deferred creates did not read back: one query for the group, then
    onto the bindings still without one. Best effort: a binding's version is what the last
    write left; an update reads the ERP copy and compares content before writing anyway."""
    wanted: dict[str, dict[str, str]] = {}  # erp type -> erp id -> binding's object type
    for change in sent:
        if change.erp_id and not (change.result or {}).get("version"):
            wanted.setdefault(change.erp_type, {})[change.erp_id] = change.object_type
    for erp_type, ids in wanted.items():
        try:
            versions = ctx.erp.versions(erp_type, list(ids))
        except ConnectorError as exc:
            log.warning("reading the versions of %d %s failed: %s", len(ids), erp_type, exc)
            continue
        # Only bindings still without a version: a later write's version is newer. Each row
        # is found by the unique (connection, object_type, erp_id) index: without the object
        # type every UPDATE scanned the connection's bindings (quadratic in a long run).
        update_many(
            Binding,
            fields=("erp_version",),
            where=("connection", "object_type", "erp_id", "erp_type", "erp_version"),
            rows=[
                (versions[i], ctx.connection.pk, object_type, i, erp_type, "")
                for i, object_type in ids.items()
                if versions.get(i)
            ],
        )


def write_back(ctx: SyncContext, flow: Flow, binding: Binding) -> None:
    """Best effort: a failed write-back leaves ``written_back_at`` empty and the next run
    repeats it (the PATCH sets fixed values, so repeating is harmless)."""
    if not flow.writes_back:
        return
    try:
        flow.write_back(ctx, binding)
    except ConnectorError as exc:
        log.warning("write-back of %s %s failed: %s", binding.object_type, binding.procore_id, exc)
        return
    Binding.objects.filter(pk=binding.pk).update(written_back_at=ctx.now())


def _dead_letter(change: Change, code: str, exc: ConnectorError) -> Sent:
    error = exc.as_dict()
    explanation = explain(code, message=exc.message or str(exc))
    with transaction.atomic():
        change_transition(
            change=change,
            to=ChangeState.FAILED,
            from_states=(ChangeState.SENDING,),
            last_error=error,
            reason_code=code,
            explanation=explanation,
        )
        item_open(
            change=change,
            reason_code=code,
            explanation=explanation,
            details={"error": error, "payload": change.payload},
            status=ItemStatus.DEAD_LETTER,
        )
    return Sent(Outcome.FAILED, code)


def _conflict(ctx: SyncContext, change: Change, exc: Conflict) -> Sent:
    current = exc.current or {}
    erp_type = change.erp_type
    diff = {
        "last_synced": (change.context.get("diff") or {}).get("last_synced"),
        "erp_now": ctx.erp.summary(erp_type, current) if current else None,
        "proposed": ctx.erp.summary(erp_type, change.payload),
    }
    version = str(current.get("SyncToken") or current.get("lastModifiedDate") or "")
    explanation = explain("ERP_EDITED", document=change.context.get("number", change.erp_id))
    with transaction.atomic():
        change_transition(
            change=change,
            to=ChangeState.HELD,
            from_states=(ChangeState.SENDING,),
            last_error=exc.as_dict(),
            reason_code="ERP_EDITED",
            explanation=explanation,
        )
        item_open(
            change=change,
            reason_code="ERP_EDITED",
            explanation=explanation,
            details={**diff, "erp_version": version, "error": exc.as_dict()},
        )
    return Sent(Outcome.QUEUED, "ERP_EDITED")
