"""The ERP's documents, read once per reconciliation in a neutral shape.

QuickBooks: PurchaseOrder, Bill and BillPayment through the query API (paged); NetSuite:
purchaseOrder and vendorBill through SuiteQL in bulk (``NetSuiteClient.transactions``). A
document's project is the job its lines are booked to. On bills, retainage held is the
negative retention line and retainage released the positive line whose memo says so (how the
books record it: sandboxes/*/seed.py and the bills flow); everything else is billed work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

ZERO = Decimal("0")


def dec(value: Any) -> Decimal:
    if value in (None, ""):
        return ZERO
    return Decimal(str(value)).quantize(Decimal("0.01"))


@dataclass
class ErpDoc:
    kind: str  # "po" | "bill"
    erp_type: str
    erp_id: str
    number: str
    vendor: str
    job: str
    total: Decimal
    gross: Decimal = ZERO  # bills: billed work, retainage lines excluded
    retained: Decimal = ZERO  # bills: held minus released
    paid: Decimal = ZERO
    paid_on: date | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


def _is_retainage(amount: Decimal, text: str) -> bool:
    return amount < 0 or text.lower().startswith("retainage")


def _bill_figures(doc: ErpDoc, lines: list[tuple[Decimal, str]]) -> None:
    for amount, text in lines:
        if _is_retainage(amount, text):
            doc.retained -= amount  # held is negative; a release is positive
        else:
            doc.gross += amount


def _ref(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("value") or value.get("id") or "")
    return str(getattr(value, "id", "") or "") if value is not None else ""


def quickbooks_docs(client) -> dict[str, dict[str, ErpDoc]]:
    out: dict[str, dict[str, ErpDoc]] = {"po": {}, "bill": {}}
    for kind, entity in (("po", "PurchaseOrder"), ("bill", "Bill")):
        for ent in client.iter_entities(entity):
            raw = ent.raw
            lines, job = [], ""
            for line in raw.get("Line") or []:
                detail = line.get(line.get("DetailType") or "") or {}
                if not isinstance(detail, dict):
                    continue
                job = job or _ref(detail.get("CustomerRef"))
                lines.append((dec(line.get("Amount")), str(line.get("Description") or "")))
            doc = ErpDoc(
                kind=kind,
                erp_type=entity,
                erp_id=str(raw.get("Id")),
                number=str(raw.get("DocNumber") or ""),
                vendor=_ref(raw.get("VendorRef")),
                job=job,
                total=dec(raw.get("TotalAmt")),
                raw=raw,
            )
            if kind == "bill":
                _bill_figures(doc, lines)
                doc.paid = doc.total - dec(raw.get("Balance"))
            out[kind][doc.erp_id] = doc
    for ent in client.iter_entities("BillPayment"):
        raw = ent.raw
        paid_on = date.fromisoformat(raw["TxnDate"]) if raw.get("TxnDate") else None
        for line in raw.get("Line") or []:
            for linked in line.get("LinkedTxn") or []:
                bill = out["bill"].get(str(linked.get("TxnId")))
                if bill is not None and linked.get("TxnType") == "Bill" and paid_on:
                    bill.paid_on = max(bill.paid_on or paid_on, paid_on)
    return out


def netsuite_docs(client) -> dict[str, dict[str, ErpDoc]]:
    out: dict[str, dict[str, ErpDoc]] = {"po": {}, "bill": {}}
    for kind, rtype in (("po", "purchaseOrder"), ("bill", "vendorBill")):
        for tx in client.transactions(rtype):
            job = next((_ref(ln.customer) for ln in tx.lines if ln.customer), "")
            doc = ErpDoc(
                kind=kind,
                erp_type=rtype,
                erp_id=str(tx.id),
                number=tx.tran_id or "",
                vendor=_ref(tx.entity),
                job=job,
                total=dec(tx.total),
                raw=tx.raw,
            )
            if kind == "bill":
                _bill_figures(doc, [(dec(ln.amount), ln.memo or ln.description) for ln in tx.lines])
                remaining = tx.raw.get("amountRemaining", tx.raw.get("amountremaining"))
                status = _ref(tx.status) or str((tx.raw.get("status") or {}).get("id", ""))
                if remaining is not None:
                    doc.paid = doc.total - dec(remaining)
                elif status in ("B", "paidInFull"):
                    doc.paid = doc.total
            out[kind][doc.erp_id] = doc
    return out


def erp_docs(kind: str, client) -> dict[str, dict[str, ErpDoc]]:
    return quickbooks_docs(client) if kind == "quickbooks" else netsuite_docs(client)
