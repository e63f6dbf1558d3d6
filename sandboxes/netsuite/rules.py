"""Business rules of a OneWorld, multi-currency account that the write path applies.

What a controller meets in real life and our routing must survive: a vendor not assigned to the
transaction's subsidiary, a currency the subsidiary/vendor does not use, an item not available in
the subsidiary, an unbalanced journal, over-applied payments. Wording of the subsidiary refusal is
NetSuite's "Invalid entity reference key X for subsidiary Y." with ``INVALID_KEY_OR_REF`` and an
``o:errorPath`` (reference §4.2: code seen in third-party mocks, unverified).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .books import ZERO, ts
from .errors import NSError, user_error
from .schema import APPROVAL, BILL_STATUS, INVOICE_STATUS, PO_STATUS, RECORD_TYPES, RecordType

if TYPE_CHECKING:
    from .app import NetSuiteSandbox


def bad_ref(detail: str, path: str) -> NSError:
    return NSError(
        400, f"Error while accessing a resource. {detail}", "INVALID_KEY_OR_REF", path=path
    )


def _ref(rec_type: str, rid: str) -> dict[str, Any]:
    return {"id": rid, "_type": rec_type}


def entity_subsidiaries(entity: dict[str, Any]) -> set[str]:
    subs = set()
    if entity.get("subsidiary"):
        subs.add(entity["subsidiary"]["id"])
    for line in (entity.get("submachine") or {}).get("items", []):
        if line.get("subsidiary"):
            subs.add(line["subsidiary"]["id"])
    return subs


def finish(
    sb: NetSuiteSandbox, rt: RecordType, rec: dict[str, Any], before: dict[str, Any] | None
) -> None:
    if rt.name in ("vendor", "customer"):
        _entity(sb, rt, rec)
    elif rt.is_transaction:
        _transaction(sb, rt, rec)


def _entity(sb: NetSuiteSandbox, rt: RecordType, rec: dict[str, Any]) -> None:
    if not rec.get("companyName") and not (rec.get("firstName") and rec.get("lastName")):
        need = "First Name, Last Name" if rec.get("isPerson") else "Company Name"
        raise user_error(f"Please enter value(s) for: {need}.")
    if not rec.get("entityId"):
        rec["entityId"] = rec.get("companyName") or f"{rec['firstName']} {rec['lastName']}"
    sub = rec["subsidiary"]
    if not rec.get("currency"):
        subsidiary = sb.store.get("subsidiary", sub["id"])
        if subsidiary and subsidiary.get("currency"):
            rec["currency"] = dict(subsidiary["currency"])
    if rt.name == "vendor":
        lines = (rec.get("submachine") or {}).get("items", [])
        if not any(ln.get("subsidiary", {}).get("id") == sub["id"] for ln in lines):
            lines = [{"subsidiary": dict(sub)}] + lines
        for ln in lines:
            ln["isPrimary"] = ln["subsidiary"]["id"] == sub["id"]
        rec["submachine"] = {"items": lines}


def _party(rt: RecordType) -> str:
    return "customer" if rt.name == "customerPayment" else "entity"


def _transaction(sb: NetSuiteSandbox, rt: RecordType, rec: dict[str, Any]) -> None:
    books = sb.books
    party_field = _party(rt)
    party = None
    if rec.get(party_field):
        party_ref = rec[party_field]
        party = books.get(party_ref["_type"], party_ref["id"])
    if not rec.get("subsidiary") and party and party.get("subsidiary"):
        rec["subsidiary"] = dict(party["subsidiary"])
    if not rec.get("subsidiary") and rt.name in ("vendorPayment", "customerPayment"):
        docs = (rec.get("apply") or {}).get("items", [])
        if docs:
            first = books.find_any(docs[0]["doc"]["_type"], docs[0]["doc"]["id"])
            if first and first[1].get("subsidiary"):
                rec["subsidiary"] = dict(first[1]["subsidiary"])
    if not rec.get("subsidiary"):
        raise user_error("Please enter value(s) for: Subsidiary.", path="subsidiary")
    sub_id = rec["subsidiary"]["id"]
    subsidiary = sb.store.get("subsidiary", sub_id) or {}
    if party is not None and sub_id not in entity_subsidiaries(party):
        raise bad_ref(
            f"Invalid {party_field} reference key {party['id']} for subsidiary {sub_id}.",
            party_field,
        )
    base_cur = (subsidiary.get("currency") or {}).get("id")
    if not rec.get("currency"):
        cur = (party or {}).get("currency") or subsidiary.get("currency")
        if cur:
            rec["currency"] = dict(cur)
    cur_id = (rec.get("currency") or {}).get("id")
    if cur_id and party is not None and rt.name != "journalEntry":
        allowed = {base_cur, (party.get("currency") or {}).get("id")}
        allowed |= {
            ln["currency"]["id"]
            for ln in (party.get("currencyList") or {}).get("items", [])
            if ln.get("currency")
        }
        if cur_id not in allowed:
            raise bad_ref(
                f"Invalid currency reference key {cur_id} for entity {party['id']}.", "currency"
            )
    if "exchangeRate" not in rec:
        if cur_id == base_cur or not cur_id:
            rec["exchangeRate"] = Decimal("1")
        else:
            rec["exchangeRate"] = Decimal(
                str((sb.store.get("currency", cur_id) or {}).get("exchangeRate", 1))
            )
    rec.setdefault("tranDate", sb.clock.now().date().isoformat())
    if not rec.get("tranId") and rt.name != "vendorBill":
        rec["tranId"] = str(sb.next_tran_number(rt.name))
    total = ZERO
    for name in rt.sublists:
        for i, line in enumerate((rec.get(name) or {}).get("items", [])):
            total += _line(sb, rt, name, line, i, sub_id)
    if rt.name == "journalEntry":
        _journal(rec)
        return
    if rt.name in ("vendorPayment", "customerPayment"):
        _payment(sb, rt, rec, party, total)
        return
    rec["total"] = total
    _status(sb, rt, rec)


def _line(
    sb: NetSuiteSandbox, rt: RecordType, name: str, line: dict[str, Any], i: int, sub_id: str
) -> Decimal:
    path = f"{name}.items[{i}]"
    item = line.get("item")
    if item:
        found = sb.books.get(item["_type"], item["id"])
        subs = {s["id"] for s in ((found or {}).get("subsidiary") or {}).get("items", [])}
        if subs and sub_id not in subs:
            raise bad_ref(
                f"Invalid item reference key {item['id']} for subsidiary {sub_id}.", f"{path}.item"
            )
    if name in ("item", "expense"):
        qty = line.get("quantity")
        rate = line.get("rate")
        if line.get("amount") is None:
            if rate is None:
                raise user_error("Please enter value(s) for: Amount.", path=f"{path}.amount")
            line["amount"] = (rate * (qty if qty is not None else 1)).quantize(Decimal("0.01"))
        elif name == "item" and rate is None:
            line["rate"] = line["amount"] / (qty or 1)
        if name == "item" and qty is None:
            line["quantity"] = Decimal("1")
        if name == "expense" and not line.get("account"):
            raise user_error("Please enter value(s) for: Account.", path=f"{path}.account")
        return line["amount"]
    return ZERO


def _journal(rec: dict[str, Any]) -> None:
    debit = credit = ZERO
    lines = (rec.get("line") or {}).get("items", [])
    for i, line in enumerate(lines):
        if not line.get("account"):
            raise user_error("Please enter value(s) for: Account.", path=f"line.items[{i}]")
        debit += line.get("debit") or ZERO
        credit += line.get("credit") or ZERO
    if not lines or debit != credit:
        raise user_error(
            "The transaction is not in balance. Debits and credits must be equal.", path="line"
        )
    rec["total"] = debit


def _payment(
    sb: NetSuiteSandbox,
    rt: RecordType,
    rec: dict[str, Any],
    party: dict[str, Any] | None,
    _: Decimal,
) -> None:
    applied = ZERO
    for i, line in enumerate((rec.get("apply") or {}).get("items", [])):
        if not line.get("apply", True):
            continue
        doc_ref = line["doc"]
        doc = sb.books.get(doc_ref["_type"], doc_ref["id"]) or {}
        doc_party = doc.get("entity") or {}
        if party is not None and doc_party.get("id") != party["id"]:
            raise bad_ref(
                f"Invalid doc reference key {doc_ref['id']} for entity {party['id']}.",
                f"apply.items[{i}].doc",
            )
        due = doc.get("total", ZERO) - sb.books.paid_on(doc_ref["id"], excluding=rec["id"])
        if line.get("amount") is None:
            line["amount"] = due
        if line["amount"] > due:
            raise user_error(
                f"The amount applied to {doc.get('refName')} ({line['amount']}) "
                f"exceeds the amount due ({due}).",
                path=f"apply.items[{i}].amount",
            )
        line.setdefault("apply", True)
        applied += line["amount"]
    if rt.name == "customerPayment":
        rec.setdefault("payment", applied)
        if rec["payment"] < applied:
            raise user_error("The total applied exceeds the payment amount.", path="payment")
        rec["total"] = rec["payment"]
    else:
        rec["total"] = applied


def _status(sb: NetSuiteSandbox, rt: RecordType, rec: dict[str, Any]) -> None:
    if rt.name == "purchaseOrder":
        approval = (rec.get("approvalStatus") or {}).get("id") or "1"
        code = {"1": "A", "2": "B", "3": "C"}.get(approval, "B")
        if rec.get("status", {}).get("id") in ("G", "H") and approval == "2":
            code = rec["status"]["id"]
        rec["approvalStatus"] = {"id": approval, "refName": APPROVAL[approval]}
        rec["status"] = {"id": code, "refName": PO_STATUS[code]}
        return
    paid = sb.books.paid_on(rec["id"])
    remaining = rec["total"] - paid
    approval = (rec.get("approvalStatus") or {}).get("id") or "2"
    rec["approvalStatus"] = {"id": approval, "refName": APPROVAL[approval]}
    if rt.name == "vendorBill":
        rec["balance"] = remaining
        code = {"1": "D", "3": "E"}.get(approval) or ("B" if remaining <= 0 < rec["total"] else "A")
        rec["status"] = {"id": code, "refName": BILL_STATUS[code]}
    elif rt.name == "invoice":
        rec["amountPaid"] = paid
        rec["amountRemaining"] = remaining
        code = {"1": "D", "3": "E"}.get(approval) or ("B" if remaining <= 0 < rec["total"] else "A")
        rec["status"] = {"id": code, "refName": INVOICE_STATUS[code]}


def after_write(
    sb: NetSuiteSandbox,
    rt: RecordType,
    rec: dict[str, Any],
    event: str,
    before: dict[str, Any] | None,
) -> None:
    if rt.name in ("vendorPayment", "customerPayment"):
        docs = set()
        for source in (before, rec):
            for line in ((source or {}).get("apply") or {}).get("items", []):
                if line.get("doc"):
                    docs.add(line["doc"]["id"])
        sb.books.unindex_payment(rec["id"], sorted(docs))
        if event != "delete":
            sb.books.index_payment(rec)
        doc_type = "vendorBill" if rt.name == "vendorPayment" else "invoice"
        doc_rt = RECORD_TYPES[doc_type]
        for doc_id in sorted(docs):
            doc = sb.store.get(doc_type, doc_id)
            if doc is None:
                continue
            _status(sb, doc_rt, doc)
            sb.books.touch(doc_rt, doc)
            sb.events.emit(doc_rt, doc, "edit")
    sb.events.emit(rt, rec, event)


__all__ = ["after_write", "bad_ref", "entity_subsidiaries", "finish", "ts"]
