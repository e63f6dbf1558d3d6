"""Retainage releases → a bill for the released amount on retention payable, against both ERP
sandboxes; what the ERP holds on retention payable adds up to held − released."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sync.context import origin_id_for
from sync.models import Binding, Change, ChangeState
from tests.sync import documents_support as ds
from tests.sync.engine_support import WORLDS

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["netsuite", "quickbooks"])
def world(request):
    return ds.prepare(WORLDS[request.param]())


def bill_type(world) -> str:
    return "vendorBill" if world.kind == "netsuite" else "Bill"


def retention(world, doc) -> Decimal:
    account = world.eids["account:retention_payable"]
    return sum((a for _, acct, a in ds.lines(world, doc) if acct == account), Decimal(0))


def test_release_bills_what_was_held_and_retention_payable_nets_to_zero(world):
    cid = world.new_commitment("SC-T-L100", ("1000.00", "2500.00"))
    work = ds.new_requisition(world, cid, {0: "1000.00", 1: "2500.00"}, invoice="INV-T-L1")
    held = ds.ten_percent(Decimal("1000.00")) + ds.ten_percent(Decimal("2500.00"))
    release = ds.new_requisition(world, cid, {}, invoice="INV-T-L2", released=str(held))

    # each requisition belongs to one flow only
    assert world.run("requisitions", release).skipped == 1
    assert world.run("retainage_releases", work).skipped == 1
    assert world.run("requisitions", work).synced == 1
    run = world.run("retainage_releases", release)
    assert run.synced == 1, (run.error, list(run.records.values("outcome", "note")))

    [first] = ds.numbered(world, bill_type(world), "INV-T-L1")
    [second] = ds.numbered(world, bill_type(world), "INV-T-L2")
    assert retention(world, first) == -held
    assert ds.lines(world, second) == [(None, world.eids["account:retention_payable"], held)]
    assert ds.total(world, second) == held
    assert retention(world, first) + retention(world, second) == Decimal(0)  # held − released
    binding = Binding.objects.get(object_type="retainage_release", procore_id=release)
    assert world.procore.store.get("requisitions", int(release))["origin_id"] == origin_id_for(
        world.erp_conn, binding.erp_id
    )
    writes = world.writes()
    assert world.run("retainage_releases", release).skipped == 1 and world.writes() == writes


def test_releasing_more_than_is_held_waits_for_a_controller(world):
    cid = world.new_commitment("SC-T-L200", ("1000.00",))
    ds.new_requisition(world, cid, {0: "1000.00"}, invoice="INV-T-L3")  # holds 100.00
    release = ds.new_requisition(world, cid, {}, invoice="INV-T-L4", released="150.00")
    assert world.run("retainage_releases", release).queued == 1
    change = Change.objects.get(procore_id=release, state=ChangeState.HELD)
    assert change.reason_code == "OVER_COMMITMENT"
    assert "150.00" in change.explanation and "100.00" in change.explanation
    assert ds.numbered(world, bill_type(world), "INV-T-L4") == []


def test_the_datasets_release_matches_the_retainage_it_held():
    world = ds.prepare(WORLDS["netsuite"]())
    c = world.company
    keys = set(c.planted["retainage_release"])
    r = next(x for x in c.requisitions if x.key in keys and not x.in_erp and x.status == "approved")
    earlier = [x for x in c.requisitions if x.commitment == r.commitment and x.number < r.number]
    held = sum((x.retainage for x in earlier), Decimal(0))
    assert r.retainage_released == held
    rid = world.pids[f"requisition:{r.key}"]
    run = world.run("retainage_releases", rid)
    assert run.synced == 1, list(run.records.values("outcome", "note"))
    [bill] = ds.numbered(world, "vendorBill", r.invoice_number)
    assert ds.total(world, bill) == held
    assert retention(world, bill) == held
