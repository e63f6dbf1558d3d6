"""Procore billing documents → QuickBooks Online entities (reference quickbooks-api.md §4.8-4.10,
§4.14).

QuickBooks has no retainage field (§4.10); like the seeded history (sandboxes/quickbooks/seed.py):

* subcontractor invoice → ``Bill``: gross work by cost code (item- or account-based expense
  lines with the job and class), one negative account line "Retainage held" on the
  retention-payable liability and a positive "Retainage released" one when it releases some;
  linked to the commitment's PO by ``LinkedTxn`` when that PO is bound;
* retainage release → ``Bill`` with the one released line on retention payable;
* owner invoice → ``Invoice`` to the project's job: the billing item for the work, the
  retainage item (income account = retention receivable) for −retainage;
* direct cost → ``Bill`` (an invoice from a vendor) or ``JournalEntry`` (payroll, expenses):
  debit the cost code's account per line (with the job and class), credit the suspense
  (clearing) account. A journal's DocNumber is ``DC-<procore id>``: payroll numbers such as
  ``PR-20250131`` repeat across projects, and a DocNumber lookup after a lost answer must find
  exactly our own entry.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.procore.schemas import DirectCost

from . import line_amount, line_codes
from .billing import Figures, OwnerFigures, WorkLine
from .quickbooks import ACCOUNT, ITEM, _clean, _ref

BILL = "Bill"
INVOICE = "Invoice"
JOURNAL_ENTRY = "JournalEntry"
SALES = "SalesItemLineDetail"
JOURNAL = "JournalEntryLineDetail"


def work_lines(
    lines: list[WorkLine], lookup: Any, *, target: Any, job_id: str, project_id: str
) -> list[dict[str, Any]]:
    out = []
    for w in lines:
        cost = lookup.cost(
            cost_code=w.cost_code,
            cost_type=w.cost_type,
            subsidiary_id=target.subsidiary_id,
            procore_project_id=project_id,
        )
        detail = _clean(
            {
                "ItemRef": _ref(cost.item_id),
                "AccountRef": None if cost.item_id else _ref(cost.account_id),
                "CustomerRef": _ref(job_id),
                "ClassRef": _ref(cost.class_id or target.class_id),
            }
        )
        dtype = ITEM if cost.item_id else ACCOUNT
        text = f"{w.cost_code} {w.description}".strip()[:4000]
        out.append({"DetailType": dtype, "Amount": w.amount, "Description": text, dtype: detail})
    return out


def retainage_lines(
    figures: Figures, *, retention_account: str, job_id: str, number: Any
) -> list[dict[str, Any]]:
    out = []
    for text, amount in (
        (f"Retainage held {number}", -figures.held),
        (f"Retainage released {number}", figures.released),
    ):
        if amount:
            detail = {"AccountRef": {"value": retention_account}, "CustomerRef": {"value": job_id}}
            out.append(
                {"DetailType": ACCOUNT, "Amount": amount, "Description": text, ACCOUNT: detail}
            )
    return out


def _currency(target: Any) -> dict[str, str] | None:
    return _ref(target.currency) if target.currency else None


def bill(
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
    pay_app_number: Any = "",
    po_id: str | None = None,
) -> dict[str, Any]:
    lines = work_lines(figures.lines, lookup, target=target, job_id=job_id, project_id=project_id)
    if figures.held or figures.released:
        account = lookup.account("retention_payable", subsidiary_id=target.subsidiary_id)
        lines += retainage_lines(
            figures, retention_account=account, job_id=job_id, number=pay_app_number
        )
    body = _clean(
        {
            "VendorRef": {"value": vendor_id},
            "APAccountRef": {
                "value": lookup.account("accounts_payable", subsidiary_id=target.subsidiary_id)
            },
            "CurrencyRef": _currency(target),
            "DocNumber": (number or "")[:21],
            "TxnDate": day.isoformat() if day else None,
            "PrivateNote": (memo or "")[:4000],
            "Line": lines,
        }
    )
    if po_id:
        body["LinkedTxn"] = [{"TxnId": str(po_id), "TxnType": "PurchaseOrder"}]
    return body


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
    lines = [
        {
            "DetailType": SALES,
            "Amount": figures.work,
            "Description": memo[:4000],
            SALES: _clean({"ItemRef": {"value": billing_item}, "ClassRef": _ref(target.class_id)}),
        }
    ]
    if figures.retainage:
        lines.append(
            {
                "DetailType": SALES,
                "Amount": -figures.retainage,
                "Description": "Retainage held",
                SALES: {"ItemRef": {"value": retainage_item}},
            }
        )
    return _clean(
        {
            "CustomerRef": {"value": job_id},
            "CurrencyRef": _currency(target),
            "DocNumber": (number or "")[:21],
            "TxnDate": day.isoformat() if day else None,
            "PrivateNote": memo[:4000],
            "Line": lines,
        }
    )


def direct_cost_bill(
    dc: DirectCost, lookup: Any, *, target: Any, job_id: str, project_id: str, vendor_id: str
) -> dict[str, Any]:
    lines = [
        WorkLine(*line_codes(x), x.description or "", line_amount(x), i)
        for i, x in enumerate(dc.lines)
    ]
    memo = dc.description or f"Procore direct cost {dc.invoice_number or dc.id}"
    return bill(
        Figures(lines=lines, gross=sum((w.amount for w in lines), Decimal(0))),
        lookup,
        target=target,
        job_id=job_id,
        project_id=project_id,
        vendor_id=vendor_id,
        number=dc.invoice_number or dc.id,
        day=dc.direct_cost_date,
        memo=memo,
    )


def direct_cost_journal(
    dc: DirectCost,
    debits: list[tuple[str, str | None, str, Decimal]],
    *,
    target: Any,
    job_id: str,
    credit_account: str,
) -> dict[str, Any]:
    """``debits``: (account, class, memo, amount) per line; one balancing credit line."""
    entity = {"Type": "Customer", "EntityRef": {"value": job_id}}
    lines = []
    for account, class_id, memo, amount in debits:
        detail = _clean(
            {
                "PostingType": "Debit",
                "AccountRef": {"value": account},
                "Entity": entity,
                "ClassRef": _ref(class_id or target.class_id),
            }
        )
        lines.append(
            {"DetailType": JOURNAL, "Amount": amount, "Description": memo[:4000], JOURNAL: detail}
        )
    kind = (dc.direct_cost_type or "direct cost").lower()
    text = f"Procore {kind} {dc.invoice_number or dc.id}"
    lines.append(
        {
            "DetailType": JOURNAL,
            "Amount": sum((d[3] for d in debits), Decimal(0)),
            "Description": text,
            JOURNAL: {
                "PostingType": "Credit",
                "AccountRef": {"value": credit_account},
                "Entity": entity,
            },
        }
    )
    return _clean(
        {
            "DocNumber": f"DC-{dc.id}"[:21],
            "TxnDate": dc.direct_cost_date.isoformat() if dc.direct_cost_date else None,
            "CurrencyRef": _currency(target),
            "PrivateNote": text[:4000],
            "Line": lines,
        }
    )
