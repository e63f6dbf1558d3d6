"""The SUSPECTED_DUPLICATE search for a whole batch in one ERP query instead of one per record.

``plan_record`` asks the adapter ``find_duplicates(type, payload)`` for every new document: a
SuiteQL / QBO query per record, the largest share of a first sync's calls and time. For a batch
whose document numbers are known up front (commitments: the Procore number is the ERP number),
:class:`PrefetchedDuplicates` reads every transaction of that type carrying one of the batch's
numbers in one query (``tranid IN (…)`` / ``DocNumber IN (…)``), then answers each record's
question from memory with the adapter's own rule (same number and same vendor). A number it did
not prefetch falls through to the adapter.
"""

from __future__ import annotations

from typing import Any

from connectors.netsuite.client import TRANSACTION_TYPES
from connectors.netsuite.schemas import money
from connectors.quickbooks.query import chunks

from .base import Remote


def _id(ref: Any) -> str | None:
    if isinstance(ref, dict):
        value = ref.get("id", ref.get("value"))
        return None if value in (None, "") else str(value)
    return None if ref in (None, "") else str(ref)


def _quote(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


class PrefetchedDuplicates:
    """Wraps an ERP adapter; everything but ``find_duplicates`` passes through."""

    def __init__(self, adapter: Any, erp_type: str, numbers: list[str]) -> None:
        self.adapter = adapter
        self.erp_type = erp_type
        # As the mappers cut them: QuickBooks DocNumber 21 characters, NetSuite tranId 45.
        self.numbers = {str(n)[:cut] for n in numbers if n for cut in (21, 45, None)}
        self.rows: dict[str, list[Remote]] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.adapter, name)

    def find_duplicates(self, erp_type: str, payload: dict[str, Any]) -> list[Remote]:
        kind = self.adapter.kind
        number = payload.get("tranId") if kind == "netsuite" else payload.get("DocNumber")
        vendor = _id(payload.get("entity") if kind == "netsuite" else payload.get("VendorRef"))
        if erp_type != self.erp_type or not number or str(number) not in self.numbers:
            return self.adapter.find_duplicates(erp_type, payload)
        if self.rows is None:
            self.rows = self._load()
        found = self.rows.get(str(number), [])
        if vendor is not None:
            found = [r for r in found if r.raw.get("_vendor") in (None, vendor)]
        return found

    def _load(self) -> dict[str, list[Remote]]:
        rows: dict[str, list[Remote]] = {}
        client = self.adapter.client
        for part in chunks(sorted(self.numbers), 200):
            if self.adapter.kind == "netsuite":
                tran = TRANSACTION_TYPES[self.erp_type]
                numbers = ", ".join(_quote(n) for n in part)
                sql = (
                    "SELECT id, tranid, foreigntotal, externalid, entity FROM transaction "  # noqa: S608
                    f"WHERE type = {_quote(tran)} AND tranid IN ({numbers}) ORDER BY id"
                )
                for row in client.suiteql(sql):
                    row["_vendor"] = _id(row.get("entity"))
                    remote = Remote(
                        erp_type=self.erp_type,
                        erp_id=str(row["id"]),
                        version="",
                        number=str(row.get("tranid") or ""),
                        amount=money(row.get("foreigntotal")),
                        raw=row,
                    )
                    rows.setdefault(remote.number, []).append(remote)
            else:
                for record in client.iter_query(self.erp_type, [("DocNumber", "IN", part)]):
                    remote = self.adapter._remote(self.erp_type, record)
                    remote.raw = {**remote.raw, "_vendor": _id(record.raw.get("VendorRef"))}
                    rows.setdefault(remote.number, []).append(remote)
        return rows
