"""The batched run (``sync.jobs.run_flow_batched``): fetch once, one task per batch; a batch
delivered twice writes nothing twice; the duplicate search is one query per batch and still
finds the seeded ERP copies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sync.jobs import recover_stale_changes
from sync.models import Binding, Change, ExceptionItem, RunBatch, RunStatus, SyncRun
from sync.services.batches import sync_batch, sync_fan_out, sync_stored_batch
from sync.services.runs import interrupted_after, runs_close_interrupted
from tests.sync.engine_support import WORLDS

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["netsuite", "quickbooks"])
def world(request):
    w = WORLDS[request.param]()
    w.procore.spike.limit = w.procore.hourly.limit = 1_000_000
    return w


def fan_out(world, queued: list, batch: int = 5, enqueue=None):
    def later(run_id, flow, sources):
        queued.append((run_id, flow, sources))

    return sync_fan_out(
        connection_id=world.erp_conn.pk,
        object_type="commitments",
        batch=batch,
        enqueue=enqueue or later,
        clients=world.clients,
        lookup=lambda c: world.lookup,
    )


def run_batch(world, run_id, flow, sources):
    sync_batch(
        run_id=run_id,
        object_type=flow,
        sources=sources,
        clients=world.clients,
        lookup=lambda c: world.lookup,
    )


def run_batches(world, queued):
    for run_id, flow, sources in queued:
        run_batch(world, run_id, flow, sources)


def test_batches_sync_every_record_and_close_the_run(world):
    pids = [world.new_commitment(f"SC-B-{n}") for n in range(3)]
    queued: list = []
    run = fan_out(world, queued)
    assert run.status == RunStatus.RUNNING and run.total > 0 and len(queued) > 1
    run_batches(world, queued)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.done == run.total, run.error
    assert run.synced >= 3 and run.queued >= 1  # the seeded ERP copies are duplicates
    for pid in pids:
        assert Binding.objects.filter(object_type="commitment", procore_id=pid).exists()
    assert ExceptionItem.objects.filter(reason_code="SUSPECTED_DUPLICATE").exists()


def test_the_first_batch_is_small_so_the_writes_start_early_and_none_is_lost(world, monkeypatch):
    monkeypatch.setattr("sync.services.batches.FIRST_BATCH", 2)
    for n in range(8):
        world.new_commitment(f"SC-B-FIRST-{n}")
    queued: list = []
    run = fan_out(world, queued, batch=5)
    sizes = [len(sources) for _, _, sources in queued]
    assert sizes[0] == 2 and all(n == 5 for n in sizes[1:-1]) and sizes[-1] <= 5
    ids = [s.procore_id for _, _, sources in queued for s in sources]
    assert len(ids) == len(set(ids)) == run.total  # every record queued once
    run_batches(world, queued)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.done == run.total


def test_a_batch_delivered_twice_writes_nothing_twice(world):
    world.new_commitment("SC-B-9")
    queued: list = []
    fan_out(world, queued)
    run_batches(world, queued)
    writes, changes, items = world.writes(), Change.objects.count(), ExceptionItem.objects.count()
    run_batches(world, queued)  # the queue hands every batch out again
    assert world.writes() == writes
    assert Change.objects.count() == changes and ExceptionItem.objects.count() == items


def test_the_duplicate_search_is_one_query_per_batch(world, monkeypatch):
    monkeypatch.setattr("sync.services.batches.FIRST_BATCH", 50)  # one batch holds them all
    queued: list = []
    fan_out(world, queued, batch=50)
    [(run_id, flow, sources)] = queued
    before = len(world.erp.request_log)
    run_batch(world, run_id, flow, sources)
    searches = [
        p for _m, p, _s in list(world.erp.request_log)[before:] if "suiteql" in p or "/query" in p
    ]
    assert len(searches) <= 3, searches  # the batch's search (+ paging), not one per record


def test_the_duplicate_checks_binding_query_is_found_by_the_erp_id_index(world):
    """The check asks which of the ERP's look-alikes are already bound: by connection, ERP
    type and ERP id. The unique index leads with the object type, so without an index on
    (connection, erp_id) SQLite searched every binding of the connection, per record."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    world.new_commitment("SC-B-IDX")
    queued: list = []
    fan_out(world, queued, batch=50)
    with CaptureQueriesContext(connection) as queries:
        run_batches(world, queued)
    checks = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT "sync_binding"."erp_id" AS "erp_id" FROM "sync_binding"')
        and '"erp_type" = ' in q["sql"]
        and '"erp_id" IN (' in q["sql"]
    ]
    assert checks  # the seeded ERP copies are candidates: the check ran
    assert ExceptionItem.objects.filter(reason_code="SUSPECTED_DUPLICATE").exists()
    same_shape = Binding.objects.filter(
        connection=world.erp_conn, erp_type="purchaseOrder", erp_id__in=["1", "2"]
    ).values_list("erp_id", flat=True)
    if connection.vendor == "sqlite":
        plan = same_shape.explain()
        assert "binding_conn_erp_id (connection_id=? AND erp_id=?)" in plan, plan


