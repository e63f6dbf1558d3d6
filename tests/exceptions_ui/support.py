"""Wiring for the queue's tests: a QuickBooks world (tests/sync/engine_support.py) whose
mappings live in the real mapping tables and reference cache, so the queue's inline fix
and the engine's re-evaluation run exactly as in production; the engine's clients are the
in-process sandboxes."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from mappings.models import (
    AccountRoleMapping,
    CostCodeMapping,
    ProjectMapping,
    ReferenceRecord,
    VendorMapping,
)
from sync.models import Change, ChangeState, ExceptionItem
from sync.services.runs import sync_run
from tests.sync.engine_support import WORLDS, World


def persist_mappings(world: World, *, accounts: bool = True) -> None:
    """The world's FakeLookup as rows of the mapping tables (+ the ERP reference cache)."""
    conn = world.erp_conn
    lookup = world.lookup
    ProjectMapping.objects.bulk_create(
        ProjectMapping(
            connection=conn,
            procore_project_id=pid,
            erp_customer_id=t.erp_customer_id,
            erp_job_id=t.erp_job_id or "",
            subsidiary_id=t.subsidiary_id or "",
            currency=t.currency,
            location_id=t.location_id or "",
        )
        for pid, t in lookup.projects.items()
    )
    CostCodeMapping.objects.bulk_create(
        CostCodeMapping(connection=conn, cost_code=code, item_id=t.item_id or "")
        for code, t in lookup.costs.items()
    )
    VendorMapping.objects.bulk_create(
        VendorMapping(
            connection=conn,
            procore_vendor_id=pid,
            erp_vendor_id=t.erp_vendor_id,
            subsidiary_ids=list(t.subsidiary_ids),
        )
        for pid, t in lookup.vendors.items()
    )
    if accounts:
        AccountRoleMapping.objects.bulk_create(
            AccountRoleMapping(connection=conn, role=role, account_id=account)
            for role, account in lookup.accounts.items()
        )
    now = timezone.now()
    ap = world.eids.get("account:ap", "")
    ReferenceRecord.objects.bulk_create(
        [
            ReferenceRecord(
                connection=conn,
                kind="account",
                remote_id=ap,
                code="2000",
                name="Accounts Payable",
                refreshed_at=now,
            ),
            ReferenceRecord(
                connection=conn,
                kind="account",
                remote_id="9001",
                code="2100",
                name="Other payables",
                refreshed_at=now,
            ),
        ]
    )


def qbo_world(monkeypatch, *, accounts: bool = True, **policies) -> World:
    """A QuickBooks world; the engine's default clients are its sandboxes, mappings in DB."""
    world = WORLDS["quickbooks"](**policies)
    persist_mappings(world, accounts=accounts)
    monkeypatch.setattr("sync.services.runs._default_clients", world.clients)
    return world


def run(world: World, pid: str | None = None):
    """A sync of commitments with the real mapping lookup (the tables)."""
    return sync_run(
        connection_id=world.erp_conn.pk,
        object_type="commitments",
        procore_id=pid,
        clients=world.clients,
    )


def held_item(pid: str) -> ExceptionItem:
    change = Change.objects.get(procore_id=pid, state=ChangeState.HELD)
    return ExceptionItem.objects.get(change=change)


def qbo_pos(world: World, number: str) -> list[dict]:
    return [po for po in world.erp.records("PurchaseOrder") if po.get("DocNumber") == number]


AMOUNTS = (Decimal("1000.00"), Decimal("2500.00"))
