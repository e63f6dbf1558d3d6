"""The pay app figures and the document bodies are pure: typed Procore payloads + a fake lookup."""

from __future__ import annotations

from decimal import Decimal

from connectors.procore.schemas import Commitment, Requisition
from sync.lookups import CostTarget, ProjectTarget
from sync.mappers import netsuite_documents as ns
from sync.mappers import quickbooks_documents as qbo
from sync.mappers.billing import addition_problems, balance_before, requisition_figures
from tests.sync.engine_support import FakeLookup

TARGET = ProjectTarget("C1", "J1", "S2", "CUR2", None, None, "L2")


def commitment() -> Commitment:
    lines = [
        {
            "id": 11,
            "amount": "1000",
            "cost_code": {"full_code": "03-300"},
            "line_item_type": {"code": "S"},
        },
        {
            "id": 12,
            "amount": "2500",
            "cost_code": {"full_code": "09-900"},
            "line_item_type": {"code": "S"},
        },
    ]
    raw = {"id": 5, "number": "SC-1", "grand_total": "3500", "approved_change_orders": "200"}
    return Commitment.parse(raw, "work_order_contract", lines)


def requisition(**over) -> Requisition:
    raw = {
        "id": 9,
        "number": 2,
        "invoice_number": "INV-9",
        "total_claimed_amount": "1300.00",
        "g702": {"current_payment_due": "1190.00"},
        "items": [
            {
                "line_item_id": 11,
                "work_completed_this_period": "300",
                "materials_presently_stored": "0",
                "work_completed_retainage_retained_this_period": "30.00",
                "work_completed_retainage_released_this_period": "20.00",
            },
            {
                "line_item_id": 12,
                "work_completed_this_period": "800",
                "materials_presently_stored": "200",
                "work_completed_retainage_retained_this_period": "80.00",
                "materials_stored_retainage_currently_retained": "20.00",
            },
        ],
        **over,
    }
    return Requisition.parse(raw)


def lookup() -> FakeLookup:
    return FakeLookup(
        costs={"03-300": CostTarget("I1", None, None), "09-900": CostTarget(None, "A9", None)},
        accounts={"retention_payable": "RP", "accounts_payable": "AP"},
    )


def test_figures_add_work_stored_retainage_and_release_per_commitment_line():
    f = requisition_figures(requisition(), commitment())
    assert f.gross == Decimal("1300.00") and f.held == Decimal("130.00")
    assert f.released == Decimal("20.00") and f.net == Decimal("1190.00")
    assert [(w.cost_code, w.amount, w.position) for w in f.lines] == [
        ("03-300", Decimal("300.00"), 0),
        ("09-900", Decimal("1000.00"), 1),
    ]
    assert addition_problems(requisition(), f) == []
    bad = requisition(g702={"current_payment_due": "1200.00"})
    assert "1200.00" in addition_problems(bad, requisition_figures(bad, commitment()))[0]


def test_remaining_balance_counts_change_orders_and_earlier_pay_apps():
    bal = balance_before(commitment(), [requisition(total_claimed_amount="700")])
    assert bal.remaining == Decimal("3500") + Decimal("200") - Decimal("700")


def test_bill_bodies_carry_gross_lines_and_retainage_on_retention_payable():
    f = requisition_figures(requisition(), commitment())
    kw = {
        "target": TARGET,
        "job_id": "J1",
        "project_id": "10",
        "vendor_id": "V1",
        "number": "INV-9",
        "day": None,
        "memo": "SC-1 pay app #2",
    }
    body = ns.vendor_bill(f, lookup(), po_id="PO7", po_lines={0: 1}, **kw)
    [item] = body["item"]["items"]
    assert item["orderDoc"] == {"id": "PO7"} and item["orderLine"] == 1
    assert [(x["account"]["id"], x["amount"]) for x in body["expense"]["items"]] == [
        ("A9", Decimal("1000.00")),
        ("RP", Decimal("-130.00")),
        ("RP", Decimal("20.00")),
    ]
    assert body["subsidiary"] == {"id": "S2"} and body["currency"] == {"id": "CUR2"}
    bill = qbo.bill(f, lookup(), po_id="PO7", **kw)
    assert sum((x["Amount"] for x in bill["Line"]), Decimal(0)) == f.net
    assert bill["LinkedTxn"] == [{"TxnId": "PO7", "TxnType": "PurchaseOrder"}]
