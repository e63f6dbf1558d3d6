"""Procore → NetSuite REST record bodies (reference netsuite-api.md §5)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.procore.schemas import Commitment, CommitmentChangeOrder, LineItem, Project, Vendor

from . import line_amount, line_codes

PURCHASE_ORDER = "purchaseOrder"
JOB = "job"
VENDOR = "vendor"


def _ref(value: str | None) -> dict[str, str] | None:
    return {"id": str(value)} if value else None


def _clean(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v not in (None, "", {})}


def job(project: Project, target: Any) -> dict[str, Any]:
    """A project (REST ``job``) under the mapped customer and subsidiary."""
    name = f"{project.project_number} {project.name}".strip()
    return _clean(
        {
            "entityId": name[:83],
            "companyName": project.name[:83],
            "parent": _ref(target.erp_customer_id),
            "subsidiary": _ref(target.subsidiary_id),
            "currency": _ref(target.currency),
        }
    )


def vendor(v: Vendor, *, subsidiary_id: str | None) -> dict[str, Any]:
    return _clean({"companyName": v.name[:83], "subsidiary": _ref(subsidiary_id)})


def lines(
    items: list[LineItem],
    lookup: Any,
    *,
    target: Any,
    job_id: str,
    project_id: str,
    codes: dict[str, str] | None = None,
):
    """(item lines, expense lines): an item when the cost code maps to one, else the account."""
    item_lines, expense_lines = [], []
    for line in items:
        code, ctype = line_codes(line, codes)
        cost = lookup.cost(
            cost_code=code,
            cost_type=ctype,
            subsidiary_id=target.subsidiary_id,
            procore_project_id=project_id,
        )
        amount = line_amount(line)
        segments = _clean(
            {
                "customer": _ref(job_id),
                "class": _ref(cost.class_id or target.class_id),
                "department": _ref(target.department_id),
                "location": _ref(target.location_id),
            }
        )
        description = (line.description or code)[:4000]
        if cost.item_id:
            item_lines.append(
                {
                    "item": {"id": cost.item_id},
                    "quantity": Decimal(1),
                    "rate": amount,
                    "amount": amount,
                    "description": description,
                    **segments,
                }
            )
        else:
            expense_lines.append(
                {
                    "account": _ref(cost.account_id),
                    "amount": amount,
                    "memo": description,
                    **segments,
                }
            )
    return item_lines, expense_lines


def purchase_order(
    c: Commitment, lookup: Any, *, target: Any, job_id: str, vendor_id: str
) -> dict[str, Any]:
    item_lines, expense_lines = lines(
        c.lines, lookup, target=target, job_id=job_id, project_id=str(c.project_id)
    )
    body = _clean(
        {
            "entity": {"id": vendor_id},
            "subsidiary": _ref(target.subsidiary_id),
            "currency": _ref(target.currency),
            "location": _ref(target.location_id),
            "department": _ref(target.department_id),
            "class": _ref(target.class_id),
            "tranId": (c.number or c.id)[:45],
            "tranDate": c.raw.get("contract_date") or None,
            "memo": (c.title or "")[:999],
        }
    )
    if item_lines:
        body["item"] = {"items": item_lines}
    if expense_lines:
        body["expense"] = {"items": expense_lines}
    return body


def change_order_lines(
    cco: CommitmentChangeOrder,
    lookup: Any,
    *,
    target: Any,
    job_id: str,
    project_id: str,
    codes: dict[str, str] | None = None,
) -> dict[str, Any]:
    item_lines, expense_lines = lines(
        cco.lines, lookup, target=target, job_id=job_id, project_id=project_id, codes=codes
    )
    return _clean({"item": {"items": item_lines}, "expense": {"items": expense_lines}})


def _sublist_lines(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return list((body.get(name) or {}).get("items") or [])


def append_lines(po: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Amend in place: the PO with more lines (sublists are replaced wholesale on write)."""
    out = dict(po)
    for name in ("item", "expense"):
        rows = _sublist_lines(po, name) + _sublist_lines(extra, name)
        if rows:
            out[name] = {"items": rows}
    return out


def revision(
    header: dict[str, Any], lines_body: dict[str, Any], *, number: str, memo: str
) -> dict[str, Any]:
    """A separate revision PO (``PO-1042-R1``) carrying only what changed, linked by memo."""
    out = {k: v for k, v in header.items() if k not in ("item", "expense")}
    out.update(tranId=number[:45], memo=memo[:999])
    for name in ("item", "expense"):
        rows = _sublist_lines(lines_body, name)
        if rows:
            out[name] = {"items": rows}
    return out


def delta_lines(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Per line position, what changed: the new line with the difference as its amount."""
    out: dict[str, Any] = {}
    for name in ("item", "expense"):
        old, new = _sublist_lines(before, name), _sublist_lines(after, name)
        rows = []
        for i in range(max(len(old), len(new))):
            was = Decimal(str(old[i]["amount"])) if i < len(old) else Decimal(0)
            now = Decimal(str(new[i]["amount"])) if i < len(new) else Decimal(0)
            if was == now:
                continue
            row = dict(new[i] if i < len(new) else old[i])
            row["amount"] = now - was
            if "rate" in row:
                row.update(rate=now - was, quantity=Decimal(1))
            rows.append(row)
        if rows:
            out[name] = {"items": rows}
    return out
