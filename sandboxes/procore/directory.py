"""Company-level and project setup resources: me, companies, projects, vendors, cost codes,
line item types (cost types), WBS, and the ERP ``external_data/sync`` (§5.1, §6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from sandboxes.core import Req

from .base import ORIGIN_FIELDS, body_of, money, public, require
from .errors import ApiError, bad_request, pjson

PROJECT_FIELDS = (
    "name",
    "display_name",
    "project_number",
    "address",
    "city",
    "state_code",
    "country_code",
    "zip",
    "county",
    "phone",
    "active",
    "description",
    "start_date",
    "completion_date",
    "total_value",
    "time_zone",
    "code",
    "accounting_project_number",
    "estimated_start_date",
)
VENDOR_FIELDS = (
    "name",
    "abbreviated_name",
    "address",
    "authorized_bidder",
    "business_phone",
    "city",
    "country_code",
    "email_address",
    "fax_number",
    "is_active",
    "license_number",
    "mobile_phone",
    "notes",
    "prequalified",
    "state_code",
    "trade_name",
    "website",
    "zip",
    "legal_name",
    "business_id",
    "synced_to_erp",
)
SYNC_MAX = 1000  # §4: up to 1000 items per sync call


class DirectoryMixin:
    store: Any

    def _directory_routes(self) -> None:
        r = self.api
        r("GET", "/rest/v1.0/me", self._me)
        r("GET", "/rest/v1.0/companies", self._companies)
        for ver in ("v1.0", "v1.1"):
            r("GET", f"/rest/{ver}/projects", self._projects)
        r("POST", "/rest/v1.0/projects", self._project_create)
        r("PATCH", "/rest/v1.0/projects/sync", self._projects_sync)
        r("GET", "/rest/v1.0/projects/{id}", self._project_show)
        r("PATCH", "/rest/v1.0/projects/{id}", self._project_patch)
        r("GET", "/rest/v1.0/vendors", self._vendors)
        r("POST", "/rest/v1.0/vendors", self._vendor_create)
        r("PATCH", "/rest/v1.0/vendors/sync", self._vendors_sync)
        r("GET", "/rest/v1.0/vendors/{id}", self._vendor_show)
        r("PATCH", "/rest/v1.0/vendors/{id}", self._vendor_patch)
        r("GET", "/rest/v1.0/companies/{company_id}/vendors/inactive", self._vendors_inactive)

    # -- generic write helpers ---------------------------------------------------------------

    def apply(
        self,
        coll: str,
        rec: dict[str, Any],
        data: dict[str, Any],
        fields: tuple[str, ...],
        money_fields: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """Copy the writable fields of ``data`` onto ``rec`` (validating first), bump
        updated_at; returns the applied changes."""
        changes = {k: v for k, v in data.items() if k in fields or k in ORIGIN_FIELDS}
        for key in money_fields:
            if key in changes:
                changes[key] = money(changes[key], key)
        if "origin_id" in changes:
            self.claim_origin(coll, rec, changes.pop("origin_id"))
        rec.update(changes)
        self.touch(rec)
        return changes

    def run_sync(
        self,
        req: Req,
        coll: str,
        company_id: int,
        create: Callable[[dict[str, Any]], dict[str, Any]],
        update: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]],
        render: Callable[[dict[str, Any]], Any] = public,
    ) -> httpx.Response:
        """``PATCH …/sync`` (§4, using_sync_actions): by id, else by origin_id, else create;
        always 200 with ``entities`` and ``errors``."""
        data = body_of(req)
        updates = data.get("updates")
        if not isinstance(updates, list):
            raise bad_request("updates is missing")
        if len(updates) > SYNC_MAX:
            raise bad_request(f"a sync call takes at most {SYNC_MAX} items")
        entities, errors = [], []
        for item in updates:
            try:
                if not isinstance(item, dict):
                    raise ApiError(422, {"base": ["must be an object"]})
                if item.get("id") not in (None, ""):
                    try:
                        rec = self.get_rec(coll, item["id"], company_id=company_id)
                    except ApiError:
                        raise ApiError(422, {"id": ["Entity with this ID not found"]}) from None
                    rec = update(rec, {k: v for k, v in item.items() if k != "id"})
                elif item.get("origin_id") not in (None, ""):
                    rec = self.by_origin(coll, company_id, item["origin_id"])
                    if rec is not None and not rec.get("deleted_at"):
                        rec = update(rec, item)
                    else:
                        rec = create(item)
                else:
                    rec = create(item)
                entities.append(render(rec))
            except ApiError as exc:
                errs = exc.errors if isinstance(exc.errors, dict) else {"base": [exc.errors]}
                errors.append({**(item if isinstance(item, dict) else {}), "errors": errs})
        return pjson(200, {"entities": entities, "errors": errors})

    # -- me / companies ----------------------------------------------------------------------

    def add_company(self, name: str, company_id: int | None = None) -> dict[str, Any]:
        rec = {
            "id": company_id or self.new_id(),
            "is_active": True,
            "logo_url": None,
            "my_company": False,
            "name": name,
            "pcn_business_experience": None,
        }
        self.insert("companies", rec, scope=0, company_id=rec["id"])
        return rec

    def _me(self, req: Req) -> httpx.Response:
        user = self.store.get("users", self.ctx.user_id) or {"id": self.ctx.user_id}
        return pjson(200, {"id": user["id"], "login": user.get("login"), "name": user.get("name")})

    def _companies(self, req: Req) -> httpx.Response:
        app = self.ctx.app
        rows = self.scoped("companies", 0)
        if self.ctx.token["grant"] == "client_credentials" and app["companies"] is not None:
            rows = [c for c in rows if c["id"] in app["companies"]]  # §1.4: where installed
        return self.paginate(req, rows)

    # -- projects ----------------------------------------------------------------------------

    def create_project(self, company_id: int, data: dict[str, Any]) -> dict[str, Any]:
        require(data, "name")
        company = self.get_rec("companies", company_id)
        rec: dict[str, Any] = {
            "id": self.new_id(),
            "name": data["name"],
            "display_name": data["name"],
            "project_number": None,
            "address": None,
            "city": None,
            "state_code": None,
            "country_code": None,
            "zip": None,
            "county": None,
            "latitude": None,
            "longitude": None,
            "stage": "Course of Construction",
            "phone": None,
            "active": True,
            "origin_id": None,
            "origin_data": None,
            "origin_code": None,
            "is_demo": False,
            "parent_job_id": None,
            "time_zone": "US/Pacific",
            "project_stage": {"id": 3, "name": "Course of Construction"},
            "total_value": None,
            "accounting_project_number": None,
            "start_date": None,
            "completion_date": None,
            "custom_fields": {},
            "company": {"id": company["id"], "name": company["name"]},
        }
        if data.get("origin_id") is not None:
            rec["_company_id"] = company_id
            self.claim_origin("projects", rec, data["origin_id"])
        self.apply(
            "projects",
            rec,
            {k: v for k, v in data.items() if k != "origin_id"},
            PROJECT_FIELDS,
            ("total_value",),
        )
        if "display_name" not in data:
            number = rec.get("project_number")
            rec["display_name"] = f"{number} - {rec['name']}" if number else rec["name"]
        self.insert("projects", rec, scope=company_id, company_id=company_id)
        self.emit("Projects", "create", rec, project_id=rec["id"])
        return rec

    def update_project(self, rec: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        self.apply("projects", rec, data, PROJECT_FIELDS, ("total_value",))
        self.emit("Projects", "update", rec, project_id=rec["id"])
        return rec

    def _projects(self, req: Req) -> httpx.Response:
        cid = self.company_param(req)
        rows = self.filtered(req, self.scoped("projects", cid), deletable=False)
        if req.path.startswith("/rest/v1.1/"):  # §2: v1.1 projects default 100, max 300
            return self.paginate(req, rows, maximum=300)
        return self.paginate(req, rows)

    def _project_show(self, req: Req) -> httpx.Response:
        self.company_param(req)
        return pjson(
            200, public(self.get_rec("projects", req.params["id"], company_id=self.company_id()))
        )

    def _project_create(self, req: Req) -> httpx.Response:
        data = body_of(req)
        cid = self.company_param(req, data.get("company_id"))
        return pjson(201, public(self.create_project(cid, body_of(req, "project"))))

    def _project_patch(self, req: Req) -> httpx.Response:
        data = body_of(req)
        cid = self.company_param(req, data.get("company_id"))
        rec = self.get_rec("projects", req.params["id"], company_id=cid)
        return pjson(200, public(self.update_project(rec, body_of(req, "project"))))

    def _projects_sync(self, req: Req) -> httpx.Response:
        cid = self.company_param(req, body_of(req).get("company_id"))
        return self.run_sync(
            req, "projects", cid, lambda d: self.create_project(cid, d), self.update_project
        )

    # -- vendors (company directory) ---------------------------------------------------------

    def create_vendor(self, company_id: int, data: dict[str, Any]) -> dict[str, Any]:
        require(data, "name")
        rec: dict[str, Any] = {
            "id": self.new_id(),
            "name": data["name"],
            "abbreviated_name": None,
            "address": "",
            "authorized_bidder": True,
            "business_phone": "",
            "city": "",
            "company": data["name"],
            "country_code": "US",
            "email_address": None,
            "fax_number": "",
            "is_active": True,
            "labor_union": None,
            "license_number": None,
            "logo": None,
            "mobile_phone": None,
            "non_union_prevailing_wage": False,
            "notes": None,
            "origin_code": None,
            "origin_data": None,
            "origin_id": None,
            "prequalified": False,
            "state_code": "",
            "synced_to_erp": False,
            "trade_name": "",
            "union_member": False,
            "website": None,
            "zip": "",
            "business_register": None,
            "primary_contact": None,
            "attachments": [],
            "vendor_group": None,
            "legal_name": None,
            "business_id": None,
            "project_ids": [],
            "_company_id": company_id,
        }
        if data.get("origin_id") is not None:
            self.claim_origin("vendors", rec, data["origin_id"])
        self.apply(
            "vendors", rec, {k: v for k, v in data.items() if k != "origin_id"}, VENDOR_FIELDS
        )
        rec["company"] = rec["name"]
        self.insert("vendors", rec, scope=company_id, company_id=company_id)
        self.emit("Company Vendors", "create", rec)
        return rec

    def update_vendor(self, rec: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        self.apply("vendors", rec, data, VENDOR_FIELDS)
        rec["company"] = rec["name"]
        rec["synced_to_erp"] = rec["origin_id"] is not None or bool(rec.get("synced_to_erp"))
        self.emit("Company Vendors", "update", rec)
        return rec

    def _vendors(self, req: Req) -> httpx.Response:
        cid = self.company_param(req)
        rows = [v for v in self.scoped("vendors", cid) if v["is_active"]]
        return self.paginate(req, self.filtered(req, rows, deletable=False))

    def _vendors_inactive(self, req: Req) -> httpx.Response:
        cid = self.company_param(req)
        rows = [v for v in self.scoped("vendors", cid) if not v["is_active"]]
        return self.paginate(req, self.filtered(req, rows, deletable=False))

    def _vendor_show(self, req: Req) -> httpx.Response:
        self.company_param(req)
        return pjson(
            200, public(self.get_rec("vendors", req.params["id"], company_id=self.company_id()))
        )

    def _vendor_create(self, req: Req) -> httpx.Response:
        cid = self.company_param(req, body_of(req).get("company_id"))
        return pjson(201, public(self.create_vendor(cid, body_of(req, "vendor"))))

    def _vendor_patch(self, req: Req) -> httpx.Response:
        cid = self.company_param(req, body_of(req).get("company_id"))
        rec = self.get_rec("vendors", req.params["id"], company_id=cid)
        return pjson(200, public(self.update_vendor(rec, body_of(req, "vendor"))))

    def _vendors_sync(self, req: Req) -> httpx.Response:
        cid = self.company_param(req, body_of(req).get("company_id"))
        return self.run_sync(
            req, "vendors", cid, lambda d: self.create_vendor(cid, d), self.update_vendor
        )
