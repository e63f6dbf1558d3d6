"""Commitment SOV line items (§5.4): create/update/delete and sync, with the approved-SOV lock.

Routes are registered with the commitments (``commitments.py``); every change recomputes the
commitment's totals and fires an update for the commitment.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from sandboxes.core import Req

from .base import CENT, body_of
from .commitments import LINE_FIELDS, LOCKED_SOV, ZERO
from .errors import ApiError, not_found, pjson


class SovMixin:
    store: Any

    # -- line items (schedule of values) -----------------------------------------------------

    def create_line(
        self, holder: dict[str, Any], data: dict[str, Any], *, person: bool = False
    ) -> dict[str, Any]:
        if holder["status"] in LOCKED_SOV and not person:
            raise ApiError(422, {"base": [f"the SOV of a {holder['status']} commitment is locked"]})
        project = self.store.get("projects", holder["_scope"])
        cc, lit = self._lookup_cost(project["id"], data)
        rec: dict[str, Any] = {
            "id": self.new_id(),
            "position": len(self.scoped("commitment_line_items", holder["id"])) + 1,
            "description": None,
            "amount": ZERO,
            "quantity": Decimal("0.0"),
            "unit_cost": Decimal("0.0"),
            "uom": None,
            "extended_type": "manual",
            "tax_amount": ZERO,
            "tax_code": None,
            "tax_code_id": None,
            "holder": {"id": holder["id"], "holder_type": holder["type"]},
            "project": {"id": project["id"], "name": project["name"]},
            "company": {"id": holder["_company_id"]},
            "origin_id": None,
            "origin_data": None,
            "_company_id": holder["_company_id"],
        }
        if data.get("origin_id") is not None:
            self.claim_origin("commitment_line_items", rec, data["origin_id"])
        self._set_line(rec, {k: v for k, v in data.items() if k != "origin_id"}, cc, lit)
        self.insert(
            "commitment_line_items", rec, scope=holder["id"], company_id=holder["_company_id"]
        )
        self.recompute(holder)
        self.emit(self.commitment_resource(holder), "update", holder, project_id=project["id"])
        return rec

    def _set_line(self, rec: dict[str, Any], data: dict[str, Any], cc: Any, lit: Any) -> None:
        self.apply(
            "commitment_line_items", rec, data, LINE_FIELDS, ("amount", "quantity", "unit_cost")
        )
        if "amount" not in data and data.get("quantity") is not None and "unit_cost" in data:
            rec["amount"] = (rec["quantity"] * rec["unit_cost"]).quantize(CENT)
        rec["extended_amount"] = rec["amount"]
        rec["total_amount"] = rec["amount"] + rec["tax_amount"]
        if cc is not None or "cost_code_id" in data:
            rec["_cost_code_id"] = cc and cc["id"]
        if lit is not None or "line_item_type_id" in data:
            rec["_line_item_type_id"] = lit and lit["id"]
        cc = cc or self.store.get("cost_codes", rec.get("_cost_code_id") or 0)
        lit = lit or self.store.get("line_item_types", rec.get("_line_item_type_id") or 0)
        rec["_wbs"] = self.wbs_code(rec["project"]["id"], cc, lit)

    def update_line(
        self,
        holder: dict[str, Any],
        rec: dict[str, Any],
        data: dict[str, Any],
        *,
        person: bool = False,
    ) -> dict[str, Any]:
        sov = {k for k in data if k not in ("origin_id", "origin_data", "origin_code")}
        if sov and holder["status"] in LOCKED_SOV and not person:
            raise ApiError(422, {"base": [f"the SOV of a {holder['status']} commitment is locked"]})
        cc, lit = self._lookup_cost(holder["_scope"], data)
        self._set_line(rec, data, cc, lit)
        self.recompute(holder)
        self.emit(self.commitment_resource(holder), "update", holder, project_id=holder["_scope"])
        return rec

    def _line_rec(self, req: Req) -> tuple[dict[str, Any], dict[str, Any]]:
        holder = self._commitment(req, "cid")
        rec = self.get_rec("commitment_line_items", req.params["id"], company_id=self.company_id())
        if rec["_scope"] != holder["id"]:
            raise not_found()
        return holder, rec

    def _lines(self, req: Req) -> httpx.Response:
        holder = self._commitment(req, "cid")
        rows = self.filtered(req, self.scoped("commitment_line_items", holder["id"]))
        return self.paginate(req, rows, self.render_line)

    def _line_show(self, req: Req) -> httpx.Response:
        return pjson(200, self.render_line(self._line_rec(req)[1]))

    def _line_create(self, req: Req) -> httpx.Response:
        holder = self._commitment(req, "cid")
        rec = self.create_line(holder, body_of(req, "line_item"))
        return pjson(201, self.render_line(rec))

    def _line_patch(self, req: Req) -> httpx.Response:
        holder, rec = self._line_rec(req)
        return pjson(
            200, self.render_line(self.update_line(holder, rec, body_of(req, "line_item")))
        )

    def _line_delete(self, req: Req) -> httpx.Response:
        holder, rec = self._line_rec(req)
        if holder["status"] in LOCKED_SOV:
            raise ApiError(422, {"base": [f"the SOV of a {holder['status']} commitment is locked"]})
        self.store.delete("commitment_line_items", rec["id"])
        self.scopes[("commitment_line_items", holder["id"])].pop(rec["id"], None)
        self.recompute(holder)
        self.emit(self.commitment_resource(holder), "update", holder, project_id=holder["_scope"])
        return httpx.Response(204)

    def _lines_sync(self, req: Req) -> httpx.Response:
        holder = self._commitment(req, "cid")
        return self.run_sync(
            req,
            "commitment_line_items",
            self.company_id(),
            lambda d: self.create_line(holder, d),
            lambda rec, d: self.update_line(holder, rec, d),
            self.render_line,
        )
