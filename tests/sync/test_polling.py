"""Polling by cursor, "sync now", the full resync, the flow lease and a run killed half-way."""

from __future__ import annotations

import pytest

from sync import polling
from sync.models import Binding, Change, Cursor, RunStatus, SyncRun, Verdict, WebhookDelivery
from sync.polling import poll_flow
from sync.services.locks import lock_acquire, lock_release
from sync.triggers import full_resync, sync_now, sync_now_request
from tests.sync.engine_support import WORLDS
from tests.sync.trigger_support import django_sender, install_procore_hook, wire

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["netsuite", "quickbooks"])
def world(request, monkeypatch):
    w = WORLDS[request.param]()
    wire(monkeypatch, w)
    return w


def poll(world):
    return poll_flow(connection_id=world.erp_conn.pk, object_type="commitments")


def number(po):
    return po.get("tranId") or po.get("DocNumber")


def test_a_dropped_webhook_is_caught_by_the_next_poll_and_noted(world, client):
    first = poll(world)  # a full pass sets the watermark
    assert first.status == RunStatus.SUCCEEDED and "first poll" in first.note
    assert Cursor.objects.get(connection=world.erp_conn, object_type="commitments").watermark
    install_procore_hook(world)
    world.procore.faults.update({"webhook_drop_rate": 1.0})
    world.procore.clock.advance(5)
    pid = world.new_commitment("SC-P-100", ("700.00", "300.00"))
    world.procore.deliver(django_sender(client))
    assert not WebhookDelivery.objects.filter(verdict=Verdict.PROCESSED).exists()
    assert world.procore.outbox.dropped
    run = poll(world)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert Binding.objects.filter(object_type="commitment", procore_id=pid).exists()
    assert run.missed_by_webhooks >= 1 and pid in run.note
    assert "no webhook delivered" in run.note
    # Nothing new since: the next poll finds nothing and writes nothing.
    writes = world.writes()
    again = poll(world)
    assert again.synced == 0 and world.writes() == writes


def test_a_delivered_webhook_is_not_counted_as_missed(world, client):
    poll(world)
    install_procore_hook(world)
    world.procore.clock.advance(5)
    pid = world.new_commitment("SC-P-150")
    world.procore.deliver(django_sender(client))
    assert Binding.objects.filter(procore_id=pid).exists()
    run = poll(world)
    assert pid not in run.note.split("delivered:")[-1]


def test_sync_now_for_a_whole_flow_runs_it_in_batches_with_writes_in_flight_together(world):
    pids = [world.new_commitment(f"SC-P-NOW-{n}") for n in range(20)]
    world.erp.faults.latency_ms = 20  # each request takes a moment, as a real one does
    [run] = sync_now(connection_id=world.erp_conn.pk, object_type="commitments")
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.done == run.total >= 20, run.error
    assert run.fetched_at is not None  # the batched run's fetch, then its batches
    assert Binding.objects.filter(procore_id__in=pids).count() == 20
    assert world.erp.gate.peak > 1  # one record at a time kept one request in flight


def test_full_resync_over_a_synced_company_writes_nothing_new(world):
    world.new_commitment("SC-P-200")
    sync_now(connection_id=world.erp_conn.pk, object_type="commitments")
    bindings = Binding.objects.count()
    writes, changes = world.writes(), Change.objects.count()
    # The first full resync only binds the documents the ERP already held (the normal run
    # held them as possible duplicates): no ERP write.
    [first] = full_resync(connection_id=world.erp_conn.pk, object_type="commitments")
    assert first.status == RunStatus.SUCCEEDED, first.error
    assert world.writes() == writes and Change.objects.count() == changes
    assert Binding.objects.count() == bindings + first.synced
    # Over the now fully synced company: nothing new at all.
    bindings = Binding.objects.count()
    [again] = full_resync(connection_id=world.erp_conn.pk, object_type="commitments")
    assert again.status == RunStatus.SUCCEEDED and again.synced == 0
    assert world.writes() == writes and Change.objects.count() == changes
    assert Binding.objects.count() == bindings


