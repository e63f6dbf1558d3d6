"""The concurrent sender (sync.writer.ConcurrentSender) with writes finishing out of order:
more changes than the ERP lets one batch have in flight, each ERP answer after a random delay;
every change is sent and bound once, and every binding written back to Procore."""

from __future__ import annotations

import pytest

from sync.models import Binding, Change, ChangeState, RunStatus, SyncRun
from sync.services.runs import build_context
from sync.writer import write_concurrency
from tests.sync.engine_support import WORLDS
from tests.sync.test_batches import fan_out, run_batches

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", ["netsuite", "quickbooks"])
def test_writes_finishing_out_of_order_are_each_settled_once(kind, monkeypatch):
    monkeypatch.setattr("sync.services.batches.FIRST_BATCH", 100)
    world = WORLDS[kind]()
    world.procore.spike.limit = world.procore.hourly.limit = 1_000_000
    if kind == "quickbooks":  # its windows would make the test wait, not the order change
        world.erp.rate_scale = 1000
    world.erp.faults.latency_ms = world.erp.faults.latency_jitter_ms = 6.0
    pids = [world.new_commitment(f"SC-OOO-{n}") for n in range(24)]
    writes = _po_writes(world)
    queued: list = []
    fan_out(world, queued, batch=100)  # one batch: more than the concurrency in flight
    assert len(queued) == 1 and len(queued[0][2]) > 24
    run_batches(world, queued)

    run = SyncRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED, run.error
    bindings = Binding.objects.filter(object_type="commitment", procore_id__in=pids)
    assert bindings.count() == len(pids)
    assert len({b.erp_id for b in bindings}) == len(pids)
    assert all(b.written_back_at is not None for b in bindings)
    sent = Change.objects.filter(procore_id__in=pids)
    assert {c.state for c in sent} == {ChangeState.SENT}
    # One ERP write per record synced (the demo company's own commitments too), none twice.
    assert run.synced >= len(pids) and _po_writes(world) - writes == run.synced
    # The write-back: each Procore commitment names its own ERP document (origin_id).
    origins = {
        str(r["id"]): str(r.get("origin_id") or "")
        for r in world.procore.store.all("commitments")
        if str(r["id"]) in pids
    }
    for b in bindings:
        assert origins[b.procore_id].rsplit(":", 1)[-1] == b.erp_id, origins[b.procore_id]
    ctx = build_context(world.erp_conn, clients=world.clients, lookup=lambda c: world.lookup)
    assert len(pids) > write_concurrency(ctx)


def _po_writes(world) -> int:
    """Purchase-order writes the ERP sandbox received (not its token grants or queries)."""
    return sum(
        1
        for method, path, _status in world.erp.request_log
        if method != "GET" and "purchaseorder" in path.lower()
    )
