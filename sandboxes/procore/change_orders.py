"""Commitment change orders and contract payments (§5.1, §5.4).

Approving a change order or recording a payment recomputes the commitment's header totals and
fires an update for the commitment as well as for the record itself. Contract payments are how
the ERP side tells Procore a subcontractor invoice was paid (with ``requisition_id``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from sandboxes.core import Req

from .base import as_int, body_of, check_lock, money, public, require
from .errors import ApiError, bad_request, invalid, not_found, pjson

# CCO statuses are unverified (§5.4); these are the ones Procore's UI shows.
CCO_STATUSES = {"draft", "pending", "approved", "rejected", "void", "no_charge"}
CCO_FIELDS = (
    "number",
    "title",
    "description",
    "status",
    "executed",
    "private",
    "due_date",
    "invoiced_date",
    "reference",
    "schedule_impact_amount",
    "paid",
    "field_change",
    "signature_required",
    "signed_change_order_received_date",
)
PAYMENT_FIELDS = (
    "amount",
    "date",
    "invoice_number",
    "payment_number",
    "check_number",
    "draw_request_number",
    "notes",
    "status",
    "requisition_id",
    "invoice_date",
    "payment_method",
    "retainage_released_payment_amount",
)
ZERO = Decimal("0.00")


class ChangeOrdersMixin:
    store: Any

    def _change_order_routes(self) -> None:
        r = self.api
        cco = "/rest/v1.0/projects/{project_id}/commitment_change_orders"
        r("GET", cco, self._ccos)
        r("POST", cco, self._cco_create)
        r("GET", f"{cco}/{{id}}", self._cco_show)
        r("PATCH", f"{cco}/{{id}}", self._cco_patch)
        r("DELETE", f"{cco}/{{id}}", self._cco_delete)
        r("GET", "/rest/v1.0/contract_payments", self._payments)
        r("POST", "/rest/v1.0/contract_payments", self._payment_create)
        r("GET", "/rest/v1.0/contract_payments/{id}", self._payment_show)
        r("PATCH", "/rest/v1.0/contract_payments/{id}", self._payment_patch)
        r("DELETE", "/rest/v1.0/contract_payments/{id}", self._payment_delete)

    # -- commitment change orders ------------------------------------------------------------

    def create_cco(self, project: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        require(data, "contract_id")
        contract = self.get_rec(
            "commitments", data["contract_id"], company_id=project["_company_id"]
        )
        if contract["_scope"] != project["id"]:
            raise invalid("contract_id", "does not exist")
        status = data.get("status", "draft")
        if status not in CCO_STATUSES:
            raise invalid("status", "is not included in the list")
        lines = []
        for item in data.get("line_items") or []:
            cc, lit = self._lookup_cost(project["id"], item)
            amount = money(item.get("amount"))
            lines.append(
                {
                    "id": self.new_id(),
                    "description": item.get("description"),
                    "amount": amount,
                    "cost_code_id": cc and cc["id"],
                    "line_item_type_id": lit and lit["id"],
                    "wbs_code": self.wbs_code(project["id"], cc, lit),
                    "contract_line_item_id": item.get("line_item_id"),
                }
            )
        number = data.get("number") or str(len(self.scoped("change_orders", contract["id"])) + 1)
        rec: dict[str, Any] = {
            "id": self.new_id(),
            "batch_id": None,
            "contract_id": contract["id"],
            "legacy_package_id": None,
            "legacy_request_id": None,
            "number": number,
            "title": data.get("title"),
            "description": data.get("description"),
            "status": status,
            "type": f"{contract['type']}ChangeOrder",
            "revision": 0,
            "executed": False,
            "paid": False,
            "private": False,
            "field_change": False,
            "signature_required": False,
            "schedule_impact_amount": None,
            "grand_total": sum((x["amount"] for x in lines), money(0)),
            "invoiced_date": None,
            "due_date": None,
            "reviewed_at": None,
            "signed_change_order_received_date": None,
            "reference": None,
            "created_by": {"id": self._actor.user_id},
            "reviewed_by": None,
            "line_items": lines,
            "origin_id": None,
            "origin_code": None,
            "origin_data": None,
            "currency_configuration": {"currency_iso_code": project.get("_currency", "USD")},
            "deleted_at": None,
            "_company_id": project["_company_id"],
            "_project_id": project["id"],
        }
        if data.get("origin_id") is not None:
            self.claim_origin("change_orders", rec, data["origin_id"])
        if status == "approved":
            rec["reviewed_at"] = self.now_iso()
        self.insert("change_orders", rec, scope=contract["id"], company_id=rec["_company_id"])
        self.recompute(contract)
        self.emit("Commitment Change Orders", "create", rec, project_id=project["id"])
        return rec

    def update_cco(self, rec: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        if "status" in data and data["status"] not in CCO_STATUSES:
            raise invalid("status", "is not included in the list")
        content = {
            k for k in data if k not in ("status", "origin_id", "origin_data", "origin_code")
        }
        if rec["status"] == "approved" and content:
            raise ApiError(422, {"base": ["an approved change order cannot be edited"]})
        if data.get("status") == "approved" and rec["status"] != "approved":
            rec["reviewed_at"] = self.now_iso()
            rec["reviewed_by"] = {"id": self._actor.user_id}
        self.apply("change_orders", rec, data, CCO_FIELDS)
        contract = self.store.get("commitments", rec["contract_id"])
        self.recompute(contract)
        self.emit("Commitment Change Orders", "update", rec, project_id=rec["_project_id"])
        self.emit(
            self.commitment_resource(contract), "update", contract, project_id=rec["_project_id"]
        )
        return rec

    def _cco(self, req: Req) -> dict[str, Any]:
        project = self.project_of(req)
        rec = self.get_rec("change_orders", req.params["id"], company_id=self.company_id())
        if rec["_project_id"] != project["id"]:
            raise not_found()
        return rec

    def _ccos(self, req: Req) -> httpx.Response:
        # §5.2: this list is not paginated; filters[contract_id] narrows it.
        project = self.project_of(req)
        rows = []
        for contract in self.scoped("commitments", project["id"]):
            rows.extend(self.scoped("change_orders", contract["id"]))
        rows.sort(key=lambda r: r["id"])
        return pjson(200, [public(r) for r in self.filtered(req, rows)])

    def _cco_show(self, req: Req) -> httpx.Response:
        return pjson(200, public(self._cco(req)))

    def _cco_create(self, req: Req) -> httpx.Response:
        project = self.project_of(req)
        return pjson(201, public(self.create_cco(project, body_of(req, "commitment_change_order"))))

    def _cco_patch(self, req: Req) -> httpx.Response:
        rec = self._cco(req)
        return pjson(200, public(self.update_cco(rec, body_of(req, "commitment_change_order"))))

    def _cco_delete(self, req: Req) -> httpx.Response:
        rec = self._cco(req)
        if rec["status"] == "approved":
            raise ApiError(422, {"base": ["an approved change order cannot be deleted"]})
        rec["deleted_at"] = self.now_iso()
        self.touch(rec)
        self.recompute(self.store.get("commitments", rec["contract_id"]))
        self.emit("Commitment Change Orders", "delete", rec, project_id=rec["_project_id"])
        return httpx.Response(204)

    # -- contract payments (payments issued on commitments: ERP -> Procore "paid") ------------

    def create_payment(self, contract: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        require(data, "amount", "date")
        if data.get("requisition_id"):
            req_rec = self.get_rec(
                "requisitions", data["requisition_id"], company_id=contract["_company_id"]
            )
            if req_rec["commitment_id"] != contract["id"]:
                raise invalid("requisition_id", "does not belong to this contract")
        rec: dict[str, Any] = {
            "id": self.new_id(),
            "project_id": contract["_scope"],
            "contract_id": contract["id"],
            "requisition_id": None,
            "amount": ZERO,
            "date": None,
            "invoice_number": None,
            "payment_number": None,
            "check_number": None,
            "draw_request_number": None,
            "notes": None,
            "status": "paid",
            "external_payment_id": None,
            "date_payment_initiated": None,
            "date_payment_settled": None,
            "origin_id": None,
            "origin_code": None,
            "origin_data": None,
            "attachments": [],
            "deleted_at": None,
            "_company_id": contract["_company_id"],
        }
        if data.get("origin_id") is not None:
            self.claim_origin("contract_payments", rec, data["origin_id"])
        self.apply(
            "contract_payments",
            rec,
            {k: v for k, v in data.items() if k != "origin_id"},
            PAYMENT_FIELDS,
            ("amount", "retainage_released_payment_amount"),
        )
        self.insert(
            "contract_payments", rec, scope=contract["id"], company_id=contract["_company_id"]
        )
        self.recompute(contract)
        self.emit("Contract Payments", "create", rec, project_id=contract["_scope"])
        self.emit(
            self.commitment_resource(contract), "update", contract, project_id=contract["_scope"]
        )
        return rec

    def _payment(self, req: Req) -> dict[str, Any]:
        return self.get_rec("contract_payments", req.params["id"], company_id=self.company_id())

    def _payments(self, req: Req) -> httpx.Response:
        project = self.project_of(req)
        raw = req.arg("contract_id")
        if raw is None:
            raise bad_request("contract_id is missing")
        contract = self.get_rec(
            "commitments", as_int(raw, "contract_id"), company_id=self.company_id()
        )
        if contract["_scope"] != project["id"]:
            raise not_found()
        return self.paginate(
            req, self.filtered(req, self.scoped("contract_payments", contract["id"]))
        )

    def _payment_show(self, req: Req) -> httpx.Response:
        return pjson(200, public(self._payment(req)))

    def _payment_create(self, req: Req) -> httpx.Response:
        data = body_of(req)
        project = self.project_of(req, data)
        raw = data.get("contract_id") or req.arg("contract_id")
        if raw is None:
            raise bad_request("contract_id is missing")
        contract = self.get_rec("commitments", raw, company_id=self.company_id())
        if contract["_scope"] != project["id"]:
            raise not_found()
        # Body wrapper unverified; "payment" (and "contract_payment") accepted.
        inner = data.get("payment") or data.get("contract_payment")
        if not isinstance(inner, dict):
            raise bad_request("payment is missing")
        return pjson(201, public(self.create_payment(contract, inner)))

    def _payment_patch(self, req: Req) -> httpx.Response:
        rec = self._payment(req)
        data = body_of(req)
        changes = data.get("payment") or data.get("contract_payment") or {}
        check_lock(rec, changes, "Payment")
        self.apply("contract_payments", rec, changes, PAYMENT_FIELDS, ("amount",))
        contract = self.store.get("commitments", rec["contract_id"])
        self.recompute(contract)
        self.emit("Contract Payments", "update", rec, project_id=rec["project_id"])
        return pjson(200, public(rec))

    def _payment_delete(self, req: Req) -> httpx.Response:
        rec = self._payment(req)
        check_lock(rec, {"deleted": True}, "Payment")
        rec["deleted_at"] = self.now_iso()
        self.touch(rec)
        self.recompute(self.store.get("commitments", rec["contract_id"]))
        self.emit("Contract Payments", "delete", rec, project_id=rec["project_id"])
        return httpx.Response(204)