def stored_fan_out(world, monkeypatch) -> tuple[SyncRun, list[tuple]]:
    """Fan out through the real enqueue, with django-q2's queue held still: its tasks."""
    tasks: list[tuple] = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **kw: tasks.append((a, kw)))
    run = sync_fan_out(
        connection_id=world.erp_conn.pk,
        object_type="commitments",
        batch=5,
        clients=world.clients,
        lookup=lambda c: world.lookup,
    )
    return run, tasks


def run_stored(world, batch_id) -> dict:
    return sync_stored_batch(batch_id, clients=world.clients, lookup=lambda c: world.lookup)


def test_a_batch_task_carries_only_its_stored_batch_and_runs_it_once(world, monkeypatch):
    """The records travel in the database, not through the queue (RunBatch: why); the row
    goes once its records are recorded, so a second delivery finds nothing to do."""
    pids = [world.new_commitment(f"SC-B-ST-{n}") for n in range(6)]
    run, tasks = stored_fan_out(world, monkeypatch)
    assert len(tasks) > 1
    ids = []
    for args, kw in tasks:
        assert args[0] == "sync.jobs.sync_stored_batch" and len(args) == 2
        assert kw == {"group": f"run-{run.pk}"}
        ids.append(args[1])
    stored = RunBatch.objects.filter(run=run)
    assert sorted(stored.values_list("pk", flat=True)) == sorted(ids)
    assert sum(stored.values_list("size", flat=True)) == run.total

    for batch_id in ids:
        assert sum(run_stored(world, batch_id).values()) > 0
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.done == run.total, run.error
    for pid in pids:
        assert Binding.objects.filter(object_type="commitment", procore_id=pid).exists()
    assert not RunBatch.objects.filter(run=run).exists()

    writes = world.writes()
    assert run_stored(world, ids[0]) == {}  # delivered again after it finished
    assert world.writes() == writes
    assert SyncRun.objects.get(pk=run.pk).done == run.done


def test_a_batch_whose_worker_died_runs_again_from_its_stored_row(world, monkeypatch):
    world.new_commitment("SC-B-ST-AGAIN")
    run, tasks = stored_fan_out(world, monkeypatch)
    first = tasks[0][0][1]
    monkeypatch.setattr(RunBatch.objects, "filter", _dies_on_delete(RunBatch.objects.filter))
    with pytest.raises(SystemExit):  # killed after recording, before the row went
        run_stored(world, first)
    monkeypatch.undo()
    writes = world.writes()
    run_stored(world, first)  # redelivered: planned again, nothing written twice
    assert world.writes() == writes
    assert not RunBatch.objects.filter(pk=first).exists()


def _dies_on_delete(real):
    class Dying:
        def __init__(self, qs):
            self.qs = qs

        def __getattr__(self, name):
            return getattr(self.qs, name)

        def delete(self):
            raise SystemExit("worker killed")

    return lambda *a, **kw: Dying(real(*a, **kw))


def test_closing_an_interrupted_run_removes_the_batches_no_task_will_run(world, monkeypatch):
    for n in range(3):
        world.new_commitment(f"SC-B-ST-LOST-{n}")
    run, tasks = stored_fan_out(world, monkeypatch)
    run_stored(world, tasks[0][0][1])  # the other tasks are lost
    assert RunBatch.objects.filter(run=run).count() == len(tasks) - 1
    SyncRun.objects.filter(pk=run.pk).update(
        progressed_at=timezone.now() - interrupted_after() - timedelta(minutes=1)
    )
    waiting = sum(RunBatch.objects.filter(run=run).values_list("size", flat=True))
    assert runs_close_interrupted() == [run.pk]
    closed = SyncRun.objects.get(pk=run.pk)
    assert closed.status == RunStatus.FAILED
    assert f"{waiting} of them were still queued" in closed.error
    assert "full resync" in closed.error
    assert not RunBatch.objects.filter(run=run).exists()


