"""The write path of the record service: normalise a request body, validate it the way a OneWorld
account would, keep derived fields (totals, balances, statuses) right, and record the change.

References are stored as ``{"id", "refName", "_type"}``; keys starting with ``_`` are internal and
never rendered. ``_mtime`` (epoch seconds of lastModifiedDate) makes ``q``/SuiteQL date filters
cheap.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from .errors import NSError, invalid_field_value, user_error
from .schema import (
    BOOL_FIELDS,
    DATE_FIELDS,
    FIELD_LOWER,
    INT_FIELDS,
    MONEY_FIELDS,
    READ_ONLY,
    RECORD_TYPES,
    RecordType,
    SublistDef,
    types_for,
)

if TYPE_CHECKING:
    from .app import NetSuiteSandbox

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LABELS = {
    "entity": "Vendor",
    "customer": "Customer",
    "subsidiary": "Subsidiary",
    "name": "Name",
    "currency": "Currency",
    "symbol": "Symbol",
    "acctName": "Name",
    "acctType": "Type",
    "itemId": "Item Name/Number",
    "entityId": "Project ID",
}
ZERO = Decimal("0")


def ts(moment: float) -> str:
    """lastModifiedDate: ISO 8601 UTC, seconds precision with Z (reference §1.7)."""
    return datetime.fromtimestamp(moment, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ref_name(rt: RecordType, rec: dict[str, Any]) -> str:
    if rt.is_transaction:
        return f"{rt.label} #{rec.get('tranId') or rec.get('id')}"
    if rt.name == "account":
        return " ".join(x for x in (rec.get("acctNumber"), rec.get("acctName")) if x)
    if rt.space == "entity":
        person = " ".join(x for x in (rec.get("firstName"), rec.get("lastName")) if x)
        return rec.get("companyName") or person or rec.get("entityId") or ""
    if rt.space == "item":
        return rec.get("itemId") or ""
    return str(rec.get("name") or "")


class Books:
    def __init__(self, sandbox: NetSuiteSandbox) -> None:
        self.sb = sandbox
        self.eids: dict[str, dict[str, str]] = {}
        self.applied: dict[str, dict[str, Decimal]] = {}  # doc id -> {payment id: amount}

    # -- lookups ------------------------------------------------------------------------------

    def get(self, rtype: str, rid: str) -> dict[str, Any] | None:
        return self.sb.store.get(rtype, rid)

    def by_eid(self, rtype: str, eid: str) -> dict[str, Any] | None:
        rid = self.eids.get(rtype, {}).get(eid)
        return None if rid is None else self.get(rtype, rid)

    def find_any(self, target: str, rid: str) -> tuple[str, dict[str, Any]] | None:
        for rtype in types_for(target):
            rec = self.get(rtype, rid)
            if rec is not None:
                return rtype, rec
        return None

    def rebuild_indexes(self) -> None:
        self.eids = {}
        self.applied = {}
        for rtype in RECORD_TYPES:
            for rec in self.sb.store.all(rtype):
                if rec.get("externalId"):
                    self.eids.setdefault(rtype, {})[rec["externalId"]] = rec["id"]
                if rtype in ("vendorPayment", "customerPayment"):
                    self._index_payment(rec)

    # -- value normalisation ------------------------------------------------------------------

    def ref(self, target: str, value: Any, field: str, path: str) -> dict[str, Any] | None:
        if value is None or value == "":
            return None
        if isinstance(value, dict):
            if "id" in value and value["id"] not in (None, ""):
                rid = str(value["id"])
                found = self.find_any(target, rid)
            elif value.get("externalId"):
                found = None
                for rtype in types_for(target):
                    rec = self.by_eid(rtype, str(value["externalId"]))
                    if rec is not None:
                        found = (rtype, rec)
                        break
                rid = str(value["externalId"])
            else:
                raise invalid_field_value(value, field, path)
        else:
            rid = str(value)
            found = self.find_any(target, rid)
        if found is None:
            raise invalid_field_value(rid, field, path)
        rtype, rec = found
        return {"id": rec["id"], "refName": rec.get("refName", ""), "_type": rtype}

    def scalar(self, name: str, value: Any, path: str) -> Any:
        if value is None:
            return None
        try:
            if name in MONEY_FIELDS:
                if isinstance(value, bool):
                    raise TypeError
                return Decimal(str(value))
            if name in INT_FIELDS:
                return int(value)
        except (InvalidOperation, TypeError, ValueError):
            raise invalid_field_value(value, name, path) from None
        if name in DATE_FIELDS:
            if not isinstance(value, str) or not _DATE_RE.match(value):
                raise invalid_field_value(value, name, path)
            return value
        if name in BOOL_FIELDS:
            if not isinstance(value, bool):
                raise invalid_field_value(value, name, path)
            return value
        return value

    def _field(self, rt: RecordType, key: str, warnings: list[str], strict: bool) -> str | None:
        canonical = FIELD_LOWER[rt.name].get(key.lower())
        if canonical is None:
            if key.lower().startswith(("cust", "cseg")):
                return key  # custom fields are stored as sent
            if strict:
                raise NSError(
                    400,
                    f"Invalid field name: {key}. The field does not exist on the {rt.name} record.",
                    "NONEXISTENT_FIELD",
                    path=key,
                )
            warnings.append(f"Unknown field {key} was ignored.")
            return None
        return None if canonical in READ_ONLY else canonical

    def _values(
        self,
        rt: RecordType,
        body: dict[str, Any],
        warnings: list[str],
        strict: bool,
        prefix: str = "",
    ) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
        out: dict[str, Any] = {}
        subs: dict[str, list[dict[str, Any]]] = {}
        for key, value in body.items():
            name = self._field(rt, key, warnings, strict)
            if name is None:
                continue
            path = prefix + name
            if name in rt.sublists:
                items = value.get("items") if isinstance(value, dict) else value
                if not isinstance(items, list):
                    raise invalid_field_value(value, name, path)
                subs[name] = [
                    self._line(rt, rt.sublists[name], line, f"{path}.items[{i}]", warnings, strict)
                    for i, line in enumerate(items)
                ]
            elif name in rt.refs:
                out[name] = self.ref(rt.refs[name], value, name, path)
            elif name in rt.multi_refs:
                items = value.get("items") if isinstance(value, dict) else value
                items = items if isinstance(items, list) else [items]
                out[name] = {
                    "items": [
                        self.ref(rt.multi_refs[name], v, name, f"{path}.items[{i}]")
                        for i, v in enumerate(items)
                    ]
                }
            elif name in rt.enums:
                raw = value.get("id") if isinstance(value, dict) else value
                labels = rt.enums[name]
                if str(raw) not in labels:
                    raise invalid_field_value(raw, name, path)
                out[name] = {"id": str(raw), "refName": labels[str(raw)]}
            else:
                out[name] = self.scalar(name, value, path)
        return out, subs

    def _line(
        self,
        rt: RecordType,
        sd: SublistDef,
        line: Any,
        path: str,
        warnings: list[str],
        strict: bool,
    ) -> dict[str, Any]:
        if not isinstance(line, dict):
            raise invalid_field_value(line, sd.name, path)
        out: dict[str, Any] = {}
        lower = {f.lower(): f for f in set(sd.refs) | set(sd.fields)}
        for key, value in line.items():
            name = lower.get(key.lower())
            if name is None:
                if key.lower().startswith("cust"):
                    out[key] = value
                elif strict:
                    raise NSError(
                        400,
                        f"Invalid field name: {key}.",
                        "NONEXISTENT_FIELD",
                        path=f"{path}.{key}",
                    )
                continue
            if name in sd.refs:
                out[name] = self.ref(sd.refs[name], value, name, f"{path}.{name}")
            else:
                out[name] = self.scalar(name, value, f"{path}.{name}")
        return out

    # -- sublists (keyed vs non-keyed, reference §1.6) ----------------------------------------

    @staticmethod
    def _key(sd: SublistDef, line: dict[str, Any]) -> Any:
        value = line.get(sd.key)
        return value.get("id") if isinstance(value, dict) else value

    def merge_lines(
        self,
        sd: SublistDef,
        existing: list[dict[str, Any]],
        incoming: list[dict[str, Any]],
        replace: bool,
    ) -> list[dict[str, Any]]:
        by_key = {self._key(sd, ln): ln for ln in existing}
        result = [] if replace else [dict(ln) for ln in existing]
        index = {self._key(sd, ln): i for i, ln in enumerate(result)}
        next_line = max((ln.get("line") or 0 for ln in existing), default=0)
        for line in incoming:
            key = self._key(sd, line)
            if key is not None and key in by_key:
                merged = {**by_key[key], **line}
                # A changed rate/quantity re-derives the amount and a changed amount re-derives
                # the rate, like the UI's field sourcing (decision).
                if ("rate" in line or "quantity" in line) and "amount" not in line:
                    merged.pop("amount", None)
                elif "amount" in line and "rate" not in line:
                    merged.pop("rate", None)
                if key in index:
                    result[index[key]] = merged
                else:
                    index[key] = len(result)
                    result.append(merged)
                continue
            if sd.key == "line":
                next_line += 1
                line = {**line, "line": next_line}
            index[self._key(sd, line)] = len(result)
            result.append(line)
        return result

    # -- create / update / delete --------------------------------------------------------------

    def create(
        self,
        rt: RecordType,
        body: dict[str, Any],
        *,
        strict: bool = False,
        external_id: str | None = None,
    ) -> tuple[dict[str, Any], list[str]]:
        warnings: list[str] = []
        values, subs = self._values(rt, body, warnings, strict)
        if external_id is not None:
            values["externalId"] = external_id
        missing = [f for f in rt.required if values.get(f) in (None, "")]
        if missing:
            labels = ", ".join(_LABELS.get(f, f) for f in missing)
            raise user_error(f"Please enter value(s) for: {labels}.", path=missing[0])
        rec: dict[str, Any] = {k: v for k, v in values.items() if v is not None}
        for name, lines in subs.items():
            rec[name] = {"items": self.merge_lines(rt.sublists[name], [], lines, True)}
        self._check_eid(rt, rec.get("externalId"), None)
        now = self.sb.clock.time()
        rec["id"] = self.sb.store.next_id("@" + rt.space)
        rec["createdDate" if rt.is_transaction else "dateCreated"] = ts(now)
        self.sb.finish(rt, rec, None)
        self._commit(rt, rec, now)
        self.sb.store.insert(rt.name, rec)
        self.sb.after_write(rt, rec, "create", None)
        return rec, warnings

    def update(
        self,
        rt: RecordType,
        rec: dict[str, Any],
        body: dict[str, Any],
        *,
        replace: frozenset[str] = frozenset(),
        strict: bool = False,
        event: str = "edit",
    ) -> list[str]:
        warnings: list[str] = []
        values, subs = self._values(rt, body, warnings, strict)
        if "externalId" in values:
            self._check_eid(rt, values["externalId"], rec["id"])
        before = {k: (dict(v) if isinstance(v, dict) else v) for k, v in rec.items()}
        new = dict(rec)
        for key, value in values.items():
            if value is None:
                new.pop(key, None)
            else:
                new[key] = value
        for name in rt.sublists:
            if name in subs or name in replace:
                current = (rec.get(name) or {}).get("items", [])
                lines = self.merge_lines(
                    rt.sublists[name], current, subs.get(name, []), name in replace
                )
                new[name] = {"items": lines}
        self.sb.finish(rt, new, before)
        old_eid = rec.get("externalId")
        rec.clear()
        rec.update(new)
        if old_eid and old_eid != rec.get("externalId"):
            self.eids.get(rt.name, {}).pop(old_eid, None)
        self._commit(rt, rec, self.sb.clock.time())
        self.sb.after_write(rt, rec, event, before)
        return warnings

    def delete(self, rt: RecordType, rec: dict[str, Any]) -> None:
        if self.applied.get(rec["id"]):
            raise user_error("This record cannot be deleted because it has dependent records.")
        if rt.space == "entity" and self._has_transactions(rec["id"]):
            raise user_error("This record cannot be deleted because it has dependent records.")
        self.sb.store.delete(rt.name, rec["id"])
        if rec.get("externalId"):
            self.eids.get(rt.name, {}).pop(rec["externalId"], None)
        self.sb.after_write(rt, rec, "delete", rec)

    def _has_transactions(self, entity_id: str) -> bool:
        for rtype in ("purchaseOrder", "vendorBill", "invoice", "vendorPayment", "customerPayment"):
            for tx in self.sb.store.all(rtype):
                ent = tx.get("entity") or tx.get("customer")
                if ent and ent["id"] == entity_id:
                    return True
        return False

    def _check_eid(self, rt: RecordType, eid: str | None, own_id: str | None) -> None:
        if not eid:
            return
        holder = self.eids.get(rt.name, {}).get(eid)
        if holder is not None and holder != own_id:
            # Wording as SuiteTalk's DUP_RCRD; REST reports record errors as USER_ERROR
            # (reference §4.2). The exact REST code for this case is undocumented (decision).
            raise user_error("This record already exists.", path="externalId")

    def _commit(self, rt: RecordType, rec: dict[str, Any], now: float) -> None:
        rec["refName"] = ref_name(rt, rec)
        rec["lastModifiedDate"] = ts(now)
        rec["_mtime"] = int(now)
        if rec.get("externalId"):
            self.eids.setdefault(rt.name, {})[rec["externalId"]] = rec["id"]

    def touch(self, rt: RecordType, rec: dict[str, Any]) -> None:
        """A derived change (a payment applied to a bill): bump lastModifiedDate."""
        self._commit(rt, rec, self.sb.clock.time())

    # -- payments ------------------------------------------------------------------------------

    def _index_payment(self, pay: dict[str, Any]) -> None:
        for line in (pay.get("apply") or {}).get("items", []):
            if line.get("apply", True) and line.get("doc"):
                amount = line.get("amount") or ZERO
                self.applied.setdefault(line["doc"]["id"], {})[pay["id"]] = amount

    def unindex_payment(self, pay_id: str, docs: list[str]) -> None:
        for doc in docs:
            self.applied.get(doc, {}).pop(pay_id, None)

    def index_payment(self, pay: dict[str, Any]) -> None:
        self._index_payment(pay)

    def paid_on(self, doc_id: str, excluding: str | None = None) -> Decimal:
        return sum((a for p, a in self.applied.get(doc_id, {}).items() if p != excluding), ZERO)
