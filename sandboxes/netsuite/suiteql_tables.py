"""The SuiteQL tables the sandbox exposes, built from the stored records on each query.

Column names are SuiteQL's lower-case ones (``tranid``, ``trandate``, ``foreigntotal``,
``lastmodifieddate``; transaction ``type`` codes ``PurchOrd``, ``VendBill``, ``CustInvc``,
``CustPymt``, ``VendPymt``, ``Journal`` - reference §2, PurchOrd/VendPymt unverified). Values keep
Python types here (dates, Decimal, bool) for comparisons; ``_df_<col>`` holds the display text
``BUILTIN.DF`` returns.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from .schema import RECORD_TYPES, transaction_types

if TYPE_CHECKING:
    from .app import NetSuiteSandbox

_COMMON = ["id", "externalid", "lastmodifieddate"]
_ENTITY = _COMMON + [
    "entityid",
    "companyname",
    "email",
    "phone",
    "subsidiary",
    "currency",
    "isinactive",
    "isperson",
    "datecreated",
]
TABLES: dict[str, list[str]] = {
    "transaction": _COMMON
    + [
        "tranid",
        "trandate",
        "duedate",
        "type",
        "recordtype",
        "entity",
        "status",
        "approvalstatus",
        "currency",
        "exchangerate",
        "foreigntotal",
        "foreignamountpaid",
        "foreignamountremaining",
        "memo",
        "otherrefnum",
        "createddate",
    ],
    "transactionline": [
        "transaction",
        "id",
        "linesequencenumber",
        "mainline",
        "item",
        "expenseaccount",
        "memo",
        "quantity",
        "rate",
        "foreignamount",
        "department",
        "class",
        "location",
        "subsidiary",
        "entity",
        "debit",
        "credit",
    ],
    "vendor": _ENTITY,
    "customer": _ENTITY + ["parent"],
    "job": _COMMON
    + [
        "entityid",
        "companyname",
        "parent",
        "subsidiary",
        "currency",
        "isinactive",
        "datecreated",
        "entitystatus",
    ],
    "account": _COMMON
    + ["acctnumber", "fullname", "accttype", "isinactive", "currency", "subsidiary", "parent"],
    "subsidiary": _COMMON + ["name", "currency", "country", "parent", "isinactive"],
    "currency": _COMMON + ["name", "symbol", "isbasecurrency", "exchangerate", "isinactive"],
    "classification": _COMMON + ["name", "parent", "isinactive", "subsidiary"],
    "department": _COMMON + ["name", "parent", "isinactive", "subsidiary"],
    "location": _COMMON + ["name", "parent", "isinactive", "subsidiary"],
    "item": _COMMON
    + [
        "itemid",
        "displayname",
        "itemtype",
        "description",
        "isinactive",
        "cost",
        "expenseaccount",
        "incomeaccount",
        "subsidiary",
    ],
    "vendorsubsidiaryrelationship": ["id", "entity", "subsidiary", "isprimarysub"],
}
_RENAME = {
    "fullname": "acctName",
    "accttype": "acctType",
    "foreigntotal": "total",
    "datecreated": "dateCreated",
    "createddate": "createdDate",
    "foreignamountpaid": "amountPaid",
    "isbasecurrency": "isBaseCurrency",
}
_ITEM_TYPES = {"serviceResaleItem": "Service", "nonInventoryPurchaseItem": "NonInvtPart"}


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_TEXT = {"tranid", "externalid", "memo", "entityid", "companyname", "otherrefnum", "title"}


def _flat(row: dict[str, Any], col: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, dict):
        if "items" in value:  # multi-select: "1, 2" like SuiteQL
            row[col] = ", ".join(v["id"] for v in value["items"])
            row[f"_df_{col}"] = ", ".join(v.get("refName", "") for v in value["items"])
            return
        row[col] = value.get("id")
        row[f"_df_{col}"] = value.get("refName")
        return
    # A date field comes back as a date; a text column never does, whatever its shape (a
    # document number such as "SC-P-RS-11" or "2025-06-01" stays the text it is).
    if isinstance(value, str) and col not in _TEXT and _ISO_DAY.fullmatch(value):
        row[col] = date.fromisoformat(value)
        return
    if isinstance(value, str) and value.endswith("Z") and "T" in value:
        row[col] = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        return
    row[col] = value


def _lower_map(rtype: str) -> dict[str, str]:
    rt = RECORD_TYPES[rtype]
    fields = rt.all_fields() | {
        "id",
        "lastModifiedDate",
        "createdDate",
        "dateCreated",
        "total",
        "balance",
        "status",
        "amountPaid",
        "amountRemaining",
    }
    return {f.lower(): f for f in fields}


def _row(rtype: str, rec: dict[str, Any], columns: list[str]) -> dict[str, Any]:
    lower = _lower_map(rtype)
    row: dict[str, Any] = {}
    for col in columns:
        field = _RENAME.get(col) or lower.get(col)
        if field is not None:
            _flat(row, col, rec.get(field))
    return row


def rows_for(
    sb: NetSuiteSandbox, table: str, narrow: dict[str, set[str]] | None = None
) -> list[dict[str, Any]]:
    """The table's rows. ``narrow`` (transaction only): values the WHERE clause requires of
    ``id``/``tranid``/``type`` (top-level AND of ``=``/``IN``), so only those records are
    flattened; the WHERE clause is still applied to them in full afterwards."""
    cols = TABLES[table]
    store = sb.store
    if table == "transaction":
        narrow = narrow or {}
        ids, numbers, types = narrow.get("id"), narrow.get("tranid"), narrow.get("type")
        out = []
        for rt in transaction_types():
            if types is not None and rt.tran_type not in types:
                continue
            if ids is not None:
                records = [r for r in (store.get(rt.name, i) for i in ids) if r]
            else:
                records = store.all(rt.name)
            for rec in records:
                if numbers is not None and rec.get("tranId") not in numbers:
                    continue
                row = _row(rt.name, rec, cols)
                row["type"] = rt.tran_type
                row["recordtype"] = rt.name.lower()
                party = rec.get("entity") or rec.get("customer")
                _flat(row, "entity", party)
                remaining = rec.get("balance", rec.get("amountRemaining"))
                if remaining is not None:
                    row["foreignamountremaining"] = remaining
                out.append(row)
        return sorted(out, key=lambda r: int(r["id"]))
    if table == "transactionline":
        return _lines(sb)
    if table == "item":
        out = []
        for rtype, label in _ITEM_TYPES.items():
            for rec in store.all(rtype):
                row = _row(rtype, rec, cols)
                row["itemtype"] = label
                out.append(row)
        return sorted(out, key=lambda r: int(r["id"]))
    if table == "vendorsubsidiaryrelationship":
        out = []
        for rec in store.all("vendor"):
            for ln in (rec.get("submachine") or {}).get("items", []):
                row: dict[str, Any] = {
                    "id": f"{rec['id']}-{ln['subsidiary']['id']}",
                    "isprimarysub": bool(ln.get("isPrimary")),
                }
                _flat(row, "entity", {"id": rec["id"], "refName": rec.get("refName")})
                _flat(row, "subsidiary", ln["subsidiary"])
                out.append(row)
        return out
    return [_row(table, rec, cols) for rec in store.all(table)]


def _lines(sb: NetSuiteSandbox) -> list[dict[str, Any]]:
    out = []
    for rt in transaction_types():
        for rec in sb.store.all(rt.name):
            party = rec.get("entity") or rec.get("customer")
            main: dict[str, Any] = {
                "transaction": rec["id"],
                "id": 0,
                "linesequencenumber": 0,
                "mainline": True,
                "foreignamount": rec.get("total"),
                "memo": rec.get("memo"),
            }
            for seg in ("department", "class", "location", "subsidiary"):
                _flat(main, seg, rec.get(seg))
            _flat(main, "entity", party)
            out.append({k: v for k, v in main.items() if v is not None})
            seq = 0
            for sub in rt.sublists:
                if sub == "apply":
                    continue
                for ln in (rec.get(sub) or {}).get("items", []):
                    seq += 1
                    row: dict[str, Any] = {
                        "transaction": rec["id"],
                        "id": seq,
                        "linesequencenumber": seq,
                        "mainline": False,
                        "foreignamount": ln.get("amount"),
                        "quantity": ln.get("quantity"),
                        "rate": ln.get("rate"),
                        "memo": ln.get("memo") or ln.get("description"),
                        "debit": ln.get("debit"),
                        "credit": ln.get("credit"),
                    }
                    for seg in ("department", "class", "location", "item"):
                        _flat(row, seg, ln.get(seg))
                    _flat(row, "expenseaccount", ln.get("account"))
                    _flat(row, "subsidiary", rec.get("subsidiary"))
                    _flat(row, "entity", ln.get("entity") or party)
                    out.append({k: v for k, v in row.items() if v is not None})
    return out
