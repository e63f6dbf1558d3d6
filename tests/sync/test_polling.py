"""Polling by cursor, "sync now", the full resync, the flow lease and a run killed half-way."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sync import polling
from sync.models import Binding, Change, Cursor, RunStatus, SyncRun, Verdict, WebhookDelivery
from sync.polling import poll_flow
from sync.services import batches
from sync.services.locks import lock_acquire, lock_release
from sync.triggers import full_resync, sync_now, sync_now_request
from tests.sync import documents_support as ds
from tests.sync.engine_support import WORLDS, SlotLimits
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


def test_sync_now_for_every_flow_starts_each_flow_once_the_one_it_depends_on_is_done(
    world, monkeypatch, client, integration_admin
):
    """A pay app's bill links to its commitment's PO only once the commitment is bound. The
    batches of a cluster run in any order: here the queue hands out the newest first, the
    worst case, and the requisitions must still wait for the commitments' run."""
    ds.prepare(world)  # the account roles a bill needs
    cid = world.new_commitment("SC-P-CHAIN", ("1000.00", "2500.00"))
    rid = ds.new_requisition(world, cid, {0: "400.00"}, invoice="INV-P-CHAIN")
    queued: list[tuple] = []
    monkeypatch.setattr(
        batches, "_async_enqueue", lambda *batch: queued.append(batch)
    )  # the cluster's queue: (run id, flow, records)
    client.force_login(integration_admin)
    sync_now(connection_id=world.erp_conn.pk)
    [first] = SyncRun.objects.all()  # only the first flow: the others wait for it
    assert first.object_type == "projects" and first.status == RunStatus.RUNNING
    assert first.then_flows == polling.polled_flows(world.erp_conn)[1:]
    page = run_page(client, first)
    assert "Next, once this run has succeeded:" in page and "requisitions" in page

    while queued:  # newest batch first
        run_id, name, records = queued.pop()
        batches.sync_batch(run_id=run_id, object_type=name, sources=records)

    runs = SyncRun.objects.order_by("pk")
    assert [r.object_type for r in runs] == polling.polled_flows(world.erp_conn)
    assert all(r.status == RunStatus.SUCCEEDED for r in runs), [(r, r.error) for r in runs]
    for before, after in zip(runs, runs[1:], strict=False):
        assert after.started_at >= before.finished_at, (before, after)
    assert "Started after this run:" in run_page(client, runs.get(object_type="commitments"))
    po = Binding.objects.get(object_type="commitment", procore_id=cid)
    bill_id = Binding.objects.get(object_type="requisition", procore_id=rid).erp_id
    [bill] = [d for d in ds.erp_docs(world, bill_type(world)) if ds.doc_id(world, d) == bill_id]
    if world.kind == "netsuite":
        assert {ln["orderDoc"]["id"] for ln in bill["item"]["items"]} == {po.erp_id}
    else:
        assert {"TxnId": po.erp_id, "TxnType": "PurchaseOrder"} in bill["LinkedTxn"]


def test_a_failed_run_stops_the_flows_that_wait_for_it_and_says_so(
    world, client, integration_admin, monkeypatch
):
    client.force_login(integration_admin)

    def down(*args, **kwargs):
        raise batches.ConnectionDown("the ERP refused our credentials")

    monkeypatch.setattr(batches, "send_change", down)
    monkeypatch.setattr(batches, "write_concurrency", lambda ctx: 1)  # one by one: send_change
    world.new_commitment("SC-P-STOP")
    sync_now(connection_id=world.erp_conn.pk)
    [failed] = SyncRun.objects.all()  # the first flow with a write to send
    assert failed.status == RunStatus.FAILED and "credentials" in failed.error
    assert failed.then_flows == polling.polled_flows(world.erp_conn)[1:]
    page = run_page(client, failed)
    assert "Not started, because they wait for this flow to succeed" in page
    assert "requisitions" in page


def bill_type(world) -> str:
    return "vendorBill" if world.kind == "netsuite" else "Bill"


def run_page(client, run) -> str:
    return client.get(reverse("sync:run_detail", args=[run.pk])).content.decode()


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


def test_a_full_resync_runs_in_batches_with_writes_in_flight_together(world, monkeypatch):
    held: list[tuple] = []  # the cluster's queue, held still until the batches run
    monkeypatch.setattr(batches, "_async_enqueue", lambda *batch: held.append(batch))
    pids = [world.new_commitment(f"SC-P-RS-{n}") for n in range(12)]
    world.erp.faults.latency_ms = 20
    world.limits = SlotLimits()  # the resync's reads wait for a slot while its writes run
    [run] = full_resync(connection_id=world.erp_conn.pk, object_type="commitments")
    assert run.status == RunStatus.RUNNING and run.fetched_at is not None and held
    while held:
        run_id, name, records = held.pop()
        batches.sync_batch(run_id=run_id, object_type=name, sources=records)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.done == run.total, run.error
    assert Binding.objects.filter(object_type="commitment", procore_id__in=pids).count() == 12
    assert world.erp.gate.peak > 1  # one record at a time kept one request in flight
    bound = run.records.filter(note__startswith="bound to existing").count()
    assert f"full resync: {bound} bound to documents already in the ERP" == run.note


def test_a_resync_that_cannot_look_in_the_erp_plans_the_record_as_usual(world, monkeypatch):
    from connectors.errors import ConnectorError
    from sync.services import resync

    def unreachable(*args):
        raise ConnectorError("read timed out", system=world.kind)

    monkeypatch.setattr(resync, "_existing", unreachable)
    pid = world.new_commitment("SC-P-RS-DOWN")
    [run] = full_resync(connection_id=world.erp_conn.pk, object_type="commitments")
    assert run.status == RunStatus.SUCCEEDED, run.error
    record = run.records.get(procore_id=pid)
    assert record.outcome == "synced" and not record.note.startswith("bound to existing")
    assert Binding.objects.filter(object_type="commitment", procore_id=pid).exists()


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
    # Record after record, whatever the number of changes (many go in batches, and a pass
    # cut short there is tests/sync/test_polling_full_pass.py's).
    monkeypatch.setattr(polling, "MANY", 10**6)
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
