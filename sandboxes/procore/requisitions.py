"""Subcontractor invoices (requisitions, §5.4) with contract items and G702 retainage math.

Requisitions are listed under their commitment (``_scope``); every change recomputes all the
requisitions of that commitment in ``number`` order, so "from previous application" columns and
``less_previous_certificates_for_payment`` stay consistent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from sandboxes.core import Req

from .base import CENT, ORIGIN_FIELDS, as_int, body_of, check_lock, money, public
from .errors import ApiError, bad_request, invalid, not_found, pjson

STATUSES = {
    "draft",
    "under_review",
    "revise_and_resubmit",
    "approved",
    "approved_as_noted",
    "pending_owner_approval",
}  # §5.3
FIELDS = (
    "invoice_number",
    "billing_date",
    "payment_date",
    "period_id",
    "requisition_start",
    "requisition_end",
    "status",
    "erp_status",
    "final",
)
# Fields an integrator may still write on a synced (origin_id) requisition: the ERP round trip
# (decision: the §5 lock is about user edits; erp_status / payment_date report ERP facts).
LOCK_EXEMPT = ORIGIN_FIELDS + ("erp_status", "payment_date")
ITEM_FIELDS = (
    "work_completed_this_period",
    "materials_presently_stored",
    "work_completed_retainage_percent_this_period",
    "materials_stored_retainage_percent_this_period",
    "work_completed_retainage_released_this_period",
    "materials_stored_retainage_released_this_period",
)
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")


def _pct(part: Decimal, whole: Decimal) -> Decimal:
    return (part * HUNDRED / whole).quantize(CENT) if whole else ZERO


class RequisitionsMixin:
    store: Any

    def _requisition_routes(self) -> None:
        r = self.api
        for ver in ("v1.0", "v1.1"):
            r("GET", f"/rest/{ver}/requisitions", self._requisitions)
            r("GET", f"/rest/{ver}/requisitions/{{id}}", self._requisition_show)
        r("POST", "/rest/v1.0/requisitions", self._requisition_create)
        r("PATCH", "/rest/v1.0/requisitions/{id}", self._requisition_patch)
        r("DELETE", "/rest/v1.0/requisitions/{id}", self._requisition_delete)
        r("GET", "/rest/v1.0/requisitions/{id}/contract_items", self._req_items)
        r("PATCH", "/rest/v1.0/requisitions/{id}/contract_items/{item_id}", self._req_item_patch)

    def create_requisition(self, commitment: dict[str, Any], data: dict[str, Any]) -> dict:
        if commitment.get("deleted_at"):
            raise not_found()
        status = data.get("status", "draft")
        if status not in STATUSES:
            raise invalid("status", "is not included in the list")
        existing = self.scoped("requisitions", commitment["id"])
        vendor = self.store.get("vendors", commitment.get("_vendor_id") or 0)
        pct = commitment.get("retainage_percent") or ZERO
        items = []
        for line in self.scoped("commitment_line_items", commitment["id"]):
            items.append(
                {
                    "id": self.new_id(),
                    "line_item_id": line["id"],
                    "cost_code_id": line.get("_cost_code_id"),
                    "description_of_work": line.get("description"),
                    "scheduled_value": line["amount"],
                    "work_completed_this_period": ZERO,
                    "materials_presently_stored": ZERO,
                    "work_completed_retainage_percent_this_period": pct,
                    "materials_stored_retainage_percent_this_period": pct,
                    "work_completed_retainage_released_this_period": ZERO,
                    "materials_stored_retainage_released_this_period": ZERO,
                }
            )
        rec: dict[str, Any] = {
            "id": self.new_id(),
            "project_id": commitment["_scope"],
            "commitment_id": commitment["id"],
            "commitment_type": commitment["type"],
            "contract_name": commitment.get("title"),
            "vendor_name": vendor and vendor["name"],
            "vendor_id": vendor and vendor["id"],
            "number": max((q["number"] for q in existing), default=0) + 1,
            "invoice_number": None,
            "billing_date": None,
            "payment_date": None,
            "period_id": None,
            "requisition_start": None,
            "requisition_end": None,
            "status": status,
            "erp_status": None,
            "submitted_at": None,
            "final": False,
            "origin_id": None,
            "origin_data": None,
            "created_by": {"id": self._actor.user_id},
            "custom_fields": {},
            "attachments": [],
            "deleted_at": None,
            "invoice_type": "requisition",
            "currency_configuration": {"currency_iso_code": "USD"},
            "_items": items,
            "_company_id": commitment["_company_id"],
        }
        if data.get("origin_id") is not None:
            self.claim_origin("requisitions", rec, data["origin_id"])
        self.apply(
            "requisitions",
            rec,
            {k: v for k, v in data.items() if k in FIELDS or k == "origin_data"},
            FIELDS,
        )
        if rec["invoice_number"] is not None:
            rec["invoice_number"] = str(rec["invoice_number"])
        self.insert(
            "requisitions", rec, scope=commitment["id"], company_id=commitment["_company_id"]
        )
        self.recompute_requisitions(commitment)
        self.emit("Requisitions", "create", rec, project_id=commitment["_scope"])
        return rec

    def update_requisition(
        self, rec: dict[str, Any], data: dict[str, Any], *, person: bool = False
    ) -> dict[str, Any]:
        if not person:
            check_lock(
                rec,
                {k: v for k, v in data.items() if k not in LOCK_EXEMPT},
                "Subcontractor Invoice",
            )
        if "status" in data and data["status"] not in STATUSES:
            raise invalid("status", "is not included in the list")
        if data.get("status") == "under_review" and not rec["submitted_at"]:
            rec["submitted_at"] = self.now_iso()
        self.apply("requisitions", rec, data, FIELDS)
        self.recompute_requisitions(self.store.get("commitments", rec["commitment_id"]))
        self.emit("Requisitions", "update", rec, project_id=rec["project_id"])
        return rec

    def update_requisition_item(
        self, rec: dict[str, Any], item_id: Any, data: dict[str, Any], *, person: bool = False
    ) -> dict[str, Any]:
        if not person:
            check_lock(rec, data, "Subcontractor Invoice")
            if rec["status"] in ("approved", "approved_as_noted"):
                raise ApiError(422, {"base": ["an approved invoice cannot be edited"]})
        item = next((i for i in rec["_items"] if str(i["id"]) == str(item_id)), None)
        if item is None:
            raise not_found()
        for key in ITEM_FIELDS:
            if key in data:
                item[key] = money(data[key], key)
        self.touch(rec)
        self.recompute_requisitions(self.store.get("commitments", rec["commitment_id"]))
        self.emit("Requisitions", "update", rec, project_id=rec["project_id"])
        return item

    def recompute_requisitions(self, commitment: dict[str, Any]) -> None:
        """G702/G703 columns from the items, running totals across earlier requisitions."""
        reqs = sorted(
            (q for q in self.scoped("requisitions", commitment["id"]) if not q.get("deleted_at")),
            key=lambda q: q["number"],
        )
        prev_work: dict[int, Decimal] = {}
        prev_ret: dict[int, Decimal] = {}
        earned_before = ZERO
        original = commitment.get("grand_total", ZERO)
        changes = commitment.get("approved_change_orders", ZERO)
        for q in reqs:
            work_ret = stored_ret = completed = this_period = ZERO
            for it in q["_items"]:
                line = it["line_item_id"]
                before = prev_work.get(line, ZERO)
                ret_before = prev_ret.get(line, ZERO)
                this = it["work_completed_this_period"]
                stored = it["materials_presently_stored"]
                ret_now = (
                    this * it["work_completed_retainage_percent_this_period"] / HUNDRED
                ).quantize(CENT)
                stored_now = (
                    stored * it["materials_stored_retainage_percent_this_period"] / HUNDRED
                ).quantize(CENT)
                released = it["work_completed_retainage_released_this_period"]
                to_date = before + this + stored
                it.update(
                    {
                        "work_completed_from_previous_application": before,
                        "total_completed_and_stored_to_date": to_date,
                        "total_completed_and_stored_to_date_percent": _pct(
                            to_date, it["scheduled_value"]
                        ),
                        "work_completed_retainage_from_previous_application": ret_before,
                        "work_completed_retainage_retained_this_period": ret_now,
                        "materials_stored_retainage_currently_retained": stored_now,
                    }
                )
                prev_work[line] = before + this
                prev_ret[line] = ret_before + ret_now - released
                work_ret += ret_before + ret_now - released
                stored_ret += stored_now - it["materials_stored_retainage_released_this_period"]
                completed += to_date
                this_period += this + stored
            total_ret = work_ret + stored_ret
            earned = completed - total_ret
            contract_sum = original + changes
            pct = (
                q["_items"][0]["work_completed_retainage_percent_this_period"]
                if q["_items"]
                else ZERO
            )
            q["g702"] = {
                "original_contract_sum": original,
                "net_change_by_change_orders": changes,
                "contract_sum_to_date": contract_sum,
                "total_completed_and_stored_to_date": completed,
                "completed_work_retainage_percent": pct,
                "completed_work_retainage_amount": work_ret,
                "stored_materials_retainage_percent": pct,
                "stored_materials_retainage_amount": stored_ret,
                "total_retainage": total_ret,
                "total_earned_less_retainage": earned,
                "less_previous_certificates_for_payment": earned_before,
                "current_payment_due": earned - earned_before,
                "balance_to_finish_including_retainage": contract_sum - earned,
            }
            q["percent_complete"] = f"{_pct(completed, contract_sum)}%"
            q["total_claimed_amount"] = this_period
            q["summary"] = {
                "total_retainage": total_ret,
                "current_payment_due": earned - earned_before,
            }
            q["_this_period"] = this_period
            q["deletable"] = q["status"] == "draft" and q.get("origin_id") is None
            earned_before = earned
        self.recompute(commitment)

    def render_requisition(self, rec: dict[str, Any], items: bool = False) -> dict[str, Any]:
        out = public(rec)
        if items:
            out["items"] = rec["_items"]
        return out

    def _requisition(self, req: Req) -> dict[str, Any]:
        rec = self.get_rec("requisitions", req.params["id"], company_id=self.company_id())
        if req.arg("project_id") and as_int(req.arg("project_id"), "pid") != rec["project_id"]:
            raise not_found()
        return rec

    def _requisitions(self, req: Req) -> httpx.Response:
        project = self.project_of(req)
        rows: list[dict[str, Any]] = []
        for contract in self.scoped("commitments", project["id"]):
            rows.extend(self.scoped("requisitions", contract["id"]))
        rows.sort(key=lambda r: r["id"])
        items = req.path.startswith("/rest/v1.1/") and req.arg("view") in ("extended", "items")
        return self.paginate(
            req, self.filtered(req, rows), lambda r: self.render_requisition(r, items)
        )

    def _requisition_show(self, req: Req) -> httpx.Response:
        return pjson(200, self.render_requisition(self._requisition(req), True))

    def _requisition_create(self, req: Req) -> httpx.Response:
        data = body_of(req)
        project = self.project_of(req, data)
        if data.get("commitment_id") is None:
            raise bad_request("commitment_id is missing")
        commitment = self.get_rec(
            "commitments", data["commitment_id"], company_id=self.company_id()
        )
        if commitment["_scope"] != project["id"]:
            raise not_found()
        rec = self.create_requisition(commitment, body_of(req, "requisition"))
        return pjson(201, self.render_requisition(rec, True))

    def _requisition_patch(self, req: Req) -> httpx.Response:
        rec = self.update_requisition(self._requisition(req), body_of(req, "requisition"))
        return pjson(200, self.render_requisition(rec, True))

    def _requisition_delete(self, req: Req) -> httpx.Response:
        rec = self._requisition(req)
        if not rec["deletable"]:
            raise ApiError(422, {"base": ["this invoice cannot be deleted"]})
        rec["deleted_at"] = self.now_iso()
        self.touch(rec)
        self.recompute_requisitions(self.store.get("commitments", rec["commitment_id"]))
        self.emit("Requisitions", "delete", rec, project_id=rec["project_id"])
        return httpx.Response(204)

    def _req_items(self, req: Req) -> httpx.Response:
        rec = self._requisition(req)
        return self.paginate(req, rec["_items"])

    def _req_item_patch(self, req: Req) -> httpx.Response:
        rec = self._requisition(req)
        item = self.update_requisition_item(
            rec, req.params["item_id"], body_of(req, "requisition_contract_item")
        )
        return pjson(200, item)
