"""Owner invoices (payment applications) → invoice / Invoice to the project's job with the
retainage receivable line, against both ERP sandboxes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sync.context import origin_id_for
from sync.models import Binding, Change, ChangeState
from sync.services.exceptions import change_link
from sync.services.runs import change_send
from tests.sync import documents_support as ds
from tests.sync.engine_support import WORLDS

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["netsuite", "quickbooks"])
def world(request):
    return ds.prepare(WORLDS[request.param]())


def invoice_type(world) -> str:
    return "invoice" if world.kind == "netsuite" else "Invoice"


def applications(world, *, in_erp: bool):
    c = world.company
    projects = {p.key: p for p in c.projects}
    primes = {p.key: p for p in c.prime_contracts}
    for pa in c.payment_applications:
        project = projects[primes[pa.prime_contract].project]
        if project.erp == world.kind and pa.in_erp == in_erp and pa.status in ("approved", "paid"):
            yield pa, project


def retainage_this_period(world, pa) -> Decimal:
    """Procore's G702 holds retainage on the amount completed *to date* (rounded once), so
    this period's retainage is the to-date figure less the previous application's; it can
    differ by a cent or so from 10 % of this period's work alone."""
    apps = sorted(
        (x for x in world.company.payment_applications if x.prime_contract == pa.prime_contract),
        key=lambda x: x.number,
    )

    def to_date(upto):
        if upto is None:
            return Decimal(0)
        done = sum((x.work_completed for x in apps if x.number <= upto.number), Decimal(0))
        # the percentage as Procore keeps it: two decimals
        pct = (upto.retainage * 100 / upto.work_completed).quantize(Decimal("0.01"))
        return (done * pct / 100).quantize(Decimal("0.01"))

    previous = next((x for x in reversed(apps) if x.number < pa.number), None)
    return to_date(pa) - to_date(previous)


def test_owner_invoice_bills_the_work_less_retainage_to_the_job(world):
    pa, project = next(applications(world, in_erp=False))
    retainage = retainage_this_period(world, pa)
    assert abs(retainage - pa.retainage) <= Decimal("0.05")
    pid = world.pids[f"payment_application:{pa.key}"]
    run = world.run("owner_invoices", pid)
    assert run.synced == 1, (run.error, list(run.records.values("outcome", "note")))
    [inv] = ds.numbered(world, invoice_type(world), pa.invoice_number)
    e = world.eids
    billing = e["item:progress_billing"] if world.kind == "netsuite" else e["item:billing"]
    expected = [(billing, pa.work_completed), (e["item:retainage"], -retainage)]
    assert [(item, amount) for item, _, amount in ds.lines(world, inv)] == expected
    assert ds.total(world, inv) == pa.work_completed - retainage
    job = e[f"job:{project.key}"]
    if world.kind == "netsuite":
        assert inv["entity"]["id"] == job
        assert inv["subsidiary"]["id"] == e[f"subsidiary:{project.subsidiary}"]
        assert inv["currency"]["id"] == e[f"currency:{project.currency}"]
    else:
        assert inv["CustomerRef"]["value"] == job
    binding = Binding.objects.get(object_type="owner_invoice", procore_id=pid)
    assert world.procore.store.get("payment_applications", int(pid))["origin_id"] == origin_id_for(
        world.erp_conn, binding.erp_id
    )
    writes = world.writes()
    assert world.run("owner_invoices", pid).skipped == 1 and world.writes() == writes


def test_an_owner_invoice_keyed_in_earlier_is_linked_not_created(world):
    pa, _ = next(applications(world, in_erp=True))
    pid = world.pids[f"payment_application:{pa.key}"]
    erp_id = world.eids[f"invoice:{pa.key}"]
    assert world.run("owner_invoices", pid).queued == 1
    change = Change.objects.get(procore_id=pid, state=ChangeState.HELD)
    assert change.reason_code == "SUSPECTED_DUPLICATE", change.explanation
    assert change.item.details["candidates"][0]["erp_id"] == erp_id
    assert change.item.details["same_amount"] is True
    assert change_link(change=change, erp_id=erp_id)
    result = change_send(change_id=change.pk, clients=world.clients, lookup=lambda c: world.lookup)
    assert result == "synced"
    assert len(ds.numbered(world, invoice_type(world), pa.invoice_number)) == 1


def test_missing_retainage_item_setting_holds_the_invoice(world):
    pa, _ = next(applications(world, in_erp=False))
    ds.set_policies(world, owner_retainage_item_id="")
    pid = world.pids[f"payment_application:{pa.key}"]
    assert world.run("owner_invoices", pid).queued == 1
    change = Change.objects.get(procore_id=pid, state=ChangeState.HELD)
    assert change.reason_code == "UNMAPPED_ACCOUNT"
    assert ds.numbered(world, invoice_type(world), pa.invoice_number) == []


def test_commit_then_drop_leaves_one_invoice(world):
    pa, _ = next(applications(world, in_erp=False))
    pid = world.pids[f"payment_application:{pa.key}"]
    world.erp.faults.commit_then_drop_next = 1
    assert world.run("owner_invoices", pid).synced == 1
    assert world.run("owner_invoices", pid).skipped == 1
    assert len(ds.numbered(world, invoice_type(world), pa.invoice_number)) == 1
