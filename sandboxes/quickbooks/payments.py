"""Payments applied to bills and invoices: Balance and the reverse LinkedTxn (§4.8, §4.11, §4.12).

A Payment line links an Invoice, a BillPayment line a Bill. Applying validates everything first
(all or nothing); the document's Balance drops, it gains a LinkedTxn back to the payment and its
SyncToken and LastUpdatedTime move, as the real Bill 25 in the Airbyte records shows.
"""

from __future__ import annotations

from decimal import Decimal

from . import entities as E
from .errors import business


class PaymentsMixin:
    # -- payments applied to bills / invoices ----------------------------------------------------

    _LINKS = {"Payment": ("Invoice", "Payment"), "BillPayment": ("Bill", E.PAYABLE_LINK_TYPE)}

    def _plan(self, realm: str, entity: str, rec: dict, old: dict | None) -> list:
        """Validate what a payment applies (all or nothing) and return (type, id, amount)."""
        if entity not in self._LINKS:
            return []
        target_type, _ = self._LINKS[entity]
        available: dict[str, Decimal] = {}
        for _, tid, amt in self._applied(entity, old):
            available[tid] = available.get(tid, E.ZERO) + amt
        plan = []
        for _, tid, amount in self._applied(entity, rec):
            target = self.get_record(realm, target_type, tid)
            if target is None:
                raise business(
                    f"The entity {target_type} {tid} that you are trying to link does not exist."
                )
            open_amount = target["Balance"] + available.get(tid, E.ZERO)
            if amount > open_amount:
                raise business(
                    f"The amount applied ({amount}) exceeds the open balance "
                    f"({open_amount}) of {target_type} {tid}."
                )
            available[tid] = open_amount - amount - target["Balance"]
            plan.append((target_type, tid, amount))
        if entity == "BillPayment":
            applied = sum((amt for _, _, amt in plan), E.ZERO)
            if applied > rec["TotalAmt"]:
                raise business("The amounts applied exceed the payment's TotalAmt.")
        return plan

    def _applied(self, entity: str, rec: dict | None) -> list:
        if not rec or entity not in self._LINKS:
            return []
        target_type, _ = self._LINKS[entity]
        out = []
        for line in rec.get("Line") or []:
            for link in line.get("LinkedTxn") or []:
                if link.get("TxnType") == target_type:
                    out.append((target_type, str(link.get("TxnId")), line["Amount"]))
                    break
        return out

    def _move_money(self, realm: str, entity: str, pay_id: str, remove: list, add: list) -> None:
        if not remove and not add:
            return
        link = {"TxnId": pay_id, "TxnType": self._LINKS[entity][1]}
        touched: dict[tuple[str, str], dict] = {}
        for sign, items in ((-1, remove), (+1, add)):
            for target_type, tid, amount in items:
                target = self.get_record(realm, target_type, tid)
                if target is None:
                    continue
                target["Balance"] = target["Balance"] - sign * amount
                links = target.setdefault("LinkedTxn", [])
                if sign > 0 and link not in links:
                    links.append(dict(link))
                elif sign < 0 and link in links:
                    links.remove(link)
                touched[(target_type, tid)] = target
        for (target_type, _), target in touched.items():
            # A payment bumps the document's SyncToken and LastUpdatedTime ([AB] Bill 25).
            self._bump(realm, target_type, target)
