"""Several flows in order, each once the one before it has succeeded ("sync now" for every
object type, a poll of every flow).

Why: a flow depends on the ones before it (``sync.polling.ORDER``: projects, vendors,
commitments, change orders, pay apps, …). A pay app's bill links to its commitment's ERP
purchase order only when the commitment is already bound; run together, a requisitions batch
could plan a bill before the batch holding its commitment had written the PO, and the bill
would reach the ERP unlinked (the PO left open).

A flow run in batches is still running when its fetch returns, its batches on other workers:
the flows after it go with its run (``SyncRun.then_flows``, stored with its first batch) and
whichever batch closes the run starts them (``run_succeeded``). A flow that ends where it was
started (a run in this process, nothing to do, skipped because another run holds the flow) is
followed at once. A failed run stops the list, and its page names the flows not started.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db.models import Q
from django.utils import timezone

from sync.models import Cursor, RunStatus, SyncRun

log = logging.getLogger(__name__)

Start = Callable[[str, list[str]], SyncRun]  # (flow, the flows after it) -> its run


def in_order(names: list[str], start: Start) -> list[SyncRun]:
    runs: list[SyncRun] = []
    for i, name in enumerate(names):
        rest = list(names[i + 1 :])
        run = start(name, rest)
        runs.append(run)
        if run.status == RunStatus.RUNNING or run.then_flows:
            break  # its batches go on elsewhere; the one that closes the run goes on from there
        if run.status == RunStatus.FAILED:
            if rest:  # for its page: what did not run because of it
                SyncRun.objects.filter(pk=run.pk).update(then_flows=rest)
                run.then_flows = rest
            break
    return runs


def run_succeeded(run: SyncRun) -> None:
    """A run has just been closed as succeeded, once (a conditional UPDATE's winner, or the
    fetch with nothing queued): settle a poll's cursor, start the flows the run carries.

    A worker killed between the close and these enqueues loses them; nothing is lost for the
    books: the cursor stays where it was (the next poll reads the same changes again, and
    the records already done cost no ERP call), and the next scheduled poll runs every flow."""
    row = (
        SyncRun.objects.filter(pk=run.pk)
        .values("connection_id", "trigger", "then_flows", "moves_cursor")
        .first()
    )
    if row is None:
        return
    from django_q.tasks import async_task

    if row["moves_cursor"]:
        async_task("sync.jobs_triggers.settle_cursor", run.pk, group=f"run-{run.pk}-cursor")
    if row["then_flows"]:
        async_task(
            "sync.jobs_triggers.continue_flows",
            row["connection_id"],
            list(row["then_flows"]),
            row["trigger"],
            group=f"run-{run.pk}-then",
        )


def cursor_move(*, connection_id: int, object_type: str, watermark) -> bool:
    """Move a flow's cursor forward to ``watermark`` (never back)."""
    return bool(
        Cursor.objects.filter(connection_id=connection_id, object_type=object_type)
        .filter(Q(watermark__isnull=True) | Q(watermark__lt=watermark))
        .update(watermark=watermark, updated_at=timezone.now())
    )
