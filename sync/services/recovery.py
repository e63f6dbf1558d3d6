"""Writes a dead worker left half-done: Changes stuck in ``sending``.

A Change moves to ``sending`` (a conditional UPDATE) before its remote call and out of it
afterwards; a worker killed in between (SIGKILL, out of memory, a lost host, the task timeout)
leaves it there, and the ERP may or may not hold the document. A later run that plans the same
record claims it again once stale, but polling reads only the records Procore changed since
its watermark: an unchanged record would wait for a full resync, its commitment in neither the
ERP nor the queue.

``changes_recover_stale`` (job ``sync.jobs.recover_stale_changes``, schedule
``recover-stale-changes``) sends every Change left in ``sending`` longer than a live task can
run (``STALE_SENDING``) through the writer again: the claim is conditional (one sender wins,
a live one keeps its claim), the write idempotent: NetSuite upserts by ``eid:``; a
QuickBooks create first looks for the document the dead attempt may have made (``LookFirst``:
its ``requestid`` replay lasts only as long as QBO remembers the requestid, which is
unverified, and purchase orders have no duplicate-number check). A write that reached the ERP
before the crash is bound, never repeated; one that failed ends in the dead-letter queue like
any other.
"""

from __future__ import annotations

import logging
from collections import Counter
from itertools import groupby
from typing import Any

from django.utils import timezone

from sync.flows import BY_BINDING_TYPE
from sync.models import Change, ChangeState, Connection, ConnectionStatus
from sync.services.changes import STALE_SENDING
from sync.services.runs import ClientFactory, LookupFactory, build_context
from sync.writer import ConnectionDown, send_change

log = logging.getLogger(__name__)

BATCH = 200  # changes per job run; the next run takes the rest


class LookFirst:
    """The ERP adapter for changes sent again after their worker died: a create first asks the
    adapter's ``find_created`` (QuickBooks) for the document the dead attempt may have made.
    Adapters without it (NetSuite: an upsert by external id) create as usual."""

    def __init__(self, adapter: Any) -> None:
        self._adapter = adapter

    def __getattr__(self, name: str) -> Any:
        return getattr(self._adapter, name)

    def create(self, erp_type: str, payload: dict[str, Any], *, external_id: str, key: str):
        find = getattr(self._adapter, "find_created", None)
        found = find(erp_type, payload) if find is not None else None
        if found is not None:
            log.info("stale change %s: %s %s is already in the ERP", key, erp_type, found.erp_id)
            return found
        return self._adapter.create(erp_type, payload, external_id=external_id, key=key)


def changes_stale() -> list[tuple[int, int]]:
    """(connection id, change id) of the Changes a dead worker left in ``sending``."""
    cutoff = timezone.now() - STALE_SENDING
    return list(
        Change.objects.filter(state=ChangeState.SENDING, updated_at__lt=cutoff)
        .exclude(connection__status=ConnectionStatus.DISABLED)
        .order_by("connection_id", "pk")
        .values_list("connection_id", "pk")[:BATCH]
    )


def changes_recover_stale(
    *, clients: ClientFactory | None = None, lookup: LookupFactory | None = None
) -> dict[str, int]:
    """Send the stale ``sending`` Changes again; returns the outcomes counted."""
    counts: Counter[str] = Counter()
    for connection_id, rows in groupby(changes_stale(), key=lambda row: row[0]):
        connection = Connection.objects.select_related("procore_connection").get(pk=connection_id)
        ctx = build_context(connection, clients=clients, lookup=lookup)
        ctx.erp = LookFirst(ctx.erp)
        for _conn, change_id in rows:
            change = Change.objects.get(pk=change_id)
            flow = BY_BINDING_TYPE.get(change.object_type)
            if flow is None:
                log.warning("stale change %s: no flow binds %s", change.pk, change.object_type)
                counts["unknown"] += 1
                continue
            try:
                sent = send_change(ctx, flow, change)
            except ConnectionDown:
                counts["connection_down"] += 1
                break  # the connection is marked; its changes wait for the repair
            counts[sent.outcome] += 1
            log.info("stale change %s re-sent: %s %s", change.pk, sent.outcome, sent.note)
    return dict(counts)
