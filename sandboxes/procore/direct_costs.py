"""Direct costs (v1.0/v1.1) and their line items, with the origin_id lock (§5, §5.4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from sandboxes.core import Req

from .base import CENT, body_of, check_lock, public
from .errors import invalid, not_found, pjson

TYPES = {"invoice", "expense", "payroll"}  # §5.3 (v1.1)
STATUSES = {"draft", "pending", "revise_and_resubmit", "approved"}
FIELDS = (
    "direct_cost_type",
    "direct_cost_date",
    "status",
    "invoice_number",
    "description",
    "terms",
    "received_date",
    "payment_date",
    "vendor_id",
    "employee_id",
)
LINE_FIELDS = (
    "description",
    "amount",
    "quantity",
    "unit_cost",
    "uom",
    "cost_code_id",
    "line_item_type_id",
    "position",
)
ZERO = Decimal("0.00")


class DirectCostsMixin:
    store: Any

    def _direct_cost_routes(self) -> None:
        r = self.api
        for ver in ("v1.0", "v1.1"):
            base = f"/rest/{ver}/projects/{{project_id}}/direct_costs"
            r("GET", base, self._dcs)
            r("POST", base, self._dc_create)
            r("PATCH", f"{base}/sync", self._dcs_sync)
            r("GET", f"{base}/line_items", self._dc_all_lines)
            r("PATCH", f"{base}/line_items/sync", self._dc_lines_sync)
            r("GET", f"{base}/{{id}}", self._dc_show)
            r("PATCH", f"{base}/{{id}}", self._dc_patch)
            r("DELETE", f"{base}/{{id}}", self._dc_delete)
            r("GET", f"{base}/{{dcid}}/line_items", self._dc_lines)
            r("POST", f"{base}/{{dcid}}/line_items", self._dc_line_create)

    def _check(self, data: dict[str, Any]) -> None:
        if "direct_cost_type" in data and str(data["direct_cost_type"]).lower() not in TYPES:
            raise invalid("direct_cost_type", "is not included in the list")
        if "status" in data and data["status"] not in STATUSES:
            raise invalid("status", "is not included in the list")

    def create_direct_cost(self, project: dict[str, Any], data: dict[str, Any]) -> dict:
        self._check(data)
        cid = project["_company_id"]
        rec: dict[str, Any] = {
            "id": self.new_id(),
            "direct_cost_type": "invoice",
            "direct_cost_date": None,
            "status": "draft",
            "invoice_number": None,
            "description": None,
            "amount": ZERO,
            "grand_total": ZERO,
            "terms": None,
            "received_date": None,
            "payment_date": None,
            "vendor": None,
            "vendor_id": None,
            "vendor_name": None,
            "employee": None,
            "origin_id": None,
            "origin_data": None,
            "deleted_at": None,
            "currency_configuration": {"currency_iso_code": "USD"},
            "_company_id": cid,
            "_project_id": project["id"],
        }
        if data.get("origin_id") is not None:
            self.claim_origin("direct_costs", rec, data["origin_id"])
        self._set_dc(rec, {k: v for k, v in data.items() if k != "origin_id"})
        self.insert("direct_costs", rec, scope=project["id"], company_id=cid)
        self.emit("Direct Costs", "create", rec, project_id=project["id"])
        return rec

    def _set_dc(self, rec: dict[str, Any], data: dict[str, Any]) -> None:
        if data.get("vendor_id") not in (None, ""):
            vendor = self.get_rec("vendors", data["vendor_id"], company_id=rec["_company_id"])
            rec["vendor"] = {"id": vendor["id"], "name": vendor["name"]}
            rec["vendor_name"] = vendor["name"]
            data = {**data, "vendor_id": vendor["id"]}
        if "direct_cost_type" in data:
            data = {**data, "direct_cost_type": str(data["direct_cost_type"]).lower()}
        self.apply("direct_costs", rec, data, FIELDS)

    def update_direct_cost(self, rec: dict[str, Any], data: dict[str, Any]) -> dict:
        check_lock(rec, data, "Direct Cost")
        self._check(data)
        self._set_dc(rec, data)
        self.emit("Direct Costs", "update", rec, project_id=rec["_project_id"])
        return rec

    def add_dc_line(self, dc: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        check_lock(dc, {"line_items": True}, "Direct Cost")
        cc, lit = self._lookup_cost(dc["_project_id"], data)
        rec: dict[str, Any] = {
            "id": self.new_id(),
            "amount": ZERO,
            "quantity": Decimal("1"),
            "unit_cost": None,
            "uom": None,
            "extended_type": "manual",
            "description": None,
            "position": len(self.scoped("direct_cost_line_items", dc["id"])) + 1,
            "cost_code": cc
            and {
                "id": cc["id"],
                "full_code": cc["full_code"],
                "name": cc["name"],
                "origin_id": cc["origin_id"],
            },
            "line_item_type": lit
            and {
                "id": lit["id"],
                "code": lit["code"],
                "name": lit["name"],
                "origin_id": lit["origin_id"],
            },
            "wbs_code": self.wbs_code(dc["_project_id"], cc, lit),
            "holder": {"id": dc["id"], "holder_type": "DirectCost"},
            "origin_id": None,
            "project": {"id": dc["_project_id"]},
            "_company_id": dc["_company_id"],
            "_direct_cost_id": dc["id"],
            "direct_cost_id": dc["id"],
            "cost_code_id": cc and cc["id"],
            "line_item_type_id": lit and lit["id"],
        }
        if data.get("origin_id") is not None:
            self.claim_origin("direct_cost_line_items", rec, data["origin_id"])
        self.apply(
            "direct_cost_line_items",
            rec,
            {k: v for k, v in data.items() if k in LINE_FIELDS[:5]},
            LINE_FIELDS,
            ("amount", "unit_cost"),
        )
        if "amount" not in data and rec["unit_cost"] is not None:
            rec["amount"] = (Decimal(str(rec["quantity"])) * rec["unit_cost"]).quantize(CENT)
        rec["total_amount"] = rec["extended_amount"] = rec["amount"]
        self.insert("direct_cost_line_items", rec, scope=dc["id"], company_id=dc["_company_id"])
        total = sum((x["amount"] for x in self.scoped("direct_cost_line_items", dc["id"])), ZERO)
        dc["amount"] = dc["grand_total"] = total
        self.touch(dc)
        self.emit(
            "Direct Cost Line Items",
            "create",
            rec,
            project_id=dc["_project_id"],
            related=("Direct Costs", dc["id"]),
        )
        self.emit("Direct Costs", "update", dc, project_id=dc["_project_id"])
        return rec

    def _dc(self, req: Req, key: str = "id") -> dict[str, Any]:
        project = self.project_of(req)
        rec = self.get_rec("direct_costs", req.params[key], company_id=self.company_id())
        if rec["_project_id"] != project["id"]:
            raise not_found()
        return rec

    def _dcs(self, req: Req) -> httpx.Response:
        project = self.project_of(req)
        rows = self.filtered(req, self.scoped("direct_costs", project["id"]))
        return self.paginate(req, rows)

    def _dc_show(self, req: Req) -> httpx.Response:
        rec = self._dc(req)
        lines = [public(x) for x in self.scoped("direct_cost_line_items", rec["id"])]
        return pjson(200, {**public(rec), "line_items": lines})

    def _dc_create(self, req: Req) -> httpx.Response:
        project = self.project_of(req)
        data = body_of(req, "direct_cost")
        rec = self.create_direct_cost(project, data)
        for line in body_of(req).get("line_items") or data.get("line_items") or []:
            self.add_dc_line(rec, line)
        return pjson(201, public(rec))

    def _dc_patch(self, req: Req) -> httpx.Response:
        return pjson(
            200, public(self.update_direct_cost(self._dc(req), body_of(req, "direct_cost")))
        )

    def _dc_delete(self, req: Req) -> httpx.Response:
        rec = self._dc(req)
        check_lock(rec, {"deleted": True}, "Direct Cost")
        rec["deleted_at"] = self.now_iso()
        self.touch(rec)
        self.emit("Direct Costs", "delete", rec, project_id=rec["_project_id"])
        return httpx.Response(204)

    def _dcs_sync(self, req: Req) -> httpx.Response:
        project = self.project_of(req)
        return self.run_sync(
            req,
            "direct_costs",
            self.company_id(),
            lambda d: self.create_direct_cost(project, d),
            self.update_direct_cost,
        )

    def _dc_lines(self, req: Req) -> httpx.Response:
        dc = self._dc(req, "dcid")
        return self.paginate(
            req, self.filtered(req, self.scoped("direct_cost_line_items", dc["id"]))
        )

    def _dc_all_lines(self, req: Req) -> httpx.Response:
        project = self.project_of(req)
        rows = [
            x
            for dc in self.scoped("direct_costs", project["id"])
            if not dc["deleted_at"]
            for x in self.scoped("direct_cost_line_items", dc["id"])
        ]
        return self.paginate(req, self.filtered(req, rows))

    def _dc_line_create(self, req: Req) -> httpx.Response:
        return pjson(
            201, public(self.add_dc_line(self._dc(req, "dcid"), body_of(req, "line_item")))
        )

    def _dc_lines_sync(self, req: Req) -> httpx.Response:
        project = self.project_of(req)

        def create(data: dict[str, Any]) -> dict[str, Any]:
            dc = self.get_rec(
                "direct_costs", data.get("direct_cost_id"), company_id=self.company_id()
            )
            if dc["_project_id"] != project["id"]:
                raise invalid("direct_cost_id", "does not exist")
            return self.add_dc_line(dc, data)

        def update(rec: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
            dc = self.store.get("direct_costs", rec["_direct_cost_id"])
            check_lock(dc, {k: v for k, v in data.items() if k != "origin_id"}, "Direct Cost")
            self.apply("direct_cost_line_items", rec, data, ("description",))
            self.emit(
                "Direct Cost Line Items",
                "update",
                rec,
                project_id=project["id"],
                related=("Direct Costs", dc["id"]),
            )
            return rec

        return self.run_sync(req, "direct_cost_line_items", self.company_id(), create, update)
