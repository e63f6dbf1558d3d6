"""Procore billing documents → NetSuite transactions (reference netsuite-api.md §5.3-5.5).

Shaped like the seeded history (sandboxes/netsuite/seed.py), so new documents and the ones
keyed in before erpbridge look alike:

* subcontractor invoice → ``vendorBill``: gross work by cost code (an item line when the code
  maps to an item, linked to its PO line by ``orderDoc``/``orderLine``; else an expense line
  on the mapped account), then an expense line of −retainage held on the retention-payable
  account ("Retainage held") and +retainage released on it ("Retainage released");
* retainage release → ``vendorBill`` with the one +released line on retention payable;
* owner invoice → ``invoice`` to the project's job: the billing item for the work, the
  retainage item for −retainage (its income account is retention receivable);
* direct cost → ``vendorBill`` (an invoice from a vendor) or ``journalEntry`` (payroll,
  expenses): debit the cost code's account per line, credit the suspense (clearing) account.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.procore.schemas import DirectCost
from sync.lookups import MappingMissing

from . import line_amount, line_codes
from .billing import Figures, OwnerFigures, WorkLine
from .netsuite import _clean, _ref

VENDOR_BILL = "vendorBill"
INVOICE = "invoice"
JOURNAL_ENTRY = "journalEntry"


def _segments(target: Any, job_id: str, class_id: str | None = None) -> dict[str, Any]:
    return _clean(
        {
            "customer": _ref(job_id),
            "class": _ref(class_id or target.class_id),
            "department": _ref(target.department_id),
            "location": _ref(target.location_id),
        }
    )


def _header(target: Any, party_id: str, number: str, day: Any, memo: str) -> dict[str, Any]:
    return _clean(
        {
            "entity": {"id": party_id},
            "subsidiary": _ref(target.subsidiary_id),
            "currency": _ref(target.currency),
            "location": _ref(target.location_id),
            "department": _ref(target.department_id),
            "class": _ref(target.class_id),
            "tranId": (number or "")[:45],
            "tranDate": day.isoformat() if day else None,
            "memo": (memo or "")[:999],
        }
    )


def _sublists(body: dict[str, Any], items: list, expenses: list) -> dict[str, Any]:
    if items:
        body["item"] = {"items": items}
    if expenses:
        body["expense"] = {"items": expenses}
    return body


def work_lines(
    lines: list[WorkLine],
    lookup: Any,
    *,
    target: Any,
    job_id: str,
    project_id: str,
    po_id: str | None = None,
    po_lines: dict[int, int] | None = None,
) -> tuple[list, list]:
    items, expenses = [], []
    for w in lines:
        cost = lookup.cost(
            cost_code=w.cost_code,
            cost_type=w.cost_type,
            subsidiary_id=target.subsidiary_id,
            procore_project_id=project_id,
        )
        seg = _segments(target, job_id, cost.class_id)
        text = (w.description or w.cost_code)[:4000]
        if cost.item_id:
            line = {
                "item": {"id": cost.item_id},
                "quantity": Decimal(1),
                "rate": w.amount,
                "amount": w.amount,
                "description": text,
                **seg,
            }
            if po_id and po_lines and w.position in po_lines:
                line.update(orderDoc={"id": po_id}, orderLine=po_lines[w.position])
            items.append(line)
        else:
            expenses.append({"account": _ref(cost.account_id), "amount": w.amount, "memo": text})
            expenses[-1].update(seg)
    return items, expenses


def po_line_numbers(lines: list, lookup: Any, *, target: Any, project_id: str) -> dict[int, int]:
    """Commitment line index → line number in its PO's item sublist (``orderLine``).

    ``mappers.netsuite.purchase_order`` wrote the PO's item rows in commitment line order,
    one per line whose cost code maps to an item, so the same lookup numbers them again.
    A line that no longer maps gives no links at all rather than wrong ones."""
    out: dict[int, int] = {}
    n = 0
    try:
        for i, line in enumerate(lines):
            code, ctype = line_codes(line)
            cost = lookup.cost(
                cost_code=code,
                cost_type=ctype,
                subsidiary_id=target.subsidiary_id,
                procore_project_id=project_id,
            )
            if cost.item_id:
                n += 1
                out[i] = n
    except MappingMissing:
        return {}
    return out


def retainage_lines(
    figures: Figures, *, retention_account: str, target: Any, job_id: str
) -> list[dict[str, Any]]:
    seg = _segments(target, job_id)
    out = []
    for memo, amount in (
        ("Retainage held", -figures.held),
        ("Retainage released", figures.released),
    ):
        if amount:
            out.append(
                {"account": {"id": retention_account}, "amount": amount, "memo": memo, **seg}
            )
    return out


def vendor_bill(
    figures: Figures,
    lookup: Any,
    *,
    target: Any,
    job_id: str,
    project_id: str,
    vendor_id: str,
    number: str,
    day: Any,
    memo: str,
    po_id: str | None = None,
    po_lines: dict[int, int] | None = None,
) -> dict[str, Any]:
    """A subcontractor invoice (or, with no work lines, a retainage release)."""
    items, expenses = work_lines(
        figures.lines,
        lookup,
        target=target,
        job_id=job_id,
        project_id=project_id,
        po_id=po_id,
        po_lines=po_lines,
    )
    if figures.held or figures.released:
        account = lookup.account("retention_payable", subsidiary_id=target.subsidiary_id)
        expenses += retainage_lines(
            figures, retention_account=account, target=target, job_id=job_id
        )
    return _sublists(_header(target, vendor_id, number, day, memo), items, expenses)


def owner_invoice(
    figures: OwnerFigures,
    *,
    target: Any,
    job_id: str,
    billing_item: str,
    retainage_item: str,
    number: str,
    day: Any,
    memo: str,
) -> dict[str, Any]:
    seg = _segments(target, job_id)
    seg.pop("customer", None)  # the invoice's entity is the job itself
    items = [{"item": {"id": billing_item}, "amount": figures.work, "description": memo, **seg}]
    if figures.retainage:
        items.append(
            {
                "item": {"id": retainage_item},
                "amount": -figures.retainage,
                "description": "Retainage held",
                **seg,
            }
        )
    return _sublists(_header(target, job_id, number, day, memo), items, [])


def direct_cost_bill(
    dc: DirectCost, lookup: Any, *, target: Any, job_id: str, project_id: str, vendor_id: str
) -> dict[str, Any]:
    lines = [
        WorkLine(*line_codes(x), x.description or "", line_amount(x), i)
        for i, x in enumerate(dc.lines)
    ]
    items, expenses = work_lines(lines, lookup, target=target, job_id=job_id, project_id=project_id)
    memo = dc.description or f"Procore direct cost {dc.invoice_number or dc.id}"
    header = _header(target, vendor_id, dc.invoice_number or dc.id, dc.direct_cost_date, memo)
    return _sublists(header, items, expenses)


def direct_cost_journal(
    dc: DirectCost,
    debits: list[tuple[str, str | None, str, Decimal]],
    *,
    target: Any,
    job_id: str,
    credit_account: str,
) -> dict[str, Any]:
    """``debits``: (account, class, memo, amount) per line; one balancing credit line."""
    rows = []
    for account, class_id, memo, amount in debits:
        rows.append(
            {
                "account": {"id": account},
                "debit": amount,
                "memo": memo[:999],
                "entity": _ref(job_id),
                **{k: v for k, v in _segments(target, job_id, class_id).items() if k != "customer"},
            }
        )
    total = sum((d[3] for d in debits), Decimal(0))
    kind = (dc.direct_cost_type or "direct cost").lower()
    number = dc.invoice_number or dc.id
    rows.append(
        {
            "account": {"id": credit_account},
            "credit": total,
            "memo": f"Procore {kind} {number}"[:999],
            "entity": _ref(job_id),
        }
    )
    return _clean(
        {
            "subsidiary": _ref(target.subsidiary_id),
            "currency": _ref(target.currency),
            "tranId": str(number)[:45],
            "tranDate": dc.direct_cost_date.isoformat() if dc.direct_cost_date else None,
            "memo": f"Procore {kind} {number}"[:999],
            "line": {"items": rows},
        }
    )
