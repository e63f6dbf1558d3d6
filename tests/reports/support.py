"""A generated company (seed 42, "demo") seeded into the sandboxes, synced through the engine
(commitments, change orders, pay apps, retainage releases, payments: the planted cases stop in
the queue) and reconciled: what the report tests read."""

from __future__ import annotations

from reconciliation.models import ReconStatus
from reconciliation.services import reconcile_connection
from tests.sync.engine_support import WORLDS
from tests.sync.trigger_support import wire

FLOWS = (
    "commitments",
    "commitment_change_orders",
    "requisitions",
    "retainage_releases",
    "payments",
)


def synced_world(monkeypatch, kind: str):
    world = WORLDS[kind]()
    wire(monkeypatch, world)
    for flow in FLOWS:
        world.run(flow)
    run = reconcile_connection(connection_id=world.erp_conn.pk)
    assert run.status == ReconStatus.SUCCEEDED, run.error
    return world, run
