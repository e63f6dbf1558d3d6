"""Payment status pull (ERP → Procore) against both ERP sandboxes: contract payments on the
requisitions, paid status and dates, origin ids, partial payments adding up, nothing written
twice, the cursor, drift, and the owner invoices' origin fields.

The ERP bills and invoices are the ones the sandboxes' seed loaders created; they are bound to
their Procore requisitions / pay apps here directly (Binding rows), as the document flows would.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from sync.models import Binding, Cursor, ExceptionItem, ItemStatus
from tests.sync.engine_support import WORLDS

pytestmark = pytest.mark.django_db
KINDS = ["netsuite", "quickbooks"]


@pytest.fixture(params=KINDS)
def world(request):
    w = WORLDS[request.param]()
    # The engine tests' clients do not wait (NoLimits, no sleep): lift Procore's 10 s spike
    # window, which a run writing ~50 payments in a second would otherwise hit.
    w.procore.spike.limit = w.procore.hourly.limit = 1_000_000
    return w


def bill_key(world, key: str) -> str:
    return f"vendorBill:{key}" if world.kind == "netsuite" else f"bill:{key}"


def invoice_key(world, key: str) -> str:
    return f"invoice:{key}"


def bind_documents(world) -> dict[str, tuple[str, str]]:
    """Bind every seeded ERP bill / invoice to its Procore record; requisition key → ids."""
    bound = {}
    bill_type = "vendorBill" if world.kind == "netsuite" else "Bill"
    invoice_type = "invoice" if world.kind == "netsuite" else "Invoice"
    for r in world.company.requisitions:
        erp_id = world.eids.get(bill_key(world, r.key))
        pid = world.pids.get(f"requisition:{r.key}")
        if erp_id and pid:
            Binding.objects.create(
                connection=world.erp_conn,
                object_type="retainage_release" if r.is_retainage_release else "requisition",
                procore_id=pid,
                erp_type=bill_type,
                erp_id=erp_id,
                erp_number=r.invoice_number,
            )
            bound[r.key] = (pid, erp_id)
    for pa in world.company.payment_applications:
        erp_id = world.eids.get(invoice_key(world, pa.key))
        pid = world.pids.get(f"payment_application:{pa.key}")
        if erp_id and pid:
            Binding.objects.create(
                connection=world.erp_conn,
                object_type="owner_invoice",
                procore_id=pid,
                erp_type=invoice_type,
                erp_id=erp_id,
                erp_number=pa.invoice_number,
            )
            bound[pa.key] = (pid, erp_id)
    return bound


def requisition(world, pid: str) -> dict:
    return world.procore.store.get("requisitions", int(pid))


def payments_on(world, pid: str) -> list[dict]:
    rec = requisition(world, pid)
    return [
        p
        for p in world.procore.scoped("contract_payments", rec["commitment_id"])
        if str(p.get("requisition_id")) == str(pid) and not p.get("deleted_at")
    ]


def procore_writes(world) -> int:
    return sum(1 for m, _p, _s in world.procore.request_log if m in ("POST", "PATCH", "PUT"))


def pay(world, erp_id: str, amount: Decimal, on: str = "2025-12-01"):
    if world.kind == "netsuite":
        return world.erp.control.mark_bill_paid(erp_id, amount=amount, tran_date=on)
    return world.erp.mark_bill_paid(erp_id, amount=amount, txn_date=on)["Id"]


def paid_requisitions(world, bound):
    return [r for r in world.company.requisitions if r.paid_in_erp and r.key in bound]


def unpaid_requisition(world, bound):
    for r in world.company.requisitions:
        if r.in_erp and not r.paid_in_erp and r.key in bound and r.gross > 0:
            return r
    raise LookupError("no unpaid bound requisition")


def bill_total(world, erp_id: str) -> Decimal:
    if world.kind == "netsuite":
        return Decimal(str(world.erp.control.read("vendorBill", erp_id)["total"]))
    return Decimal(str(world.erp.read("Bill", erp_id)["TotalAmt"]))


def test_paid_bills_become_contract_payments_and_paid_requisitions(world):
    bound = bind_documents(world)
    paid = paid_requisitions(world, bound)
    assert paid, "the demo company has paid bills"
    run = world.run("payments")
    assert run.status == "succeeded", run.error
    assert run.synced >= len(paid) and run.failed == 0
    for r in paid:
        pid, bill_id = bound[r.key]
        [payment] = payments_on(world, pid)
        assert Decimal(str(payment["amount"])) == bill_total(world, bill_id)
        assert payment["origin_id"].startswith(f"eb-{world.company.procore_company_id}-")
        assert payment["origin_id"].endswith(f"-{bill_id}")
        assert payment["invoice_number"] == r.invoice_number
        rec = requisition(world, pid)
        assert rec["erp_status"] == "paid"
        assert str(rec["payment_date"]) == payment["date"]
        if r.paid_on:
            assert payment["date"] == r.paid_on.isoformat()
        assert rec["origin_id"] == world.origin_id(bill_id)
        data = json.loads(rec["origin_data"])
        assert data["number"] == r.invoice_number and Decimal(data["balance"]) == 0
        assert Decimal(data["paid"]) == Decimal(str(payment["amount"]))
    # Unpaid bound bills are left alone.
    r = unpaid_requisition(world, bound)
    assert payments_on(world, bound[r.key][0]) == []
    assert requisition(world, bound[r.key][0])["erp_status"] is None


def test_running_twice_writes_nothing_new_to_procore(world):
    bind_documents(world)
    first = world.run("payments")
    assert first.synced > 0, first.error
    writes, bindings = procore_writes(world), Binding.objects.count()
    second = world.run("payments")
    assert second.status == "succeeded" and second.synced == 0 and second.failed == 0
    assert procore_writes(world) == writes
    assert Binding.objects.count() == bindings
    # Even reading everything again (no cursor) finds nothing to write.
    Cursor.objects.filter(connection=world.erp_conn).update(watermark=None)
    third = world.run("payments")
    assert third.synced == 0 and procore_writes(world) == writes


def test_partial_payments_add_up(world):
    bound = bind_documents(world)
    world.run("payments")
    r = unpaid_requisition(world, bound)
    pid, bill_id = bound[r.key]
    total = bill_total(world, bill_id)
    part = (total / 3).quantize(Decimal("0.01"))

    pay(world, bill_id, part, "2025-12-01")
    run = world.run("payments")
    assert run.synced >= 1, run.error
    [first] = payments_on(world, pid)
    assert Decimal(str(first["amount"])) == part
    rec = requisition(world, pid)
    assert rec["erp_status"] == "partially_paid" and str(rec["payment_date"]) == "2025-12-01"

    pay(world, bill_id, total - part, "2025-12-15")
    world.run("payments")
    payments = payments_on(world, pid)
    assert len(payments) == 2
    assert sum(Decimal(str(p["amount"])) for p in payments) == total
    rec = requisition(world, pid)
    assert rec["erp_status"] == "paid" and str(rec["payment_date"]) == "2025-12-15"
    assert Decimal(json.loads(rec["origin_data"])["paid"]) == total

    writes = procore_writes(world)
    assert world.run("payments").synced == 0
    assert procore_writes(world) == writes


def test_the_cursor_reads_only_what_changed(world):
    bound = bind_documents(world)
    world.run("payments")
    cursors = Cursor.objects.filter(connection=world.erp_conn, object_type="payments:vendor")
    [cursor] = cursors
    assert cursor.watermark is not None
    calls_full = world.run("payments").api_calls
    r = unpaid_requisition(world, bound)
    pid, bill_id = bound[r.key]
    pay(world, bill_id, bill_total(world, bill_id))
    run = world.run("payments")
    assert run.synced >= 1
    assert len(payments_on(world, pid)) == 1
    assert cursors.get().watermark >= cursor.watermark
    # An incremental run reads a page of changes, not every payment again.
    Cursor.objects.filter(connection=world.erp_conn).update(watermark=None)
    assert world.run("payments").api_calls > calls_full or world.kind == "quickbooks"


def test_a_payment_changed_in_the_erp_after_it_was_recorded_opens_drift(world):
    bound = bind_documents(world)
    r = unpaid_requisition(world, bound)
    pid, bill_id = bound[r.key]
    total = bill_total(world, bill_id)
    pay_id = pay(world, bill_id, Decimal("100.00"))
    world.run("payments")
    assert len(payments_on(world, pid)) == 1
    if world.kind == "netsuite":
        from sandboxes.netsuite.schema import RECORD_TYPES

        rec = world.erp.books.get("vendorPayment", str(pay_id))
        body = {"apply": {"items": [{"doc": {"id": bill_id}, "apply": True, "amount": 150}]}}
        world.erp.books.update(RECORD_TYPES["vendorPayment"], rec, body, replace={"apply"})
    else:
        world.erp.edit_record(
            "BillPayment",
            pay_id,
            {
                "TotalAmt": Decimal("150.00"),
                "Line": [
                    {
                        "Amount": Decimal("150.00"),
                        "LinkedTxn": [{"TxnId": bill_id, "TxnType": "Bill"}],
                    }
                ],
            },
        )
    writes = procore_writes(world)
    run = world.run("payments")
    assert run.queued == 1, run.error
    item = ExceptionItem.objects.get(reason_code="RECONCILIATION_DRIFT")
    assert item.status == ItemStatus.OPEN and "now 150.00" in item.explanation
    assert len(payments_on(world, pid)) == 1  # nothing rewritten in Procore
    assert total > 0 and procore_writes(world) >= writes
    world.run("payments")
    assert ExceptionItem.objects.filter(reason_code="RECONCILIATION_DRIFT").count() == 1


def test_paid_owner_invoices_carry_the_invoice_and_payment_in_their_origin(world):
    bound = bind_documents(world)
    paid = [pa for pa in world.company.payment_applications if pa.paid_in_erp and pa.key in bound]
    assert paid
    run = world.run("payments")
    assert run.failed == 0, run.error
    for pa in paid:
        pid, invoice_id = bound[pa.key]
        rec = world.procore.store.get("payment_applications", int(pid))
        assert rec["origin_id"] == world.origin_id(invoice_id)
        data = json.loads(rec["origin_data"])
        assert data["type"] in ("invoice", "Invoice") and Decimal(data["balance"]) == 0
        assert len(data["payments"]) == 1 and Decimal(data["paid"]) > 0
        if pa.paid_on:
            assert data["payments"][0]["paid_on"] == pa.paid_on.isoformat()


def test_direction_off_reads_and_writes_nothing(world):
    bind_documents(world)
    world.erp_conn.__class__.objects.filter(pk=world.erp_conn.pk).update(
        directions={"payments": "off"}
    )
    writes = procore_writes(world)
    run = world.run("payments")
    assert run.status == "succeeded" and run.total == 0 and "not pull" in run.error
    assert procore_writes(world) == writes


def test_one_record_pulls_only_its_payments(world):
    bound = bind_documents(world)
    r = unpaid_requisition(world, bound)
    pid, bill_id = bound[r.key]
    pay(world, bill_id, bill_total(world, bill_id), date(2025, 12, 3).isoformat())
    run = world.run("payments", pid)
    assert run.synced >= 1, run.error
    assert {rec.procore_id for rec in run.records.all()} == {pid}
    assert len(payments_on(world, pid)) == 1
    assert not Cursor.objects.filter(connection=world.erp_conn, watermark__isnull=False).exists()
