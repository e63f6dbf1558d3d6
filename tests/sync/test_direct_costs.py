"""Direct costs → a vendor bill (an invoice from a vendor) or a journal entry (payroll,
expenses) by cost code, against both ERP sandboxes."""

from __future__ import annotations

import pytest

from sync.context import origin_id_for
from sync.models import Binding, Change, ChangeState
from tests.sync import documents_support as ds
from tests.sync.engine_support import WORLDS

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["netsuite", "quickbooks"])
def world(request):
    return ds.prepare(WORLDS[request.param]())


def direct_cost(world, kind: str, **want):
    projects = {p.key: p for p in world.company.projects}
    for dc in world.company.direct_costs:
        p = projects[dc.project]
        if p.erp != world.kind or dc.kind != kind or dc.status != "approved":
            continue
        if any(getattr(p, k) != v for k, v in want.items()):
            continue
        if dc.vendor and world.pids.get(f"vendor:{dc.vendor}") not in world.lookup.vendors:
            continue
        return dc, p
    raise LookupError(kind)


def journals(world) -> list[dict]:
    return ds.erp_docs(world, "journalEntry" if world.kind == "netsuite" else "JournalEntry")


def test_payroll_is_a_journal_entry_by_cost_code_credited_to_the_clearing_account(world):
    dc, project = direct_cost(world, "Payroll")
    pid = world.pids[f"direct_cost:{dc.key}"]
    before = len(journals(world))
    run = world.run("direct_costs", pid)
    assert run.synced == 1, (run.error, list(run.records.values("outcome", "note")))
    binding = Binding.objects.get(object_type="direct_cost", procore_id=pid)
    [je] = [j for j in journals(world) if ds.doc_id(world, j) == binding.erp_id]
    assert len(journals(world)) == before + 1
    got = ds.lines(world, je)
    labor, suspense = world.eids["account:cost_labor"], world.eids["account:suspense"]
    assert sorted(a for _, acct, a in got if acct == labor) == sorted(x.amount for x in dc.lines)
    assert [a for _, acct, a in got if acct == suspense] == [-dc.amount]
    if world.kind == "netsuite":
        assert je["subsidiary"]["id"] == world.eids[f"subsidiary:{project.subsidiary}"]
        assert je["currency"]["id"] == world.eids[f"currency:{project.currency}"]
    assert world.procore.store.get("direct_costs", int(pid))["origin_id"] == origin_id_for(
        world.erp_conn, binding.erp_id
    )
    writes = world.writes()
    assert world.run("direct_costs", pid).skipped == 1 and world.writes() == writes


def test_canadian_payroll_posts_in_cad():
    world = ds.prepare(WORLDS["netsuite"]())
    dc, project = direct_cost(world, "Payroll", subsidiary="ca")
    pid = world.pids[f"direct_cost:{dc.key}"]
    assert world.run("direct_costs", pid).synced == 1
    binding = Binding.objects.get(object_type="direct_cost", procore_id=pid)
    je = world.erp.store.collection("journalEntry")[binding.erp_id]
    assert je["currency"]["id"] == world.eids["currency:CAD"]
    assert je["subsidiary"]["id"] == world.eids["subsidiary:ca"]


def test_a_supplier_invoice_is_a_vendor_bill_by_cost_code(world):
    dc, _ = direct_cost(world, "Invoice")
    pid = world.pids[f"direct_cost:{dc.key}"]
    run = world.run("direct_costs", pid)
    assert run.synced == 1, (run.error, list(run.records.values("outcome", "note")))
    [bill] = ds.numbered(
        world, "vendorBill" if world.kind == "netsuite" else "Bill", dc.invoice_number
    )
    items = {world.eids[f"item:{x.cost_code}"] for x in dc.lines}
    got = ds.lines(world, bill)
    assert {item for item, _, _ in got} == items
    assert sorted(a for _, _, a in got) == sorted(x.amount for x in dc.lines)
    assert ds.total(world, bill) == dc.amount
    vendor = world.eids[f"vendor:{dc.vendor}"]
    party = bill["entity"]["id"] if world.kind == "netsuite" else bill["VendorRef"]["value"]
    assert party == vendor


def test_a_code_mapped_only_to_an_item_holds_the_journal(world):
    dc, _ = direct_cost(world, "Payroll")
    code = dc.lines[0].cost_code
    world.lookup.costs[code] = type(world.lookup.costs[code])("1", None, None)
    pid = world.pids[f"direct_cost:{dc.key}"]
    assert world.run("direct_costs", pid).queued == 1
    change = Change.objects.get(procore_id=pid, state=ChangeState.HELD)
    assert change.reason_code == "UNMAPPED_COST_CODE" and code in change.explanation


def test_commit_then_drop_leaves_one_journal(world):
    dc, _ = direct_cost(world, "Payroll")
    pid = world.pids[f"direct_cost:{dc.key}"]
    before = len(journals(world))
    world.erp.faults.commit_then_drop_next = 1
    assert world.run("direct_costs", pid).synced == 1
    assert world.run("direct_costs", pid).skipped == 1
    assert len(journals(world)) == before + 1
