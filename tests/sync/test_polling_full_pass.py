"""A poll's full pass in batches: the cursor moves when its last batch has succeeded, a poll
while it runs waits for it, a pass cut short leaves the cursor for the next one, and the flows
of a connection are polled in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from sync.models import Binding, Cursor, RunStatus, SyncRun, SyncRunRecord
from sync.polling import poll_connection, poll_flow, polled_flows
from sync.services import batches
from sync.services.runs import interrupted_after, runs_close_interrupted
from tests.sync.engine_support import WORLDS
from tests.sync.trigger_support import wire

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["netsuite", "quickbooks"])
def world(request, monkeypatch):
    w = WORLDS[request.param]()
    wire(monkeypatch, w)
    return w


@pytest.fixture
def queue(monkeypatch):
    """The cluster's queue held still: batches wait here until the test runs them."""
    held: list[tuple] = []
    monkeypatch.setattr(batches, "_async_enqueue", lambda *batch: held.append(batch))
    return held


def drain(queue) -> None:
    while queue:  # newest first: a cluster runs its batches in any order
        run_id, name, records = queue.pop()
        batches.sync_batch(run_id=run_id, object_type=name, sources=records)


def poll(world):
    return poll_flow(connection_id=world.erp_conn.pk, object_type="commitments")


def cursor(world) -> Cursor:
    return Cursor.objects.get(connection=world.erp_conn, object_type="commitments")


def test_the_first_poll_runs_in_batches_and_moves_the_cursor_when_its_last_batch_is_done(
    world, queue
):
    pids = [world.new_commitment(f"SC-F-{n}") for n in range(12)]
    world.erp.faults.latency_ms = 20
    first = poll(world)
    assert first.status == RunStatus.RUNNING and first.moves_cursor and queue
    assert "full pass (first poll)" in first.note
    assert cursor(world).watermark is None  # not before every record is handled
    # A poll while the batches run is that run: no second pass over the same records.
    assert poll(world).pk == first.pk and SyncRun.objects.count() == 1

    drain(queue)
    first.refresh_from_db()
    assert first.status == RunStatus.SUCCEEDED and first.done == first.total, first.error
    assert Binding.objects.filter(object_type="commitment", procore_id__in=pids).count() == 12
    assert world.erp.gate.peak > 1  # writes in flight together, not one record at a time
    newest = max(c["updated_at"] for c in world.procore.store.collection("commitments").values())
    assert cursor(world).watermark is not None
    assert cursor(world).watermark >= _aware(newest) - timedelta(seconds=1)

    writes = world.writes()
    again = poll(world)  # from the watermark now: nothing changed, nothing written
    drain(queue)  # the overlap second may re-read enough records to go in batches
    again.refresh_from_db()
    assert again.status == RunStatus.SUCCEEDED and "no changes since the last poll" in again.note
    assert world.writes() == writes


def test_many_changes_are_synced_in_batches_and_only_they(world, queue, monkeypatch):
    from sync import polling

    poll(world)
    drain(queue)
    old = set(SyncRunRecord.objects.values_list("procore_id", flat=True))
    # One change a few seconds on, so the watermark leaves the first pass's second (the poll
    # re-reads the watermark's own second, and the whole first pass shares one here).
    world.procore.clock.advance(5)
    before = world.new_commitment("SC-M-0")
    poll(world)
    drain(queue)
    mark = cursor(world).watermark
    world.procore.clock.advance(5)
    monkeypatch.setattr(polling, "MANY", 3)  # the product's is a batch's worth
    pids = [world.new_commitment(f"SC-M-{n}") for n in range(1, 5)]
    run = poll(world)
    assert run.status == RunStatus.RUNNING and run.moves_cursor and queue
    assert cursor(world).watermark == mark  # not before its last batch
    assert run.cursor_to > mark and "changed since the last poll" in run.note

    drain(queue)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.done == run.total, run.error
    # The four new ones and the watermark's own second (re-read on purpose), nothing else.
    assert set(run.records.values_list("procore_id", flat=True)) == {*pids, before}
    assert not run.records.filter(procore_id__in=old).exists()  # unchanged: passed over
    assert Binding.objects.filter(object_type="commitment", procore_id__in=pids).count() == 4
    assert cursor(world).watermark == run.cursor_to


def test_a_full_pass_cut_short_leaves_the_cursor_and_the_next_poll_starts_again(world, queue):
    pids = [world.new_commitment(f"SC-X-{n}") for n in range(3)]
    cut = poll(world)
    assert cut.status == RunStatus.RUNNING
    queue.clear()  # the worker holding the batches died, and their retries ran out
    later = timezone.now() + interrupted_after() + timedelta(seconds=1)
    assert runs_close_interrupted(now=later) == [cut.pk]
    assert cursor(world).watermark is None

    second = poll(world)
    assert second.pk != cut.pk and "full pass (first poll)" in second.note
    drain(queue)
    second.refresh_from_db()
    assert second.status == RunStatus.SUCCEEDED, second.error
    assert Binding.objects.filter(object_type="commitment", procore_id__in=pids).count() == 3
    assert cursor(world).watermark is not None


def test_a_connection_is_polled_flow_after_flow(world, queue):
    world.new_commitment("SC-O-1")
    poll_connection(connection_id=world.erp_conn.pk)
    [first] = SyncRun.objects.all()  # the others wait for it
    names = polled_flows(world.erp_conn)
    assert first.object_type == names[0] and first.then_flows == names[1:]

    drain(queue)
    runs = list(SyncRun.objects.order_by("pk"))
    assert [r.object_type for r in runs] == names
    assert all(r.status == RunStatus.SUCCEEDED for r in runs), [(r, r.error) for r in runs]
    for before, after in zip(runs, runs[1:], strict=False):
        assert after.started_at >= before.finished_at, (before, after)
    dated = [n for n in names if n != "owner_invoices"]
    assert Cursor.objects.filter(
        connection=world.erp_conn, object_type__in=dated, watermark__isnull=False
    ).count() == len(dated)


def _aware(value):
    """The Procore sandbox's stamp, as an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)
