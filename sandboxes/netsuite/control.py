"""Acting as a person in the NetSuite UI: pay a bill or an invoice, edit or approve a PO, read.

Each action goes through the same write path as the API (validation, lastModifiedDate, events),
as a UI save would. Routes under ``/_sandbox/netsuite/...``; the same actions are plain methods.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx

from ..core import Req, json_response
from .errors import NSError
from .records import record_type
from .schema import RECORD_TYPES

if TYPE_CHECKING:
    from .app import NetSuiteSandbox


class Control:
    def __init__(self, sandbox: NetSuiteSandbox) -> None:
        self.sb = sandbox

    def _load(self, rtype: str, rid: str) -> dict[str, Any]:
        rec = self.sb.books.get(rtype, str(rid))
        if rec is None:
            raise KeyError(f"no {rtype} {rid}")
        return rec

    # -- actions ------------------------------------------------------------------------------

    def mark_bill_paid(
        self,
        bill_id: str,
        *,
        amount: Decimal | None = None,
        account: str | None = None,
        tran_date: str | None = None,
        memo: str = "Paid in NetSuite",
    ) -> str:
        """Pay a vendor bill (in full unless ``amount``): creates a vendorPayment applying to it."""
        bill = self._load("vendorBill", bill_id)
        body: dict[str, Any] = {
            "entity": {"id": bill["entity"]["id"]},
            "subsidiary": {"id": bill["subsidiary"]["id"]},
            "currency": {"id": bill["currency"]["id"]},
            "memo": memo,
            "apply": {
                "items": [
                    {
                        "doc": {"id": bill["id"]},
                        "apply": True,
                        **({"amount": amount} if amount is not None else {}),
                    }
                ]
            },
        }
        if account:
            body["account"] = {"id": account}
        if tran_date:
            body["tranDate"] = tran_date
        pay, _ = self.sb.books.create(RECORD_TYPES["vendorPayment"], body)
        return pay["id"]

    def mark_invoice_paid(
        self,
        invoice_id: str,
        *,
        amount: Decimal | None = None,
        account: str | None = None,
        tran_date: str | None = None,
        memo: str = "Payment received",
    ) -> str:
        inv = self._load("invoice", invoice_id)
        body: dict[str, Any] = {
            "customer": {"id": inv["entity"]["id"]},
            "subsidiary": {"id": inv["subsidiary"]["id"]},
            "currency": {"id": inv["currency"]["id"]},
            "memo": memo,
            "apply": {
                "items": [
                    {
                        "doc": {"id": inv["id"]},
                        "apply": True,
                        **({"amount": amount} if amount is not None else {}),
                    }
                ]
            },
        }
        if account:
            body["account"] = {"id": account}
        if tran_date:
            body["tranDate"] = tran_date
        pay, _ = self.sb.books.create(RECORD_TYPES["customerPayment"], body)
        return pay["id"]

    def edit_purchase_order(
        self,
        po_id: str,
        *,
        line: int | None = None,
        amount: Decimal | None = None,
        rate: Decimal | None = None,
        quantity: Decimal | None = None,
        memo: str | None = None,
        line_memo: str | None = None,
        sublist: str = "item",
    ) -> None:
        """A hand edit in the UI: change one line's amount/rate/quantity/description, or the
        header memo. Bumps lastModifiedDate and fires the event like any save."""
        po = self._load("purchaseOrder", po_id)
        body: dict[str, Any] = {}
        if memo is not None:
            body["memo"] = memo
        if line is not None:
            change: dict[str, Any] = {"line": int(line)}
            if amount is not None:
                change["amount"] = Decimal(str(amount))
            if rate is not None:
                change["rate"] = Decimal(str(rate))
            if quantity is not None:
                change["quantity"] = Decimal(str(quantity))
            if amount is not None and rate is None:
                change["rate"] = Decimal(str(amount)) / (quantity or self._qty(po, sublist, line))
            if line_memo is not None:
                change["description" if sublist == "item" else "memo"] = line_memo
            body[sublist] = {"items": [change]}
        self.sb.books.update(RECORD_TYPES["purchaseOrder"], po, body)

    @staticmethod
    def _qty(po: dict[str, Any], sublist: str, line: int) -> Decimal:
        for ln in (po.get(sublist) or {}).get("items", []):
            if ln.get("line") == int(line):
                return ln.get("quantity") or Decimal("1")
        raise KeyError(f"no line {line}")

    def approve_purchase_order(self, po_id: str) -> None:
        po = self._load("purchaseOrder", po_id)
        self.sb.books.update(RECORD_TYPES["purchaseOrder"], po, {"approvalStatus": {"id": "2"}})

    def read(self, rtype: str, rid: str, *, expand: bool = True) -> dict[str, Any]:
        rt = record_type(rtype)
        rec = self._load(rt.name, rid)
        base = (
            f"https://{self.sb.account_id.lower().replace('_', '-')}"
            ".suitetalk.api.netsuite.com/services/rest/record/v1"
        )
        return self.sb.records.render(rt, rec, base, expand=expand)

    # -- routes -------------------------------------------------------------------------------

    def routes(self) -> None:
        sb = self.sb
        prefix = "/_sandbox/netsuite"
        sb.route("POST", f"{prefix}/vendorBill/{{rid}}/pay", self._r_bill_paid, write=False)
        sb.route("POST", f"{prefix}/invoice/{{rid}}/pay", self._r_invoice_paid, write=False)
        sb.route("POST", f"{prefix}/purchaseOrder/{{rid}}/edit", self._r_edit_po, write=False)
        sb.route("POST", f"{prefix}/purchaseOrder/{{rid}}/approve", self._r_approve, write=False)
        sb.route("GET", f"{prefix}/record/{{rtype}}/{{rid}}", self._r_read, write=False)
        sb.route("POST", f"{prefix}/event-targets", self._r_target, write=False)
        sb.route("POST", f"{prefix}/certificates", self._r_certificate, write=False)

    def _wrap(self, fn: Any, req: Req) -> httpx.Response:
        try:
            return fn()
        except KeyError as exc:
            return json_response(404, {"error": str(exc).strip("'\"")})
        except NSError as exc:
            return exc.response()

    def _r_bill_paid(self, req: Req) -> httpx.Response:
        body = req.json() or {}

        def run() -> httpx.Response:
            pid = self.mark_bill_paid(
                req.params["rid"],
                amount=body.get("amount"),
                account=body.get("account"),
                tran_date=body.get("tranDate"),
            )
            return json_response(200, {"vendorPayment": pid})

        return self._wrap(run, req)

    def _r_invoice_paid(self, req: Req) -> httpx.Response:
        body = req.json() or {}

        def run() -> httpx.Response:
            pid = self.mark_invoice_paid(
                req.params["rid"],
                amount=body.get("amount"),
                account=body.get("account"),
                tran_date=body.get("tranDate"),
            )
            return json_response(200, {"customerPayment": pid})

        return self._wrap(run, req)

    def _r_edit_po(self, req: Req) -> httpx.Response:
        body = req.json() or {}
        allowed = {"line", "amount", "rate", "quantity", "memo", "line_memo", "sublist"}

        def run() -> httpx.Response:
            self.edit_purchase_order(
                req.params["rid"], **{k: v for k, v in body.items() if k in allowed}
            )
            return json_response(200, self.read("purchaseOrder", req.params["rid"]))

        return self._wrap(run, req)

    def _r_approve(self, req: Req) -> httpx.Response:
        def run() -> httpx.Response:
            self.approve_purchase_order(req.params["rid"])
            return json_response(200, self.read("purchaseOrder", req.params["rid"]))

        return self._wrap(run, req)

    def _r_read(self, req: Req) -> httpx.Response:
        return self._wrap(
            lambda: json_response(200, self.read(req.params["rtype"], req.params["rid"])), req
        )

    def _r_target(self, req: Req) -> httpx.Response:
        body = req.json() or {}
        if not body.get("url") or not body.get("secret"):
            return json_response(400, {"error": "url and secret are required"})
        self.sb.register_event_target(body["url"], body["secret"])
        return json_response(200, {"targets": [t["url"] for t in self.sb.events.targets]})

    def _r_certificate(self, req: Req) -> httpx.Response:
        """What an admin does on Setup > Integration > OAuth 2.0 Client Credentials (M2M)
        Setup: map a certificate (public key) to an integration, getting a certificate id."""
        body = req.json() or {}
        missing = [k for k in ("client_id", "certificate_id", "public_key_pem") if not body.get(k)]
        if missing:
            return json_response(400, {"error": f"missing: {', '.join(missing)}"})
        try:
            self.sb.register_certificate(
                body["client_id"], body["certificate_id"], body["public_key_pem"]
            )
        except ValueError as exc:
            return json_response(400, {"error": f"not a usable public key: {exc}"})
        return json_response(200, {"certificate_id": body["certificate_id"]})
