"""The batched run (``sync.jobs.run_flow_batched``): fetch once, one task per batch; a batch
delivered twice writes nothing twice; the duplicate search is one query per batch and still
finds the seeded ERP copies."""

from __future__ import annotations

import pytest

from sync.models import Binding, Change, ExceptionItem, RunStatus
from sync.services.batches import sync_batch, sync_fan_out
from tests.sync.engine_support import WORLDS

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["netsuite", "quickbooks"])
def world(request):
    w = WORLDS[request.param]()
    w.procore.spike.limit = w.procore.hourly.limit = 1_000_000
    return w


def fan_out(world, queued: list, batch: int = 5):
    def enqueue(run_id, flow, sources):
        queued.append((run_id, flow, sources))

    return sync_fan_out(
        connection_id=world.erp_conn.pk,
        object_type="commitments",
        batch=batch,
        enqueue=enqueue,
        clients=world.clients,
        lookup=lambda c: world.lookup,
    )


def run_batches(world, queued):
    for run_id, flow, sources in queued:
        sync_batch(
            run_id=run_id,
            object_type=flow,
            sources=sources,
            clients=world.clients,
            lookup=lambda c: world.lookup,
        )


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


def test_a_batch_delivered_twice_writes_nothing_twice(world):
    world.new_commitment("SC-B-9")
    queued: list = []
    fan_out(world, queued)
    run_batches(world, queued)
    writes, changes, items = world.writes(), Change.objects.count(), ExceptionItem.objects.count()
    run_batches(world, queued)  # the queue hands every batch out again
    assert world.writes() == writes
    assert Change.objects.count() == changes and ExceptionItem.objects.count() == items


def test_the_duplicate_search_is_one_query_per_batch(world):
    queued: list = []
    fan_out(world, queued, batch=50)
    [(run_id, flow, sources)] = queued
    before = len(world.erp.request_log)
    sync_batch(
        run_id=run_id,
        object_type=flow,
        sources=sources,
        clients=world.clients,
        lookup=lambda c: world.lookup,
    )
    searches = [
        p for _m, p, _s in list(world.erp.request_log)[before:] if "suiteql" in p or "/query" in p
    ]
    assert len(searches) <= 3, searches  # the batch's search (+ paging), not one per record
