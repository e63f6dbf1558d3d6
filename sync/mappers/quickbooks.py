"""Procore → QuickBooks Online entity bodies (reference quickbooks-api.md §4)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from connectors.procore.schemas import Commitment, CommitmentChangeOrder, LineItem, Project, Vendor

from . import line_amount, line_codes

PURCHASE_ORDER = "PurchaseOrder"
JOB = "Customer"
VENDOR = "Vendor"
ITEM = "ItemBasedExpenseLineDetail"
ACCOUNT = "AccountBasedExpenseLineDetail"


def _name(text: str) -> str:
    # QBO refuses ':' in names (it is the sub-customer separator) and caps them at 100.
    return re.sub(r"\s+", " ", text.replace(":", " -")).strip()[:100]


def _ref(value: str | None) -> dict[str, str] | None:
    return {"value": str(value)} if value else None


def _clean(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v not in (None, "", {}, [])}


def job(project: Project, target: Any) -> dict[str, Any]:
    """A sub-customer job under the mapped owner."""
    return _clean(
        {
            "DisplayName": _name(f"{project.project_number or ''} {project.name}"),
            "ParentRef": _ref(target.erp_customer_id),
            "Job": True,
            "BillWithParent": True,
        }
    )


def vendor(v: Vendor, *, subsidiary_id: str | None = None) -> dict[str, Any]:
    return _clean({"DisplayName": _name(v.name), "CompanyName": v.name[:100]})


def lines(
    items: list[LineItem],
    lookup: Any,
    *,
    target: Any,
    job_id: str,
    project_id: str,
    codes: dict[str, str] | None = None,
):
    out = []
    for line in items:
        code, ctype = line_codes(line, codes)
        cost = lookup.cost(
            cost_code=code,
            cost_type=ctype,
            subsidiary_id=target.subsidiary_id,
            procore_project_id=project_id,
        )
        amount = line_amount(line)
        detail = _clean(
            {
                "ItemRef": _ref(cost.item_id),
                "AccountRef": None if cost.item_id else _ref(cost.account_id),
                "CustomerRef": _ref(job_id),
                "ClassRef": _ref(cost.class_id or target.class_id),
            }
        )
        dtype = ITEM if cost.item_id else ACCOUNT
        description = (line.description or code)[:4000]
        out.append(
            {"DetailType": dtype, "Amount": amount, "Description": description, dtype: detail}
        )
    return out


def purchase_order(
    c: Commitment, lookup: Any, *, target: Any, job_id: str, vendor_id: str
) -> dict[str, Any]:
    return _clean(
        {
            "VendorRef": {"value": vendor_id},
            "APAccountRef": {
                "value": lookup.account("accounts_payable", subsidiary_id=target.subsidiary_id)
            },
            "DocNumber": (c.number or c.id)[:21],
            "TxnDate": c.raw.get("contract_date") or None,
            "Memo": (c.title or "")[:4000],
            "Line": lines(
                c.lines, lookup, target=target, job_id=job_id, project_id=str(c.project_id)
            ),
        }
    )


def change_order_lines(
    cco: CommitmentChangeOrder,
    lookup: Any,
    *,
    target: Any,
    job_id: str,
    project_id: str,
    codes: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "Line": lines(
            cco.lines, lookup, target=target, job_id=job_id, project_id=project_id, codes=codes
        )
    }


def append_lines(po: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    return {**po, "Line": list(po.get("Line") or []) + list(extra.get("Line") or [])}


def revision(
    header: dict[str, Any], lines_body: dict[str, Any], *, number: str, memo: str
) -> dict[str, Any]:
    out = {k: v for k, v in header.items() if k != "Line"}
    out.update(DocNumber=number[:21], Memo=memo[:4000], Line=list(lines_body.get("Line") or []))
    return out


def delta_lines(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    old, new = list(before.get("Line") or []), list(after.get("Line") or [])
    rows = []
    for i in range(max(len(old), len(new))):
        was = Decimal(str(old[i]["Amount"])) if i < len(old) else Decimal(0)
        now = Decimal(str(new[i]["Amount"])) if i < len(new) else Decimal(0)
        if was != now:
            rows.append({**(new[i] if i < len(new) else old[i]), "Amount": now - was})
    return {"Line": rows}
