"""Reconciliation against the sandboxes: planted differences each open exactly one
RECONCILIATION_DRIFT item with the field-level difference, a second run opens nothing new,
a drift that disappears auto-resolves, and the stored per-project totals match a computation
made here straight from the sandboxes' own records."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from reconciliation.models import ProjectTotals, ReconStatus
from reconciliation.services import reconcile_connection
from sync.models import Binding, ExceptionItem, ItemStatus
from tests.sync.engine_support import WORLDS
from tests.sync.trigger_support import wire

pytestmark = pytest.mark.django_db
DRIFT = "RECONCILIATION_DRIFT"
D = Decimal


@pytest.fixture(params=["netsuite", "quickbooks"])
def world(request, monkeypatch):
    w = WORLDS[request.param]()
    wire(monkeypatch, w)
    return w


def reconcile(world):
    run = reconcile_connection(connection_id=world.erp_conn.pk)
    assert run.status == ReconStatus.SUCCEEDED, run.error
    return run


def drifts():
    return ExceptionItem.objects.filter(reason_code=DRIFT)


def edit_po_amount(world, erp_id: str, amount: str) -> None:
    if world.kind == "netsuite":
        world.erp.control.edit_purchase_order(erp_id, line=1, amount=D(amount))
        return
    po = world.erp.read("PurchaseOrder", erp_id)
    lines = copy.deepcopy(po["Line"])
    lines[0]["Amount"] = D(amount)
    detail = lines[0][lines[0]["DetailType"]]
    detail.pop("Qty", None)
    detail.pop("UnitPrice", None)
    world.erp.edit_record("PurchaseOrder", erp_id, {"Line": lines})


def test_an_amount_edited_in_the_erp_opens_one_drift_item_that_resolves(world):
    pid = world.new_commitment("SC-R-100", ("1000.00", "2000.00"))
    assert world.run("commitments", pid).synced == 1
    first = reconcile(world)
    assert not drifts().exists(), [i.explanation for i in drifts()]
    assert first.compared >= 1
    binding = Binding.objects.get(object_type="commitment", procore_id=pid)
    edit_po_amount(world, binding.erp_id, "1250.00")
    reconcile(world)
    [item] = drifts()
    assert item.status == ItemStatus.OPEN and item.procore_id == pid
    assert item.details["difference"]["amount"] == {"procore": "3000.00", "erp": "3250.00"}
    assert "SC-R-100" in item.explanation and "amount" in item.explanation
    # The same drift again: still one item, no new event beyond the opening.
    reconcile(world)
    assert drifts().count() == 1 and item.events.count() == 1
    # Put the ERP back: the item resolves by itself.
    edit_po_amount(world, binding.erp_id, "1000.00")
    run = reconcile(world)
    item.refresh_from_db()
    assert item.status == ItemStatus.AUTO_RESOLVED and run.drifts_resolved == 1


def _paid_requisition(world):
    """A seeded requisition the ERP shows paid (its bill exists), bound as the bills flow
    would bind it."""
    commitments = world.company.by_key("commitments")
    projects = world.company.by_key("projects")
    for r in world.company.requisitions:
        c = commitments[r.commitment]
        if (
            r.in_erp
            and r.paid_in_erp
            and r.paid_on
            and not r.retainage_released
            and not r.exceeds_commitment
            and projects[c.project].erp == world.kind
            and world.eids.get(
                f"bill:{r.key}" if world.kind == "quickbooks" else f"vendorBill:{r.key}"
            )
        ):
            return r
    raise LookupError("no paid requisition")


def test_a_paid_date_missing_in_procore_opens_one_drift(world):
    r = _paid_requisition(world)
    pid = world.pids[f"requisition:{r.key}"]
    bill_key = f"bill:{r.key}" if world.kind == "quickbooks" else f"vendorBill:{r.key}"
    Binding.objects.create(
        connection=world.erp_conn,
        object_type="requisition",
        procore_id=pid,
        erp_type="Bill" if world.kind == "quickbooks" else "vendorBill",
        erp_id=world.eids[bill_key],
    )
    reconcile(world)
    assert not drifts().filter(procore_id=pid).exists(), [i.details for i in drifts()]
    world.procore.store.get("requisitions", pid)["payment_date"] = None  # planted
    reconcile(world)
    [item] = drifts().filter(procore_id=pid)
    diff = item.details["difference"]
    if world.kind == "quickbooks":
        assert diff == {"paid_date": {"procore": None, "erp": r.paid_on.isoformat()}}
    else:  # NetSuite's bill says paid; the payment's date is on the vendorPayment
        assert diff in (
            {"paid": {"procore": False, "erp": True}},
            {"paid_date": {"procore": None, "erp": r.paid_on.isoformat()}},
        )
    reconcile(world)
    assert drifts().filter(procore_id=pid).count() == 1


def test_an_erp_bill_with_no_procore_source_opens_one_drift(monkeypatch):
    world = WORLDS["quickbooks"]()
    wire(monkeypatch, world)
    reconcile(world)
    assert not drifts().exists(), [i.explanation for i in drifts()]
    project = next(p for p in world.company.projects if p.erp == "quickbooks")
    job = world.eids[f"job:{project.key}"]
    vendor = next(v for v in world.company.vendors if f"vendor:{v.key}" in world.eids)
    bill = world.erp.create(
        world.erp.default_realm,
        "Bill",
        {
            "VendorRef": {"value": world.eids[f"vendor:{vendor.key}"]},
            "DocNumber": "ORPHAN-1",
            "Line": [
                {
                    "DetailType": "AccountBasedExpenseLineDetail",
                    "Amount": D("412.50"),
                    "Description": "typed straight into the books",
                    "AccountBasedExpenseLineDetail": {
                        "AccountRef": {"value": world.eids["account:cost_subcontract"]},
                        "CustomerRef": {"value": job},
                    },
                }
            ],
        },
    )
    run = reconcile(world)
    [item] = drifts()
    assert item.procore_id == f"erp:{bill['Id']}" and item.object_type == "erp_bill"
    assert item.details["difference"]["source"]["procore"] is None
    assert "ORPHAN-1" in item.details["difference"]["source"]["erp"]
    assert item.amount == D("412.50") and run.unbound_erp >= 1
    reconcile(world)
    assert drifts().count() == 1


def _procore_figures(world, project_id: int) -> dict[str, Decimal]:
    sb = world.procore
    committed = D(0)
    for c in sb.scoped("commitments", project_id):
        if c.get("status") in ("Approved", "Complete", "Closed") and not c.get("deleted_at"):
            committed += sum(
                (D(str(x["amount"])) for x in sb.scoped("commitment_line_items", c["id"])), D(0)
            )
    billed = D(0)
    for c in sb.scoped("commitments", project_id):
        for r in sb.scoped("requisitions", c["id"]):
            if r.get("status") != "draft" and not r.get("deleted_at"):
                billed += D(str(r["total_claimed_amount"]))
    return {"committed": committed, "billed": billed}


def _qbo_figures(world, job: str) -> dict[str, Decimal]:
    def on_job(doc):
        for line in doc.get("Line") or []:
            detail = line.get(line.get("DetailType") or "") or {}
            if isinstance(detail, dict) and (detail.get("CustomerRef") or {}).get("value") == job:
                return True
        return False

    committed = sum(
        (D(str(po["TotalAmt"])) for po in world.erp.records("PurchaseOrder") if on_job(po)), D(0)
    )
    billed = D(0)
    for bill in world.erp.records("Bill"):
        if on_job(bill):
            for line in bill["Line"]:
                amount = D(str(line.get("Amount") or 0))
                text = str(line.get("Description") or "")
                if amount > 0 and not text.lower().startswith("retainage"):
                    billed += amount
    return {"committed": committed, "billed": billed}


def test_stored_totals_match_an_independent_computation(monkeypatch):
    world = WORLDS["quickbooks"]()
    wire(monkeypatch, world)
    run = reconcile(world)
    rows = ProjectTotals.objects.filter(run=run)
    assert rows.exists() and all(r.as_of == run.as_of for r in rows)
    checked = 0
    for p in world.company.projects:
        if p.erp != "quickbooks":
            continue
        pid = world.pids[f"project:{p.key}"]
        row = rows.get(procore_project_id=pid)
        ours = _procore_figures(world, int(pid))
        theirs = _qbo_figures(world, world.eids[f"job:{p.key}"])
        assert row.currency == "USD"
        assert (row.committed_procore, row.billed_procore) == (ours["committed"], ours["billed"])
        assert (row.committed_erp, row.billed_erp) == (theirs["committed"], theirs["billed"])
        checked += 1
    assert checked and run.total == run.done == checked