def test_an_interrupted_poll_says_the_next_poll_picks_up_what_it_did_not_reach(world):
    run = SyncRun.objects.create(
        connection=world.erp_conn, object_type="commitments", trigger="poll", moves_cursor=True
    )
    SyncRun.objects.filter(pk=run.pk).update(
        progressed_at=timezone.now() - interrupted_after() - timedelta(minutes=1)
    )
    assert runs_close_interrupted() == [run.pk]
    error = SyncRun.objects.get(pk=run.pk).error
    assert "next poll of this flow" in error and "full resync" not in error


def test_a_run_whose_batch_died_is_closed_with_what_it_did_and_what_to_do(world):
    """A batch whose every delivery died (a worker killed each time) never records: the run
    would show "running" for ever. The recovery job closes it once no task can come back."""
    for n in range(3):
        world.new_commitment(f"SC-B-LOST-{n}")
    queued: list = []
    run = fan_out(world, queued)
    run_batches(world, queued[:1])  # the other batches' tasks are lost
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and 0 < run.done < run.total
    assert run.progressed_at is not None  # the batch that ran recorded its progress

    # Within the time a task can still be redelivered: left alone.
    soon = run.progressed_at + interrupted_after() - timedelta(minutes=1)
    assert runs_close_interrupted(now=soon) == []
    assert SyncRun.objects.get(pk=run.pk).status == RunStatus.RUNNING

    SyncRun.objects.filter(pk=run.pk).update(
        progressed_at=timezone.now() - interrupted_after() - timedelta(minutes=1)
    )
    counts = recover_stale_changes()
    assert counts.get("runs_interrupted") == 1
    closed = SyncRun.objects.get(pk=run.pk)
    assert closed.status == RunStatus.FAILED and closed.finished_at is not None
    assert f"{run.done} of {run.total} records done" in closed.error
    assert "full resync" in closed.error
    assert closed.synced == run.synced  # what it did record is kept
    assert recover_stale_changes().get("runs_interrupted") is None  # a second delivery: none


def test_a_finished_or_progressing_run_is_never_closed_as_interrupted(world):
    world.new_commitment("SC-B-LIVE")
    queued: list = []
    run = fan_out(world, queued)
    run_batches(world, queued)
    later = timezone.now() + interrupted_after() + timedelta(hours=1)
    live = SyncRun.objects.create(connection=world.erp_conn, object_type="commitments")
    SyncRun.objects.filter(pk=live.pk).update(progressed_at=later - timedelta(minutes=5))
    assert runs_close_interrupted(now=later) == []
    assert SyncRun.objects.get(pk=run.pk).status == RunStatus.SUCCEEDED
    assert SyncRun.objects.get(pk=live.pk).status == RunStatus.RUNNING


def test_a_batch_finishing_before_the_fetch_ends_does_not_close_the_run(world):
    # A batch can run to its end while the fetch is still queuing the next ones (a worker
    # idle, a slow Procore page): its done == total then counts only what was queued so far.
    for n in range(6):
        world.new_commitment(f"SC-B-F{n}")
    seen = []

    def enqueue(run_id, flow, sources):  # the batch runs at once, before the fetch goes on
        run_batch(world, run_id, flow, sources)
        seen.append(SyncRun.objects.values_list("status", "done", "total").get(pk=run_id))

    run = fan_out(world, [], batch=3, enqueue=enqueue)
    assert len(seen) > 2
    # After each batch but the last: every queued record done, and the run still running.
    assert all(done == total for _, done, total in seen)
    assert {status for status, _, _ in seen} == {RunStatus.RUNNING}
    # The fetch, ending after the last batch, closed it with every record counted.
    assert run.status == RunStatus.SUCCEEDED and run.fetched_at is not None
    assert run.finished_at >= run.fetched_at
    assert run.done == run.total == seen[-1][2] > 6