def test_full_resync_binds_existing_erp_documents_instead_of_duplicating(world):
    # The seeded ERP already holds POs entered before erpbridge (no external id).
    c = next(
        c
        for c in world.company.commitments
        if c.in_erp
        and not c.deleted
        and c.status == "Approved"
        and f"vendor:{c.vendor}" in world.pids
        and world.lookup.vendors.get(world.pids[f"vendor:{c.vendor}"])
        and not c.erp_edited_by_hand
        and all(line.cost_code in world.lookup.costs for line in c.lines)
        and next(p for p in world.company.projects if p.key == c.project).erp == world.kind
    )
    pid = world.pids[f"commitment:{c.key}"]
    before = [po for po in world.erp_pos() if number(po) == c.number[:21]]
    assert len(before) == 1
    [run] = full_resync(connection_id=world.erp_conn.pk, object_type="commitments")
    assert run.status == RunStatus.SUCCEEDED, run.error
    binding = Binding.objects.get(object_type="commitment", procore_id=pid)
    assert binding.erp_id == str(before[0].get("id") or before[0].get("Id"))
    assert len([po for po in world.erp_pos() if number(po) == c.number[:21]]) == 1
    assert "bound to documents already in the ERP" in run.note
    assert run.records.filter(procore_id=pid, note__startswith="bound to existing").exists()


def test_two_overlapping_runs_cannot_both_write(world):
    world.new_commitment("SC-P-300")
    token = lock_acquire(connection_id=world.erp_conn.pk, flow="commitments")
    assert token
    writes = world.writes()
    locked = poll(world)
    assert locked.status == RunStatus.LOCKED and world.writes() == writes
    [also_locked] = sync_now(connection_id=world.erp_conn.pk, object_type="commitments")
    assert also_locked.status == RunStatus.LOCKED
    lock_release(connection_id=world.erp_conn.pk, flow="commitments", token=token)
    assert poll(world).status == RunStatus.SUCCEEDED and world.writes() > writes


def test_a_run_killed_half_way_leaves_a_resumable_cursor(world, monkeypatch):
    poll(world)
    cursor = Cursor.objects.get(connection=world.erp_conn, object_type="commitments")
    mark = cursor.watermark
    world.procore.clock.advance(5)
    pids = [world.new_commitment(f"SC-K-{n}") for n in range(3)]
    real = polling._loop
    calls = []

    def dies_on_second(ctx, flow, run, record_id, token):
        calls.append(record_id)
        if len(calls) == 2:
            raise SystemExit("worker killed")
        return real(ctx, flow, run, record_id, token)

    monkeypatch.setattr(polling, "_loop", dies_on_second)
    with pytest.raises(SystemExit):
        poll(world)
    cursor.refresh_from_db()
    assert cursor.watermark == mark  # not moved: the next poll reads the same changes
    monkeypatch.setattr(polling, "_loop", real)
    # The lease of the dead run is released here by `finally`; a real SIGKILL leaves it to
    # expire (sync.services.locks.LEASE), after which the next poll proceeds the same way.
    run = poll(world)
    assert run.status == RunStatus.SUCCEEDED, run.error
    for pid in pids:
        assert Binding.objects.filter(object_type="commitment", procore_id=pid).count() == 1
        assert Change.objects.filter(procore_id=pid).count() == 1
    cursor.refresh_from_db()
    assert cursor.watermark > mark


def test_sync_now_for_one_record_queues_a_job_and_runs_it(world):
    pid = world.new_commitment("SC-P-400")
    sync_now_request(connection_id=world.erp_conn.pk, object_type="commitments", procore_id=pid)
    run = SyncRun.objects.get(trigger="sync_now")
    assert run.procore_id == pid and run.synced == 1
    with pytest.raises(ValueError):
        sync_now_request(connection_id=world.erp_conn.pk, procore_id=pid)


def test_full_resync_binds_existing_bills_and_tells_procore_where_they_are(world):
    """Pay apps the ERP already held: bound, and the write-back finds the Procore project
    though no Change was ever sent for them (it failed with an empty project id before)."""
    full_resync(connection_id=world.erp_conn.pk, object_type="commitments")
    [run] = full_resync(connection_id=world.erp_conn.pk, object_type="requisitions")
    assert run.status == RunStatus.SUCCEEDED, run.error
    bound = list(run.records.filter(note__startswith="bound to existing"))
    assert bound, "the dataset plants pay apps already in the ERP"
    for record in bound:
        binding = Binding.objects.get(object_type="requisition", procore_id=record.procore_id)
        procore = world.procore.store.get("requisitions", int(record.procore_id))
        assert procore["origin_id"] == world.origin_id(binding.erp_id)
        assert binding.written_back_at is not None
