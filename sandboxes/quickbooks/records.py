"""Create / read / update / delete / void of QBO entities, with SyncToken, names and balances.

Records are kept in ``self.store`` under ``"<realmId>:<Entity>"`` in the shape the API returns.
A precise last-change time per record lives beside them (``self.stamps``) because MetaData has
second precision (§4.1) while CDC/``LastUpdatedTime >`` queries need to see every change.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from . import entities as E
from .errors import QBOError, business, invalid_ref, not_found, required, stale, unsupported


class RecordsMixin:
    # Duplicate DocNumber (6140) policy per entity: "company" (unique in the company), "vendor"
    # (unique per vendor) or None. §3.3: Invoice numbers are checked (bypass with
    # ``include=allowduplicatedocnum``); the Bill check is (unverified) in the reference, QBO's
    # company preference "Warn if duplicate bill number is used" is per vendor and on by default,
    # so the sandbox enforces it per vendor; change ``docnumber_policy`` to turn it off.
    default_docnumber_policy = {"Invoice": "company", "Bill": "vendor"}

    def _init_records(self) -> None:
        self.stamps: dict[str, dict[str, float]] = {}
        self._name_index: dict[tuple[str, str], dict[str, str]] = {}
        self._doc_index: dict[tuple[str, str], dict[str, str]] = {}
        self.events: list[tuple[str, str, str, str, float]] = []

    # -- storage helpers -------------------------------------------------------------------------

    def coll(self, realm: str, entity: str) -> dict[str, dict[str, Any]]:
        return self.store.collection(f"{realm}:{entity}")

    def get_record(self, realm: str, entity: str, rid: str) -> dict[str, Any] | None:
        return self.store.collections.get(f"{realm}:{entity}", {}).get(rid)

    def deleted(self, realm: str) -> dict[str, dict[str, Any]]:
        return self.store.collection(f"{realm}:~deleted")

    def _stamp(self, realm: str, entity: str, rec: dict[str, Any], op: str) -> None:
        now = self.clock.time()
        meta = self.fmt_meta(now, realm)
        md = rec.setdefault("MetaData", {})
        md.setdefault("CreateTime", meta)
        md["LastUpdatedTime"] = meta
        self.stamps.setdefault(f"{realm}:{entity}", {})[rec["Id"]] = now
        self.events.append((realm, entity, rec["Id"], op, now))

    def stamp_of(self, realm: str, entity: str, rid: str) -> float:
        return self.stamps.get(f"{realm}:{entity}", {}).get(rid, 0.0)

    def _bump(self, realm: str, entity: str, rec: dict[str, Any], op: str = "Update") -> None:
        rec["SyncToken"] = str(int(rec.get("SyncToken", "0")) + 1)
        self._stamp(realm, entity, rec, op)

    # -- indexes (built lazily, dropped on load/reset) -------------------------------------------

    def _names(self, realm: str, entity: str) -> dict[str, str]:
        scope = "names" if entity in E.NAME_SCOPES else entity
        key = (realm, scope)
        index = self._name_index.get(key)
        if index is None:
            index = {}
            for ent in E.NAME_SCOPES.get(entity, (entity,)):
                field = E.SPECS[ent].name_field
                for rec in self.coll(realm, ent).values():
                    index[str(rec.get(field, "")).casefold()] = f"{ent}:{rec['Id']}"
            self._name_index[key] = index
        return index

    def _doc_key(self, entity: str, rec: dict[str, Any]) -> str | None:
        policy = self.docnumber_policy.get(entity)
        doc = rec.get("DocNumber")
        if not policy or not doc:
            return None
        if policy == "vendor":
            return f"{(rec.get('VendorRef') or {}).get('value')}|{doc}"
        return str(doc)

    def _docs(self, realm: str, entity: str) -> dict[str, str]:
        key = (realm, entity)
        index = self._doc_index.get(key)
        if index is None:
            index = {}
            for rec in self.coll(realm, entity).values():
                dk = self._doc_key(entity, rec)
                if dk:
                    index[dk] = rec["Id"]
            self._doc_index[key] = index
        return index

    def drop_indexes(self) -> None:
        self._name_index.clear()
        self._doc_index.clear()

    # -- validation ------------------------------------------------------------------------------

    def _check_refs(self, realm: str, rec: dict[str, Any]) -> None:
        for element, ref in E.walk_refs(rec):
            value = str(ref.get("value", ""))
            target_entity = E.REF_TARGETS[element]
            target = self.get_record(realm, target_entity, value) if value else None
            if target is None or target.get("Active") is False:
                raise invalid_ref(element, value)
            ref["value"] = value
            ref["name"] = target.get("FullyQualifiedName") or target.get("Name", "")

    def _check_name(self, realm: str, spec: E.Spec, rec: dict[str, Any], rid: str | None) -> None:
        name = rec.get(spec.name_field or "")
        if not isinstance(name, str) or not name.strip():
            raise required(spec.name_field or "Name", spec.name)
        if ":" in name:
            raise QBOError(
                "2010", f"{spec.name_field} cannot contain a colon (:).", spec.name_field
            )
        owner = self._names(realm, spec.name).get(name.casefold())
        if owner and owner != f"{spec.name}:{rid}":
            raise QBOError(
                "6240",
                f"The name supplied already exists. : Another {spec.name.lower()}, vendor or "
                f"employee is already using this name. Please use a different name.",
            )

    def _check_doc(self, realm: str, entity: str, rec: dict[str, Any], rid: str | None) -> None:
        dk = self._doc_key(entity, rec)
        if dk is None:
            return
        owner = self._docs(realm, entity).get(dk)
        if owner and owner != rid:
            raise QBOError(
                "6140",
                "Duplicate Document Number Error : You must specify a different number. This "
                f"number has already been used. DocNumber={rec['DocNumber']} is assigned to "
                f"TxnType={entity} with TxnId={owner}",
            )

    # -- entity-specific completion --------------------------------------------------------------

    def _parent(self, realm: str, entity: str, rec: dict[str, Any]) -> dict[str, Any] | None:
        ref = rec.get("ParentRef")
        if not ref:
            return None
        parent = self.get_record(realm, entity, str(ref.get("value", "")))
        if parent is None or parent.get("Active") is False:
            raise invalid_ref("ParentRef", str(ref.get("value", "")))
        ref["value"] = parent["Id"]
        return parent

    def _complete_txn(self, realm: str, entity: str, rec: dict[str, Any], old: dict | None) -> None:
        today = self.local_now(realm).date()
        rec.setdefault("TxnDate", today.isoformat())
        rec.setdefault("CurrencyRef", dict(E.USD))
        lines = rec.get("Line") or []
        if entity in ("Bill", "PurchaseOrder"):
            E.expense_lines(lines)
            rec["TotalAmt"] = E.number_lines(lines)
        elif entity == "Invoice":
            lines = E.sales_lines(lines)
            total = E.number_lines(lines)
            lines.append(
                {"Amount": total, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
            )
            rec["Line"] = lines
            rec["TotalAmt"] = total
        elif entity == "JournalEntry":
            E.number_lines(lines)
            rec["TotalAmt"] = E.journal_lines(lines)
            rec.setdefault("Adjustment", False)
        else:  # Payment, BillPayment: TotalAmt is input, lines link documents
            rec["TotalAmt"] = E.money(rec["TotalAmt"], "TotalAmt")
            for line in lines:
                line["Amount"] = E.money(line.get("Amount"), "Line.Amount")
        if entity in ("Bill", "Invoice"):
            paid = (old["TotalAmt"] - old["Balance"]) if old else E.ZERO
            rec["Balance"] = rec["TotalAmt"] - paid
            rec.setdefault("LinkedTxn", [])
            if "DueDate" not in rec:
                rec["DueDate"] = self._due_date(realm, rec, 30 if entity == "Invoice" else 0)
        if entity == "Bill" and not rec.get("APAccountRef"):
            ap = self.account_by_type(realm, "Accounts Payable")
            if ap:
                rec["APAccountRef"] = {"value": ap["Id"], "name": ap["Name"]}
        elif entity == "PurchaseOrder":
            rec.setdefault("POStatus", "Open")
            rec.setdefault("EmailStatus", "NotSet")
        elif entity == "Invoice":
            rec.setdefault("PrintStatus", "NeedToPrint")
            rec.setdefault("EmailStatus", "NotSet")
            if not rec.get("DocNumber"):
                company = self.companies[realm]
                rec["DocNumber"] = str(company["next_invoice_number"])
                company["next_invoice_number"] += 1
        elif entity == "Payment":
            applied = sum((ln["Amount"] for ln in lines), E.ZERO)
            rec["UnappliedAmt"] = rec["TotalAmt"] - applied
            rec.setdefault("ProcessPayment", False)
            if not rec.get("DepositToAccountRef"):
                undeposited = self.account_by_type(realm, "Other Current Asset", "UndepositedFunds")
                if undeposited:
                    rec["DepositToAccountRef"] = {"value": undeposited["Id"]}
        elif entity == "BillPayment":
            pay_type = rec["PayType"]
            detail = {"Check": "CheckPayment", "CreditCard": "CreditCardPayment"}.get(pay_type)
            if detail is None:
                raise QBOError("2170", f"Invalid Enumeration : {pay_type}", "PayType")
            account_field = "BankAccountRef" if pay_type == "Check" else "CCAccountRef"
            if not (rec.get(detail) or {}).get(account_field):
                raise required(f"{detail}.{account_field}", "BillPayment")
            if pay_type == "Check":
                rec[detail].setdefault("PrintStatus", "NotSet")

    def _due_date(self, realm: str, rec: dict[str, Any], default_days: int) -> str:
        days = default_days
        term_ref = rec.get("SalesTermRef")
        if term_ref:
            term = self.get_record(realm, "Term", str(term_ref.get("value")))
            if term:
                days = int(term.get("DueDays") or 0)
        return (date.fromisoformat(rec["TxnDate"]) + timedelta(days=days)).isoformat()

    def account_by_type(self, realm: str, atype: str, subtype: str | None = None) -> dict | None:
        for acct in self.coll(realm, "Account").values():
            if (
                acct.get("AccountType") == atype
                and acct.get("Active", True)
                and (subtype is None or acct.get("AccountSubType") == subtype)
            ):
                return acct
        return None

    # -- operations ------------------------------------------------------------------------------

    def create(self, realm: str, entity: str, body: dict, *, allow_dup: bool = False) -> dict:
        spec = E.SPECS[entity]
        if spec.kind == "company":
            raise unsupported(f"create is not supported for {entity}")
        if not isinstance(body, dict):
            raise QBOError("2010", "The request body must be a JSON object")
        rec = E.strip_read_only(spec, copy.deepcopy(body))
        E.check_required(spec, rec)
        self._check_refs(realm, rec)
        if spec.kind == "name":
            self._check_name(realm, spec, rec, None)
            E.name_defaults(spec, rec, self._parent(realm, entity, rec))
        else:
            self._complete_txn(realm, entity, rec, None)
            if not allow_dup:
                self._check_doc(realm, entity, rec, None)
        plan = self._plan(realm, entity, rec, None)
        rid = self.store.next_id(f"{realm}:{entity}")
        out = {**rec, "domain": "QBO", "sparse": False, "Id": rid, "SyncToken": "0"}
        self._index(realm, entity, out)
        self.coll(realm, entity)[rid] = out
        self._stamp(realm, entity, out, "Create")
        self._move_money(realm, entity, rid, [], plan)
        return out

    def _index(self, realm: str, entity: str, rec: dict, old: dict | None = None) -> None:
        spec = E.SPECS[entity]
        if spec.name_field:
            names = self._names(realm, entity)
            if old is not None:
                names.pop(str(old.get(spec.name_field, "")).casefold(), None)
            names[str(rec.get(spec.name_field, "")).casefold()] = f"{entity}:{rec['Id']}"
        if spec.docnumber:
            docs = self._docs(realm, entity)
            if old is not None and (dk := self._doc_key(entity, old)):
                docs.pop(dk, None)
            if (dk := self._doc_key(entity, rec)) and dk not in docs:
                docs[dk] = rec["Id"]

    def _existing(self, realm: str, entity: str, body: dict) -> dict:
        if not isinstance(body, dict):
            raise QBOError("2010", "The request body must be a JSON object")
        rid = body.get("Id")
        if rid in (None, ""):
            raise required("Id", entity)
        rid = str(rid)
        if not rid.isdigit():
            raise QBOError("2030", f"Id should be a valid number. Supplied value:{rid}", "Id")
        current = self.get_record(realm, entity, rid)
        if current is None:
            raise not_found()
        token = body.get("SyncToken")
        if token in (None, ""):
            raise required("SyncToken", entity)
        if str(token) != current["SyncToken"]:
            raise stale()
        return current

    def update(self, realm: str, entity: str, body: dict, *, allow_dup: bool = False) -> dict:
        spec = E.SPECS[entity]
        if spec.kind == "company":
            raise unsupported(f"update is not supported for {entity} in this sandbox")
        current = self._existing(realm, entity, body)
        incoming = E.strip_read_only(spec, copy.deepcopy(body))
        if body.get("sparse") is True:
            rec = E.strip_read_only(spec, copy.deepcopy(current))
            rec.update(incoming)
        else:
            rec = incoming  # full update: omitted writable fields are cleared (§1.3)
        if entity in ("Payment", "BillPayment"):
            rec.setdefault("TotalAmt", current.get("TotalAmt"))
        E.check_required(spec, rec)
        self._check_refs(realm, rec)
        if spec.kind == "name":
            if current.get("Active", True) and rec.get("Active") is False:
                # §1.3: QBO renames deactivated list rows "<name> (deleted)" (seen on Account);
                # the sandbox does it for every list entity, which frees the name (6240).
                field = spec.name_field or "Name"
                if not str(rec.get(field, "")).endswith(" (deleted)"):
                    rec[field] = f"{rec.get(field, '')} (deleted)"
            self._check_name(realm, spec, rec, current["Id"])
            E.name_defaults(spec, rec, self._parent(realm, entity, rec))
        else:
            self._complete_txn(realm, entity, rec, current)
            if not allow_dup:
                self._check_doc(realm, entity, rec, current["Id"])
        plan = self._plan(realm, entity, rec, current)
        old_applied = self._applied(entity, current)
        old = dict(current)
        meta = current.get("MetaData", {})
        current.clear()
        current.update(rec)
        current.update(domain="QBO", sparse=False, Id=old["Id"], SyncToken=old["SyncToken"])
        current["MetaData"] = dict(meta)
        self._index(realm, entity, current, old)
        self._bump(realm, entity, current)
        self._move_money(realm, entity, current["Id"], old_applied, plan)
        return current

    def delete(self, realm: str, entity: str, body: dict) -> dict:
        spec = E.SPECS[entity]
        if spec.kind != "txn":
            raise unsupported(f"delete is not supported for {entity}; make it inactive instead")
        current = self._existing(realm, entity, body)
        if entity in ("Bill", "Invoice") and current.get("Balance") != current.get("TotalAmt"):
            raise business(
                f"This {entity.lower()} has payments applied to it. Remove the linked "
                "transactions before deleting it."
            )
        applied = self._applied(entity, current)
        if dk := self._doc_key(entity, current):
            self._docs(realm, entity).pop(dk, None)
        del self.coll(realm, entity)[current["Id"]]
        stub = {"domain": "QBO", "status": "Deleted", "Id": current["Id"]}
        now = self.clock.time()
        self.deleted(realm)[f"{entity}:{current['Id']}"] = {
            "entity": entity,
            "t": now,
            "stub": {**stub, "MetaData": {"LastUpdatedTime": self.fmt_meta(now, realm)}},
        }
        self.stamps.get(f"{realm}:{entity}", {}).pop(current["Id"], None)
        self.events.append((realm, entity, current["Id"], "Delete", now))
        self._move_money(realm, entity, current["Id"], applied, [])
        return stub

    def void(self, realm: str, entity: str, body: dict) -> dict:
        spec = E.SPECS[entity]
        if not spec.voidable:
            raise unsupported(f"void is not supported for {entity}")
        current = self._existing(realm, entity, body)
        if entity == "Invoice" and current.get("Balance") != current.get("TotalAmt"):
            raise business("This invoice has payments applied to it; delete the payments first.")
        applied = self._applied(entity, current)
        for line in current.get("Line") or []:
            line["Amount"] = Decimal("0")
            detail = line.get(line.get("DetailType") or "", None)
            if isinstance(detail, dict) and "Qty" in detail:
                detail["Qty"] = Decimal("0")
        current["TotalAmt"] = Decimal("0")
        if "Balance" in current:
            current["Balance"] = Decimal("0")
        if "UnappliedAmt" in current:
            current["UnappliedAmt"] = Decimal("0")
        note = current.get("PrivateNote")
        current["PrivateNote"] = f"Voided - {note}" if note else "Voided"
        self._bump(realm, entity, current, "Void")
        self._move_money(realm, entity, current["Id"], applied, [])
        return current
