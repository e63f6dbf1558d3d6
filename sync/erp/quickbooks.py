"""QuickBooks Online through the connector: a stable requestid per Change and lookup-before-
create when the outcome is unknown (``create_once``), SyncToken-checked updates
(DESIGN.md rules 1-2; reference quickbooks-api.md §1.4)."""

from __future__ import annotations

from typing import Any

from connectors.errors import Duplicate, NotFound
from connectors.quickbooks import QuickBooksClient
from connectors.quickbooks.schemas import LIST_ENTITIES, canonical, money

from .base import Remote, Written, q2, to_wire

NUMERIC = frozenset({"Amount", "UnitPrice", "Qty"})


def _ref(value: Any) -> str | None:
    return str(value["value"]) if isinstance(value, dict) and value.get("value") else None


class QuickBooksAdapter:
    kind = "quickbooks"

    def __init__(self, client: QuickBooksClient) -> None:
        self.client = client

    @property
    def calls(self) -> int:
        return self.client.calls

    def _wire(self, payload: dict[str, Any]) -> dict[str, Any]:
        return to_wire(payload, NUMERIC, as_float=False)  # the client encodes Decimal exactly

    @staticmethod
    def _number(entity: str, raw: dict[str, Any]) -> str:
        return str(raw.get("DocNumber") or raw.get("DisplayName") or raw.get("Name") or "")

    def create(
        self, erp_type: str, payload: dict[str, Any], *, external_id: str, key: str
    ) -> Written:
        record = self.client.create_once(erp_type, self._wire(payload), key)
        return Written(record.id, record.sync_token or "", self._number(erp_type, record.raw))

    def find_created(self, erp_type: str, payload: dict[str, Any]) -> Written | None:
        """The document an earlier attempt of this create made, if any: by DocNumber + party,
        name for list entities, else the erpbridge marker (``default_lookup``); ``None`` when
        nothing identifies it (then only the requestid replay protects the resend)."""
        lookup = self.client.default_lookup(erp_type, self._wire(payload))
        record = lookup() if lookup is not None else None
        if record is None:
            return None
        return Written(record.id, record.sync_token or "", self._number(erp_type, record.raw))

    def read(self, erp_type: str, erp_id: str) -> Remote | None:
        try:
            raw = self.client.read_raw(erp_type, erp_id)
        except NotFound:
            return None
        return Remote(
            erp_type=erp_type,
            erp_id=str(raw.get("Id", erp_id)),
            version=str(raw.get("SyncToken", "")),
            number=self._number(erp_type, raw),
            # QuickBooks has no approval step: a PO that exists is the approved document.
            approved=canonical(erp_type) not in LIST_ENTITIES,
            amount=money(raw.get("TotalAmt")),
            raw=raw,
        )

    def update(
        self,
        erp_type: str,
        erp_id: str,
        payload: dict[str, Any],
        *,
        expected_version: str,
        key: str,
    ) -> Written:
        body = {**self._wire(payload), "Id": str(erp_id)}
        record = self.client.update(erp_type, body, sync_token=expected_version, request_id=key)
        return Written(record.id, record.sync_token or "", self._number(erp_type, record.raw))

    def void(self, erp_type: str, erp_id: str, *, expected_version: str, key: str) -> Written:
        # PurchaseOrder and Bill have no void in QBO, only delete (§1.3).
        self.client.delete(erp_type, erp_id, sync_token=expected_version, request_id=key)
        return Written(erp_id, "", "")

    def find_duplicates(self, erp_type: str, payload: dict[str, Any]) -> list[Remote]:
        number, vendor = payload.get("DocNumber"), _ref(payload.get("VendorRef"))
        if not number or canonical(erp_type) in LIST_ENTITIES:
            return []
        try:
            found = self.client.find_by_doc_number(erp_type, number, vendor=vendor)
        except Duplicate:
            found = None
            records = list(self.client.iter_query(erp_type, [("DocNumber", "=", number)]))
            return [self._remote(erp_type, r) for r in records]
        return [self._remote(erp_type, found)] if found is not None else []

    def _remote(self, erp_type: str, record: Any) -> Remote:
        return Remote(
            erp_type=erp_type,
            erp_id=record.id,
            version=record.sync_token or "",
            number=self._number(erp_type, record.raw),
            amount=money(record.raw.get("TotalAmt")),
            raw=record.raw,
        )

    def summary(self, erp_type: str, body: dict[str, Any] | None) -> dict[str, Any]:
        if not body:
            return {}
        if canonical(erp_type) in LIST_ENTITIES:
            return {"name": body.get("DisplayName") or "", "parent": _ref(body.get("ParentRef"))}
        lines = []
        for line in body.get("Line") or []:
            dtype = line.get("DetailType") or ""
            if dtype not in ("ItemBasedExpenseLineDetail", "AccountBasedExpenseLineDetail"):
                continue
            detail = line.get(dtype) or {}
            lines.append(
                {
                    "item": _ref(detail.get("ItemRef")),
                    "account": _ref(detail.get("AccountRef")),
                    "amount": q2(line.get("Amount")),
                    "description": line.get("Description") or "",
                }
            )
        return {
            "vendor": _ref(body.get("VendorRef")),
            "number": body.get("DocNumber") or "",
            "memo": body.get("Memo") or "",
            "lines": lines,
        }
