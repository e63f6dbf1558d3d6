"""Commitments (§5.1, §5.4): work order contracts (subcontracts) and purchase order contracts
with their SOV line items, commitment change orders and contract payments.

WOCs and POCs share the ``commitments`` collection (one id space, so ``/commitments/{id}``
works); ``type`` tells them apart. Header totals are recomputed from lines, change orders,
requisitions and payments on every change, and bump ``updated_at``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from sandboxes.core import Req

from .base import CENT, as_int, body_of, public
from .errors import ApiError, invalid, not_found, pjson

KINDS = {
    "work_order_contracts": ("WorkOrderContract", "work_order_contract", "Work Order Contracts"),
    "purchase_order_contracts": (
        "PurchaseOrderContract",
        "purchase_order_contract",
        "Purchase Order Contracts",
    ),
}
STATUSES = {  # §5.3
    "WorkOrderContract": {
        "Draft",
        "Out For Bid",
        "Out For Signature",
        "Approved",
        "Complete",
        "Terminated",
        "Void",
    },
    "PurchaseOrderContract": {
        "Draft",
        "Processing",
        "Submitted",
        "Partially Received",
        "Received",
        "Approved",
        "Closed",
    },
}
LOCKED_SOV = {"Approved", "Complete"}  # §5: approved/complete: no SOV edits, no delete
COMMON = (
    "number",
    "title",
    "status",
    "accounting_method",
    "executed",
    "private",
    "description",
    "payment_terms",
    "retainage_percent",
    "contract_date",
    "approval_letter_date",
    "execution_date",
    "issued_on_date",
    "letter_of_intent_date",
    "returned_date",
    "signed_contract_received_date",
    "show_line_items_to_non_admins",
    "vendor_id",
)
WOC_ONLY = (
    "inclusions",
    "exclusions",
    "contract_start_date",
    "contract_estimated_completion_date",
    "actual_completion_date",
)
POC_ONLY = (
    "assignee",
    "bill_to_address",
    "ship_to_address",
    "ship_via",
    "delivery_date",
    "billing_schedule_of_values_status",
)
LINE_FIELDS = (
    "description",
    "amount",
    "quantity",
    "unit_cost",
    "uom",
    "cost_code_id",
    "line_item_type_id",
    "tax_code_id",
    "position",
)
ZERO = Decimal("0.00")


class CommitmentsMixin:
    store: Any

    def _commitment_routes(self) -> None:
        r = self.api
        for plural in KINDS:
            base = f"/rest/v1.0/{plural}"
            r("GET", base, self._commitments)
            r("POST", base, self._commitment_create)
            r("PATCH", f"{base}/sync", self._commitments_sync)
            r("GET", f"{base}/{{id}}", self._commitment_show)
            r("PATCH", f"{base}/{{id}}", self._commitment_patch)
            r("DELETE", f"{base}/{{id}}", self._commitment_delete)
            r("GET", f"{base}/{{cid}}/line_items", self._lines)
            r("POST", f"{base}/{{cid}}/line_items", self._line_create)
            r("PATCH", f"{base}/{{cid}}/line_items/sync", self._lines_sync)
            r("GET", f"{base}/{{cid}}/line_items/{{id}}", self._line_show)
            r("PATCH", f"{base}/{{cid}}/line_items/{{id}}", self._line_patch)
            r("DELETE", f"{base}/{{cid}}/line_items/{{id}}", self._line_delete)
        r("GET", "/rest/v1.0/commitments", self._commitments)
        r("GET", "/rest/v1.0/commitments/{id}", self._commitment_show)

    # -- rendering ---------------------------------------------------------------------------

    def render_commitment(self, rec: dict[str, Any], extended: bool = False) -> dict[str, Any]:
        out = public(rec)
        project = self.store.get("projects", rec["_scope"])
        vendor = self.store.get("vendors", rec.get("_vendor_id")) if rec.get("_vendor_id") else None
        out["project"] = {
            "id": project["id"],
            "name": project["name"],
            "origin_id": project["origin_id"],
            "origin_data": project["origin_data"],
        }
        out["vendor"] = vendor and {
            "id": vendor["id"],
            "company": vendor["name"],
            "origin_id": vendor["origin_id"],
            "origin_data": vendor["origin_data"],
        }
        if extended:
            out["line_items"] = [
                self.render_line(x) for x in self.scoped("commitment_line_items", rec["id"])
            ]
            out["attachments"] = []
            out["currency_configuration"] = {"currency_iso_code": project.get("_currency", "USD")}
        return out

    def render_line(self, rec: dict[str, Any]) -> dict[str, Any]:
        out = public(rec)
        cc = (
            self.store.get("cost_codes", rec["_cost_code_id"]) if rec.get("_cost_code_id") else None
        )
        lit = (
            self.store.get("line_item_types", rec["_line_item_type_id"])
            if rec.get("_line_item_type_id")
            else None
        )
        out["cost_code"] = cc and {
            k: cc[k]
            for k in (
                "id",
                "name",
                "full_code",
                "code",
                "origin_id",
                "biller",
                "biller_id",
                "biller_type",
                "parent",
            )
        }
        out["line_item_type"] = lit and {
            k: lit[k] for k in ("id", "base_type", "code", "name", "origin_id", "origin_data")
        }
        out["wbs_code"] = rec.get("_wbs")
        return out

    def _lookup_cost(self, project_id: int, data: dict[str, Any]) -> tuple[Any, Any]:
        cid = self.company_id_for(project_id)
        cc = lit = None
        if data.get("cost_code_id"):
            cc = self.store.get("cost_codes", data["cost_code_id"])
            if cc is None or cc["_scope"] != project_id:  # §4: "a cost code that does not exist"
                raise invalid("cost_code_id", "does not exist")
        if data.get("line_item_type_id"):
            lit = self.store.get("line_item_types", data["line_item_type_id"])
            if lit is None or lit["_company_id"] != cid:
                raise invalid("line_item_type_id", "does not exist")
        return cc, lit

    def company_id_for(self, project_id: int) -> int:
        return self.store.get("projects", project_id)["_company_id"]

    # -- commitments -------------------------------------------------------------------------

    def create_commitment(self, project: dict[str, Any], kind: str, data: dict[str, Any]):
        ctype = KINDS[kind][0]
        cid = project["_company_id"]
        status = data.get("status", "Draft")
        if status not in STATUSES[ctype]:
            raise invalid("status", "is not included in the list")
        vendor_id = data.get("vendor_id")
        if vendor_id is not None:
            self.get_rec("vendors", vendor_id, company_id=cid)
        number = data.get("number") or str(len(self.scoped("commitments", project["id"])) + 1)
        rec: dict[str, Any] = {
            "id": self.new_id(),
            "type": ctype,
            "number": number,
            "title": data.get("title"),
            "status": status,
            "accounting_method": "amount",
            "executed": False,
            "private": True,
            "description": "",
            "payment_terms": None,
            "retainage_percent": None,
            "contract_date": None,
            "approval_letter_date": None,
            "execution_date": None,
            "issued_on_date": None,
            "letter_of_intent_date": None,
            "returned_date": None,
            "signed_contract_received_date": None,
            "show_line_items_to_non_admins": False,
            "requisitions_are_enabled": ctype == "WorkOrderContract",
            "origin_id": None,
            "origin_code": None,
            "origin_data": None,
            "deleted_at": None,
            "_company_id": cid,
            "_vendor_id": vendor_id and int(vendor_id),
            "vendor_id": vendor_id and int(vendor_id),
        }
        for name in WOC_ONLY if ctype == "WorkOrderContract" else POC_ONLY:
            rec[name] = "" if name in ("inclusions", "exclusions") else None
        if ctype == "PurchaseOrderContract":
            rec["billing_schedule_of_values_status"] = "draft"
        if data.get("origin_id") is not None:
            self.claim_origin("commitments", rec, data["origin_id"])
        fields = COMMON + (WOC_ONLY if ctype == "WorkOrderContract" else POC_ONLY)
        self.apply(
            "commitments",
            rec,
            {k: v for k, v in data.items() if k != "origin_id"},
            fields,
            ("retainage_percent",),
        )
        self.insert("commitments", rec, scope=project["id"], company_id=cid)
        self.recompute(rec, event=False)
        self.emit(KINDS[kind][2], "create", rec, project_id=project["id"])
        return rec

    def update_commitment(
        self, rec: dict[str, Any], data: dict[str, Any], *, person: bool = False
    ) -> dict[str, Any]:
        ctype = rec["type"]
        if "status" in data and data["status"] not in STATUSES[ctype]:
            raise invalid("status", "is not included in the list")
        if "vendor_id" in data and data["vendor_id"] is not None:
            self.get_rec("vendors", data["vendor_id"], company_id=rec["_company_id"])
            rec["_vendor_id"] = int(data["vendor_id"])
        fields = COMMON + (WOC_ONLY if ctype == "WorkOrderContract" else POC_ONLY)
        self.apply("commitments", rec, data, fields, ("retainage_percent",))
        self.emit(self.commitment_resource(rec), "update", rec, project_id=rec["_scope"])
        return rec

    def commitment_resource(self, rec: dict[str, Any]) -> str:
        return (
            "Work Order Contracts"
            if rec["type"] == "WorkOrderContract"
            else "Purchase Order Contracts"
        )

    def delete_commitment(self, rec: dict[str, Any], *, person: bool = False) -> None:
        if rec["status"] in LOCKED_SOV and not person:
            raise ApiError(422, {"base": [f"{rec['status']} commitments cannot be deleted"]})
        rec["deleted_at"] = self.now_iso()  # soft delete: filters[include_deleted]=with|only
        self.touch(rec)
        self.emit(self.commitment_resource(rec), "delete", rec, project_id=rec["_scope"])

    def recompute(self, rec: dict[str, Any], event: bool = True) -> None:
        """Header totals (§5.4 WOC example field set)."""
        lines = self.scoped("commitment_line_items", rec["id"])
        grand = sum((x["amount"] for x in lines), ZERO)
        by_status: dict[str, Decimal] = {}
        for cco in self.scoped("change_orders", rec["id"]):
            if not cco.get("deleted_at"):
                by_status[cco["status"]] = by_status.get(cco["status"], ZERO) + cco["grand_total"]
        paid = sum(
            (
                p["amount"]
                for p in self.scoped("contract_payments", rec["id"])
                if not p.get("deleted_at")
            ),
            ZERO,
        )
        billed = sum(
            (
                q["_this_period"]
                for q in self.scoped("requisitions", rec["id"])
                if not q.get("deleted_at")
            ),
            ZERO,
        )
        approved, pending = by_status.get("approved", ZERO), by_status.get("pending", ZERO)
        revised = grand + approved
        rec.update(
            {
                "grand_total": grand,
                "approved_change_orders": approved,
                "pending_change_orders": pending,
                "draft_change_orders_amount": by_status.get("draft", ZERO),
                "revised_contract": revised,
                "pending_revised_contract": revised + pending,
                "total_payments": paid,
                "percentage_paid": (paid * 100 / revised).quantize(CENT) if revised else ZERO,
                "remaining_balance_outstanding": revised - paid,
                "total_requisitions_amount": billed,
                "total_draw_requests_amount": ZERO,
            }
        )
        if event:
            self.touch(rec)

    def _kind(self, req: Req) -> str:
        return req.path.split("/")[3]

    def _commitment(self, req: Req, key: str = "id") -> dict[str, Any]:
        rec = self.get_rec("commitments", req.params[key], company_id=self.company_id())
        kind = self._kind(req)
        if kind in KINDS and rec["type"] != KINDS[kind][0]:
            raise not_found()
        return rec

    def _commitments(self, req: Req) -> httpx.Response:
        project = self.project_of(req)
        rows = self.scoped("commitments", project["id"])
        kind = self._kind(req)
        if kind in KINDS:
            rows = [c for c in rows if c["type"] == KINDS[kind][0]]
        extended = req.arg("view") == "extended"
        return self.paginate(
            req, self.filtered(req, rows), lambda c: self.render_commitment(c, extended)
        )

    def _commitment_show(self, req: Req) -> httpx.Response:
        rec = self._commitment(req)
        if req.arg("project_id") and as_int(req.arg("project_id"), "project_id") != rec["_scope"]:
            raise not_found()
        return pjson(200, self.render_commitment(rec, extended=True))

    def _commitment_create(self, req: Req) -> httpx.Response:
        kind = self._kind(req)
        project = self.project_of(req, body_of(req))
        rec = self.create_commitment(project, kind, body_of(req, KINDS[kind][1]))
        return pjson(201, self.render_commitment(rec, extended=True))

    def _commitment_patch(self, req: Req) -> httpx.Response:
        rec = self._commitment(req)
        rec = self.update_commitment(rec, body_of(req, KINDS[self._kind(req)][1]))
        return pjson(200, self.render_commitment(rec, extended=True))

    def _commitment_delete(self, req: Req) -> httpx.Response:
        self.delete_commitment(self._commitment(req))
        return httpx.Response(204)

    def _commitments_sync(self, req: Req) -> httpx.Response:
        kind = self._kind(req)
        project = self.project_of(req, body_of(req))
        return self.run_sync(
            req,
            "commitments",
            self.company_id(),
            lambda d: self.create_commitment(project, kind, d),
            self.update_commitment,
            lambda c: self.render_commitment(c, True),
        )
