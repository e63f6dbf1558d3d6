"""Cost codes, line item types (cost types), WBS codes and the ERP ``external_data/sync``
(§5.1, §5.4, §6)."""

from __future__ import annotations

from typing import Any

import httpx

from sandboxes.core import Req

from .base import ORIGIN_FIELDS, as_int, body_of, public, require
from .directory import SYNC_MAX
from .errors import ApiError, bad_request, not_found, pjson

COST_CODE_FIELDS = ("name", "code", "parent_id", "standard_cost_code_id", "position")
LIT_FIELDS = ("name", "code", "base_type")
# §6 external_data item_type -> collection (line_item: commitment SOV rows).
ITEM_TYPES = {
    "project": "projects",
    "vendor": "vendors",
    "cost_code": "cost_codes",
    "line_item_type": "line_item_types",
    "work_order_contract": "commitments",
    "purchase_order_contract": "commitments",
    "line_item": "commitment_line_items",
    "change_order": "change_orders",
    "requisition": "requisitions",
    "prime_contract": "prime_contracts",
    "payment_application": "payment_applications",
    "contract_payment": "contract_payments",
    "item": "direct_costs",
    "company_level_direct_cost": "direct_costs",
}


class CostCodesMixin:
    store: Any

    def _cost_code_routes(self) -> None:
        r = self.api
        r("PATCH", "/rest/v1.0/companies/{company_id}/external_data/sync", self._external_sync)
        r("GET", "/rest/v1.0/cost_codes", self._cost_codes)
        r("POST", "/rest/v1.0/cost_codes", self._cost_code_create)
        r("PATCH", "/rest/v1.0/cost_codes/sync", self._cost_codes_sync)
        r("GET", "/rest/v1.0/cost_codes/{id}", self._cost_code_show)
        r("PATCH", "/rest/v1.0/cost_codes/{id}", self._cost_code_patch)
        r("GET", "/rest/v1.0/line_item_types", self._lits)
        r("POST", "/rest/v1.0/line_item_types", self._lit_create)
        r("PATCH", "/rest/v1.0/line_item_types/sync", self._lits_sync)
        wbs = "/rest/v1.0/companies/{company_id}/work_breakdown_structure"
        r("GET", f"{wbs}/patterns", self._wbs_patterns)
        r("GET", f"{wbs}/segments", self._wbs_segments)
        r("GET", f"{wbs}/segments/{{segment_id}}/segment_items", self._wbs_segment_items)
        r("GET", "/rest/v1.0/projects/{project_id}/work_breakdown_structure/wbs_codes", self._wbs)

    # -- cost codes and cost types -----------------------------------------------------------

    def create_cost_code(self, project: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        require(data, "code", "name")
        cid = project["_company_id"]
        parent = None
        if data.get("parent_id"):
            parent = self.get_rec("cost_codes", data["parent_id"], company_id=cid)
        full = f"{parent['full_code']}-{data['code']}" if parent else str(data["code"])
        rec: dict[str, Any] = {
            "id": self.new_id(),
            "name": data["name"],
            "full_code": full,
            "origin_id": None,
            "origin_data": None,
            "standard_cost_code_id": data.get("standard_cost_code_id"),
            "biller": project["name"],
            "biller_id": project["id"],
            "biller_type": "Project",
            "biller_origin_id": project.get("origin_id"),
            "budgeted": False,
            "code": str(data["code"]),
            "parent": {"id": parent["id"] if parent else None},
            "sortable_code": full,
            "deleted_at": None,
            "line_item_types": [],
            "position": data.get("position"),
            "standard_cost_code_list_id": None,
            "_company_id": cid,
        }
        if data.get("origin_id") is not None:
            self.claim_origin("cost_codes", rec, data["origin_id"])
        rec["origin_data"] = data.get("origin_data")
        self.insert("cost_codes", rec, scope=project["id"], company_id=cid)
        self.emit("Cost Codes", "create", rec, project_id=project["id"])
        return rec

    def update_cost_code(self, rec: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        self.apply("cost_codes", rec, data, ("name", "position"))
        self.emit("Cost Codes", "update", rec, project_id=rec["_scope"])
        return rec

    def _cost_codes(self, req: Req) -> httpx.Response:
        project = self.project_of(req)
        return self.paginate(req, self.filtered(req, self.scoped("cost_codes", project["id"])))

    def _cost_code_show(self, req: Req) -> httpx.Response:
        rec = self.get_rec("cost_codes", req.params["id"], company_id=self.company_id())
        return pjson(200, public(rec))

    def _cost_code_create(self, req: Req) -> httpx.Response:
        project = self.project_of(req, body_of(req))
        return pjson(201, public(self.create_cost_code(project, body_of(req, "cost_code"))))

    def _cost_code_patch(self, req: Req) -> httpx.Response:
        rec = self.get_rec("cost_codes", req.params["id"], company_id=self.company_id())
        return pjson(200, public(self.update_cost_code(rec, body_of(req, "cost_code"))))

    def _cost_codes_sync(self, req: Req) -> httpx.Response:
        project = self.project_of(req, body_of(req))
        return self.run_sync(
            req,
            "cost_codes",
            self.company_id(),
            lambda d: self.create_cost_code(project, d),
            self.update_cost_code,
        )

    def create_line_item_type(self, company_id: int, data: dict[str, Any]) -> dict[str, Any]:
        require(data, "name", "code")
        rec: dict[str, Any] = {
            "id": self.new_id(),
            "name": data["name"],
            "code": data["code"],
            "base_type": data.get("base_type", "other"),
            "origin_id": None,
            "origin_data": data.get("origin_data"),
            "_company_id": company_id,
        }
        if data.get("origin_id") is not None:
            self.claim_origin("line_item_types", rec, data["origin_id"])
        return self.insert("line_item_types", rec, scope=company_id, company_id=company_id)

    def update_line_item_type(self, rec: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        self.apply("line_item_types", rec, data, LIT_FIELDS)
        return rec

    def _lits(self, req: Req) -> httpx.Response:
        cid = self.company_param(req, req.arg("company_id") or self.company_id())
        return self.paginate(req, self.filtered(req, self.scoped("line_item_types", cid)))

    def _lit_create(self, req: Req) -> httpx.Response:
        cid = self.company_param(req, body_of(req).get("company_id") or self.company_id())
        rec = self.create_line_item_type(cid, body_of(req, "line_item_type"))
        return pjson(201, public(rec))

    def _lits_sync(self, req: Req) -> httpx.Response:
        cid = self.company_param(req, body_of(req).get("company_id") or self.company_id())
        return self.run_sync(
            req,
            "line_item_types",
            cid,
            lambda d: self.create_line_item_type(cid, d),
            self.update_line_item_type,
        )

    # -- WBS (§5.4: default segments Sub Job / Cost Code (tiered) / Cost Type, delimiter ".") --

    _SEGMENTS = [
        {"id": 1, "name": "Sub Job", "type": "sub_job", "structure": "flat", "required": False},
        {
            "id": 2,
            "name": "Cost Code",
            "type": "cost_code",
            "structure": "tiered",
            "required": True,
        },
        {
            "id": 3,
            "name": "Cost Type",
            "type": "line_item_type",
            "structure": "flat",
            "required": True,
        },
    ]

    def _wbs_patterns(self, req: Req) -> httpx.Response:
        self.company_param(req)
        pattern = {"id": 1, "name": "Default", "delimiter": ".", "segments": self._SEGMENTS}
        return pjson(200, [pattern])

    def _wbs_segments(self, req: Req) -> httpx.Response:
        self.company_param(req)
        return pjson(200, self._SEGMENTS)

    def _wbs_segment_items(self, req: Req) -> httpx.Response:
        cid = self.company_param(req)
        segment = as_int(req.params["segment_id"], "segment_id")
        if segment == 3:
            rows = [
                {"id": t["id"], "code": t["code"], "name": t["name"]}
                for t in self.scoped("line_item_types", cid)
            ]
        elif segment == 2:
            seen: dict[str, dict[str, Any]] = {}
            for project in self.scoped("projects", cid):
                for cc in self.scoped("cost_codes", project["id"]):
                    seen.setdefault(
                        cc["full_code"],
                        {"id": cc["id"], "code": cc["full_code"], "name": cc["name"]},
                    )
            rows = list(seen.values())
        elif segment == 1:
            rows = []
        else:
            raise not_found()
        return self.paginate(req, rows)

    def wbs_code(self, project_id: int, cost_code: dict | None, lit: dict | None) -> dict | None:
        """The project's WBS code for (cost code, cost type), created on first use."""
        if cost_code is None:
            return None
        key = f"{cost_code['id']}.{lit['id'] if lit else ''}"
        for rec in self.scoped("wbs_codes", project_id):
            if rec["_key"] == key:
                return {k: rec[k] for k in ("id", "flat_code", "description")}
        rec = {
            "id": self.new_id(),
            "_key": key,
            "flat_code": cost_code["full_code"] + (f".{lit['code']}" if lit else ""),
            "description": cost_code["name"] + (f".{lit['name']}" if lit else ""),
            "flat_name": cost_code["name"] + (f".{lit['name']}" if lit else ""),
        }
        self.insert("wbs_codes", rec, scope=project_id, company_id=cost_code["_company_id"])
        return {k: rec[k] for k in ("id", "flat_code", "description")}

    def _wbs(self, req: Req) -> httpx.Response:
        project = self.project_of(req)
        return self.paginate(req, self.scoped("wbs_codes", project["id"]))

    # -- ERP external data (§6: mark synced by setting origin_id) ----------------------------

    def _external_sync(self, req: Req) -> httpx.Response:
        cid = self.company_param(req)
        items = req.json()
        if isinstance(items, dict):
            items = items.get("updates") or items.get("items")
        if not isinstance(items, list):
            raise bad_request("expected a list of {item_type, item_id, origin_id}")
        entities, errors = [], []
        for item in items[:SYNC_MAX]:
            coll = ITEM_TYPES.get(str(item.get("item_type")))
            try:
                if coll is None:
                    raise ApiError(422, {"item_type": ["is not supported"]})
                rec = self.get_rec(coll, item.get("item_id"), company_id=cid)
                changes = {k: item[k] for k in ORIGIN_FIELDS if k in item}
                self.apply(coll, rec, changes, ())
                self.emit_changed(coll, rec)
                entities.append(
                    {
                        "item_type": item["item_type"],
                        "item_id": rec["id"],
                        "origin_id": rec.get("origin_id"),
                    }
                )
            except ApiError as exc:
                errs = exc.errors if isinstance(exc.errors, dict) else {"item_id": [exc.errors]}
                errors.append({**item, "errors": errs})
        return pjson(200, {"entities": entities, "errors": errors})
