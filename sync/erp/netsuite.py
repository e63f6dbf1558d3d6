"""NetSuite through the connector: eid upserts, lastModifiedDate-checked updates, SuiteQL
duplicate search (DESIGN.md rules 1-2; reference netsuite-api.md §1.8, §6)."""

from __future__ import annotations

from typing import Any

from connectors.errors import NotFound
from connectors.netsuite import NetSuiteClient
from connectors.netsuite.client import TRANSACTION_TYPES, parse_suiteql_datetime
from connectors.netsuite.schemas import money, parse_datetime

from .base import Remote, Written, q2, to_wire

NUMERIC = frozenset({"amount", "rate", "quantity", "debit", "credit"})
APPROVED = "2"  # approvalStatus id: 1 pending, 2 approved, 3 rejected


def _version(value: Any) -> str:
    moment = parse_datetime(value)
    return moment.isoformat() if moment else ""


def _id(ref: Any) -> str | None:
    if isinstance(ref, dict):
        return str(ref["id"]) if ref.get("id") not in (None, "") else None
    return None if ref in (None, "") else str(ref)


def _quote(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


class NetSuiteAdapter:
    kind = "netsuite"

    def __init__(self, client: NetSuiteClient) -> None:
        self.client = client
        # Set by the concurrent writer: a create of a transaction does not read its version
        # back (a second request per document); ``versions`` reads a group's in one query.
        self.defer_versions = False

    @property
    def calls(self) -> int:
        return self.client.calls

    def _wire(self, payload: dict[str, Any]) -> dict[str, Any]:
        return to_wire(payload, NUMERIC, as_float=True)

    def create(
        self, erp_type: str, payload: dict[str, Any], *, external_id: str, key: str
    ) -> Written:
        # PUT …/eid:{externalId}: an upsert, so a retry after a lost answer (or a rerun after
        # a crash before the binding was stored) updates the one record instead of adding one.
        written = self.client.upsert(erp_type, external_id, self._wire(payload))
        number = payload.get("tranId") or payload.get("entityId") or payload.get("companyName")
        if self.defer_versions and erp_type in TRANSACTION_TYPES:
            return Written(written.id, "", str(number or ""))
        version = _version(self.client.last_modified(erp_type, written.id))
        return Written(written.id, version, str(number or ""))

    def versions(self, erp_type: str, erp_ids: list[str]) -> dict[str, str]:
        """lastModifiedDate of many transactions in one SuiteQL query per 1,000 ids, in the
        form ``read`` gives (SuiteQL keeps seconds, as the record service does)."""
        if erp_type not in TRANSACTION_TYPES:
            return {i: _version(self.client.last_modified(erp_type, i)) for i in erp_ids}
        found: dict[str, str] = {}
        ids = sorted({str(int(i)) for i in erp_ids}, key=int)
        for start in range(0, len(ids), 1000):
            part = ", ".join(ids[start : start + 1000])
            sql = (
                "SELECT id, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS lastmodified "  # noqa: S608
                f"FROM transaction WHERE id IN ({part})"
            )
            for row in self.client.suiteql(sql):
                stamp = parse_suiteql_datetime(row.get("lastmodified"))
                found[str(row["id"])] = stamp.isoformat() if stamp else ""
        return found

    def read(self, erp_type: str, erp_id: str) -> Remote | None:
        try:
            raw = self.client.get_raw(erp_type, erp_id)
        except NotFound:
            return None
        approval = raw.get("approvalStatus")
        return Remote(
            erp_type=erp_type,
            erp_id=str(raw.get("id", erp_id)),
            version=_version(raw.get("lastModifiedDate")),
            number=str(raw.get("tranId") or raw.get("entityId") or ""),
            approved=_id(approval) == APPROVED,
            amount=money(raw.get("total")),
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
        written = self.client.update_if_unchanged(
            erp_type, erp_id, self._wire(payload), expected_version or None
        )
        return Written(erp_id, _version(written.last_modified), str(payload.get("tranId") or ""))

    def void(self, erp_type: str, erp_id: str, *, expected_version: str, key: str) -> Written:
        # REST has no void for purchase orders; the approved proposal deletes the document
        # (a retried delete of a record already gone answers False, not an error).
        self.client.delete(erp_type, erp_id)
        return Written(erp_id, "", "")

    def find_duplicates(self, erp_type: str, payload: dict[str, Any]) -> list[Remote]:
        tran = TRANSACTION_TYPES.get(erp_type)
        number, vendor = payload.get("tranId"), _id(payload.get("entity"))
        if not tran or not number or not vendor:
            return []
        sql = (
            "SELECT id, tranid, foreigntotal, externalid FROM transaction "  # noqa: S608
            f"WHERE type = {_quote(tran)} AND tranid = {_quote(number)} "
            f"AND entity = {_quote(vendor)} ORDER BY id"
        )
        return [
            Remote(
                erp_type=erp_type,
                erp_id=str(row["id"]),
                version="",
                number=str(row.get("tranid") or ""),
                amount=money(row.get("foreigntotal")),
                raw=row,
            )
            for row in self.client.suiteql(sql)
        ]

    def summary(self, erp_type: str, body: dict[str, Any] | None) -> dict[str, Any]:
        if not body:
            return {}
        if erp_type in TRANSACTION_TYPES:
            lines = []
            for sublist in ("item", "expense"):
                for line in (body.get(sublist) or {}).get("items", []) or []:
                    lines.append(
                        {
                            "item": _id(line.get("item")),
                            "account": _id(line.get("account")),
                            "amount": q2(line.get("amount")),
                            "description": line.get("description") or line.get("memo") or "",
                        }
                    )
            return {
                "vendor": _id(body.get("entity")),
                "number": body.get("tranId") or "",
                "memo": body.get("memo") or "",
                "lines": lines,
            }
        return {
            "name": body.get("companyName") or "",
            "entity_id": body.get("entityId") or "",
            "parent": _id(body.get("parent")),
            "subsidiary": _id(body.get("subsidiary")),
        }
