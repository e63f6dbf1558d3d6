"""Acting as a person in QuickBooks (issue 3, "Faults, time and control").

Plain methods for in-process tests and the demo, and the same actions as control routes under
``/_sandbox/quickbooks/...``. Every change goes through the same code as the API, so SyncToken,
MetaData.LastUpdatedTime, balances and webhooks behave as if a bookkeeper had clicked in QBO.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import httpx

from ..core import Req, json_response
from . import entities as E
from .errors import QBOError


class ControlMixin:
    def _realm(self, realm: str | None) -> str:
        return realm or self.default_realm

    def read(self, entity: str, rid: str, realm: str | None = None) -> dict[str, Any] | None:
        """What QBO holds for one record (a copy), or None."""
        rec = self.get_record(self._realm(realm), entity, str(rid))
        return copy.deepcopy(rec) if rec is not None else None

    def records(self, entity: str, realm: str | None = None) -> list[dict[str, Any]]:
        return [copy.deepcopy(r) for r in self.coll(self._realm(realm), entity).values()]

    def mark_bill_paid(
        self,
        bill_id: str,
        *,
        realm: str | None = None,
        amount: Decimal | None = None,
        pay_type: str = "Check",
        txn_date: str | None = None,
        account_id: str | None = None,
    ) -> dict[str, Any]:
        """Pay a bill (fully by default) with a BillPayment, as a bookkeeper would."""
        realm = self._realm(realm)
        bill = self.get_record(realm, "Bill", str(bill_id))
        if bill is None:
            raise KeyError(f"no Bill {bill_id}")
        amount = bill["Balance"] if amount is None else Decimal(str(amount))
        if account_id is None:
            atype = "Bank" if pay_type == "Check" else "Credit Card"
            acct = self.account_by_type(realm, atype)
            if acct is None:
                acct = self.create(
                    realm, "Account", {"Name": f"Sandbox {atype}", "AccountType": atype}
                )
            account_id = acct["Id"]
        body: dict[str, Any] = {
            "VendorRef": {"value": bill["VendorRef"]["value"]},
            "PayType": pay_type,
            "TotalAmt": amount,
            "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": bill["Id"], "TxnType": "Bill"}]}],
        }
        if pay_type == "Check":
            body["CheckPayment"] = {"BankAccountRef": {"value": account_id}}
        else:
            body["CreditCardPayment"] = {"CCAccountRef": {"value": account_id}}
        if txn_date:
            body["TxnDate"] = txn_date
        try:
            return copy.deepcopy(self.create(realm, "BillPayment", body))
        finally:
            self.flush_events()

    def mark_invoice_paid(
        self,
        invoice_id: str,
        *,
        realm: str | None = None,
        amount: Decimal | None = None,
        txn_date: str | None = None,
    ) -> dict[str, Any]:
        """Receive a customer payment against an invoice (a Payment into Undeposited Funds)."""
        realm = self._realm(realm)
        invoice = self.get_record(realm, "Invoice", str(invoice_id))
        if invoice is None:
            raise KeyError(f"no Invoice {invoice_id}")
        amount = invoice["Balance"] if amount is None else Decimal(str(amount))
        body: dict[str, Any] = {
            "CustomerRef": {"value": invoice["CustomerRef"]["value"]},
            "TotalAmt": amount,
            "Line": [
                {"Amount": amount, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
            ],
        }
        if txn_date:
            body["TxnDate"] = txn_date
        try:
            return copy.deepcopy(self.create(realm, "Payment", body))
        finally:
            self.flush_events()

    def edit_purchase_order(
        self, po_id: str, changes: dict[str, Any], *, realm: str | None = None
    ) -> dict[str, Any]:
        """Change a PO by hand in QBO: a sparse update from the UI (new SyncToken, webhook)."""
        return self.edit_record("PurchaseOrder", po_id, changes, realm=realm)

    def edit_record(
        self, entity: str, rid: str, changes: dict[str, Any], *, realm: str | None = None
    ) -> dict[str, Any]:
        realm = self._realm(realm)
        current = self.get_record(realm, entity, str(rid))
        if current is None:
            raise KeyError(f"no {entity} {rid}")
        body = {**copy.deepcopy(changes), "Id": current["Id"], "SyncToken": current["SyncToken"]}
        body["sparse"] = True
        try:
            return copy.deepcopy(self.update(realm, entity, body, allow_dup=True))
        finally:
            self.flush_events()

    # -- routes ----------------------------------------------------------------------------------

    def _control_api_routes(self) -> None:
        base = "/_sandbox/quickbooks"
        self.route("POST", base + "/apps", self._ctl_app, write=False)
        self.route("POST", base + "/webhooks", self._ctl_hook, write=False)
        self.route("POST", base + "/companies", self._ctl_company, write=False)
        self.route("POST", base + "/{realm}/tokens", self._ctl_token, write=False)
        self.route("POST", base + "/{realm}/bills/{rid}/pay", self._ctl_pay_bill, write=False)
        self.route("POST", base + "/{realm}/invoices/{rid}/pay", self._ctl_pay_invoice, write=False)
        self.route("POST", base + "/{realm}/{entity}/{rid}/edit", self._ctl_edit, write=False)
        self.route("GET", base + "/{realm}/{entity}/{rid}", self._ctl_read, write=False)
        self.route("GET", base + "/{realm}/{entity}", self._ctl_list, write=False)

    def _ctl(self, fn) -> httpx.Response:
        try:
            return json_response(200, fn())
        except KeyError as exc:
            return json_response(404, {"error": str(exc.args[0] if exc.args else exc)})
        except QBOError as err:
            return json_response(400, {"Fault": err.fault()})
        except (TypeError, ValueError) as exc:
            return json_response(400, {"error": str(exc)})

    def _ctl_app(self, req: Req) -> httpx.Response:
        body = req.json() or {}
        return self._ctl(
            lambda: (
                self.register_app(
                    body["client_id"], body["client_secret"], body.get("redirect_uris", [])
                )
                or {"client_id": body["client_id"]}
            )
        )

    def _ctl_hook(self, req: Req) -> httpx.Response:
        body = req.json() or {}
        return self._ctl(
            lambda: self.register_webhook(
                body["url"], body["verifier_token"], body.get("format", "legacy")
            )
        )

    def _ctl_company(self, req: Req) -> httpx.Response:
        body = req.json() or {}
        return self._ctl(
            lambda: (
                self.add_company(body["realm_id"], body.get("name", "Sandbox Company"))
                or {"realm_id": body["realm_id"]}
            )
        )

    def _ctl_token(self, req: Req) -> httpx.Response:
        body = req.json() or {}
        return self._ctl(
            lambda: self.issue_token_for_tests(body.get("client_id"), req.params["realm"])
        )

    def _ctl_pay_bill(self, req: Req) -> httpx.Response:
        body = req.json() or {}
        return self._ctl(
            lambda: self.mark_bill_paid(
                req.params["rid"],
                realm=req.params["realm"],
                amount=body.get("amount"),
                pay_type=body.get("pay_type", "Check"),
                txn_date=body.get("txn_date"),
            )
        )

    def _ctl_pay_invoice(self, req: Req) -> httpx.Response:
        body = req.json() or {}
        return self._ctl(
            lambda: self.mark_invoice_paid(
                req.params["rid"],
                realm=req.params["realm"],
                amount=body.get("amount"),
                txn_date=body.get("txn_date"),
            )
        )

    def _ctl_entity(self, req: Req) -> str:
        name = req.params["entity"]
        entity = E.BY_LOWER.get(name.lower().rstrip("s")) or E.BY_LOWER.get(name.lower())
        if entity is None:
            raise KeyError(f"unknown entity {name}")
        return entity

    def _ctl_edit(self, req: Req) -> httpx.Response:
        body = req.json() or {}
        return self._ctl(
            lambda: self.edit_record(
                self._ctl_entity(req), req.params["rid"], body, realm=req.params["realm"]
            )
        )

    def _ctl_read(self, req: Req) -> httpx.Response:
        def fetch() -> dict[str, Any]:
            rec = self.read(self._ctl_entity(req), req.params["rid"], req.params["realm"])
            if rec is None:
                raise KeyError("no such record")
            return rec

        return self._ctl(fetch)

    def _ctl_list(self, req: Req) -> httpx.Response:
        return self._ctl(lambda: self.records(self._ctl_entity(req), req.params["realm"]))
