"""Prime contracts and their payment applications (owner invoices), §5.1/§5.4.

Pay-app amounts: Procore computes them from SOV line items; the sandbox keeps one
``work_completed_this_period`` (and a ``retainage_percent``) per pay app, accepted on create as a
simplification (a decision: the owner-billing SOV endpoints are out of scope), and derives the
documented ``g702`` columns from them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from sandboxes.core import Req

from .base import CENT, as_int, body_of, check_lock, money, public
from .errors import ApiError, invalid, not_found, pjson
from .requisitions import STATUSES as PAY_APP_STATUSES

PRIME_STATUSES = {
    "Draft",
    "Out For Bid",
    "Out For Signature",
    "Approved",
    "Complete",
    "Terminated",
}  # §5.3
PRIME_FIELDS = (
    "number",
    "title",
    "status",
    "executed",
    "description",
    "retainage_percent",
    "contract_date",
    "owner_name",
)
PAY_APP_FIELDS = (
    "invoice_number",
    "billing_date",
    "status",
    "period_start",
    "period_end",
    "description_type",
)
ZERO = Decimal("0.00")


class OwnerMixin:
    store: Any

    def _owner_routes(self) -> None:
        r = self.api
        r("GET", "/rest/v1.0/prime_contracts", self._primes)
        r("POST", "/rest/v1.0/prime_contract", self._prime_create)  # singular (§5.1)
        r("GET", "/rest/v1.0/prime_contract/{id}", self._prime_show)
        r("PATCH", "/rest/v1.0/prime_contract/{id}", self._prime_patch)
        r("DELETE", "/rest/v1.0/prime_contract/{id}", self._prime_delete)
        r("GET", "/rest/v1.0/prime_contracts/{pcid}/line_items", self._prime_lines)
        r("POST", "/rest/v1.0/prime_contracts/{pcid}/line_items", self._prime_line_create)
        r("GET", "/rest/v1.0/payment_applications", self._pay_apps)
        r("GET", "/rest/v1.0/payment_applications/{id}", self._pay_app_show)
        r("DELETE", "/rest/v1.0/payment_applications/{id}", self._pay_app_delete)
        r("GET", "/rest/v1.0/prime_contracts/{pcid}/payment_applications", self._pay_apps)
        r("POST", "/rest/v1.0/prime_contracts/{pcid}/payment_applications", self._pay_app_create)
        r(
            "PATCH",
            "/rest/v1.0/prime_contracts/{pcid}/payment_applications/{id}",
            self._pay_app_patch,
        )

    # -- prime contracts ---------------------------------------------------------------------

    def create_prime(self, project: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        status = data.get("status", "Draft")
        if status not in PRIME_STATUSES:
            raise invalid("status", "is not included in the list")
        rec: dict[str, Any] = {
            "id": self.new_id(),
            "number": None,
            "title": None,
            "status": status,
            "executed": False,
            "description": "",
            "retainage_percent": None,
            "contract_date": None,
            "owner_name": None,
            "grand_total": ZERO,
            "revised_contract": ZERO,
            "owner_invoices_amount": ZERO,
            "total_payments": ZERO,
            "origin_id": None,
            "origin_code": None,
            "origin_data": None,
            "deleted_at": None,
            "project": {"id": project["id"], "name": project["name"]},
            "_company_id": project["_company_id"],
            "_lines": [],
        }
        if data.get("origin_id") is not None:
            self.claim_origin("prime_contracts", rec, data["origin_id"])
        self.apply(
            "prime_contracts",
            rec,
            {k: v for k, v in data.items() if k != "origin_id"},
            PRIME_FIELDS,
            ("retainage_percent",),
        )
        self.insert("prime_contracts", rec, scope=project["id"], company_id=rec["_company_id"])
        self.emit("Prime Contracts", "create", rec, project_id=project["id"])
        return rec

    def add_prime_line(self, prime: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        cc, lit = self._lookup_cost(prime["_scope"], data)
        line = {
            "id": self.new_id(),
            "description": data.get("description"),
            "amount": money(data.get("amount")),
            "cost_code": cc and {"id": cc["id"], "full_code": cc["full_code"], "name": cc["name"]},
            "line_item_type": lit and {"id": lit["id"], "code": lit["code"]},
            "wbs_code": self.wbs_code(prime["_scope"], cc, lit),
            "origin_id": data.get("origin_id"),
            "updated_at": self.now_iso(),
        }
        prime["_lines"].append(line)
        prime["grand_total"] = sum((x["amount"] for x in prime["_lines"]), ZERO)
        prime["revised_contract"] = prime["grand_total"]
        self.touch(prime)
        return line

    def _prime(self, req: Req, key: str = "id") -> dict[str, Any]:
        rec = self.get_rec("prime_contracts", req.params[key], company_id=self.company_id())
        if req.arg("project_id") and as_int(req.arg("project_id"), "pid") != rec["_scope"]:
            raise not_found()
        return rec

    def _primes(self, req: Req) -> httpx.Response:
        project = self.project_of(req)
        rows = self.filtered(req, self.scoped("prime_contracts", project["id"]))
        return self.paginate(req, rows)

    def _prime_show(self, req: Req) -> httpx.Response:
        rec = self._prime(req)
        return pjson(200, {**public(rec), "line_items": rec["_lines"]})

    def _prime_create(self, req: Req) -> httpx.Response:
        project = self.project_of(req, body_of(req))
        return pjson(201, public(self.create_prime(project, body_of(req, "prime_contract"))))

    def _prime_patch(self, req: Req) -> httpx.Response:
        rec = self._prime(req)
        data = body_of(req, "prime_contract")
        if "status" in data and data["status"] not in PRIME_STATUSES:
            raise invalid("status", "is not included in the list")
        self.apply("prime_contracts", rec, data, PRIME_FIELDS, ("retainage_percent",))
        self.emit("Prime Contracts", "update", rec, project_id=rec["_scope"])
        return pjson(200, public(rec))

    def _prime_delete(self, req: Req) -> httpx.Response:
        rec = self._prime(req)
        if rec["status"] in ("Approved", "Complete"):
            raise ApiError(422, {"base": [f"{rec['status']} prime contracts cannot be deleted"]})
        rec["deleted_at"] = self.now_iso()
        self.touch(rec)
        self.emit("Prime Contracts", "delete", rec, project_id=rec["_scope"])
        return httpx.Response(204)

    def _prime_lines(self, req: Req) -> httpx.Response:
        return self.paginate(req, self._prime(req, "pcid")["_lines"])

    def _prime_line_create(self, req: Req) -> httpx.Response:
        prime = self._prime(req, "pcid")
        return pjson(201, self.add_prime_line(prime, body_of(req, "line_item")))

    # -- payment applications (owner invoices) -----------------------------------------------

    def create_pay_app(self, prime: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        status = data.get("status", "draft")
        if status not in PAY_APP_STATUSES:
            raise invalid("status", "is not included in the list")
        existing = self.scoped("payment_applications", prime["id"])
        pct = money(data.get("retainage_percent", prime.get("retainage_percent") or 0))
        rec: dict[str, Any] = {
            "id": self.new_id(),
            "number": max((p["number"] for p in existing), default=0) + 1,
            "invoice_number": None,
            "billing_date": None,
            "period_id": None,
            "period_start": None,
            "period_end": None,
            "status": status,
            "total_amount_paid": ZERO,
            "formatted_contract_company": prime.get("owner_name"),
            "description_type": None,
            "origin_id": None,
            "origin_data": None,
            "contract": {"id": prime["id"], "number": prime["number"], "title": prime["title"]},
            "currency_configuration": {"currency_iso_code": "USD"},
            "deleted_at": None,
            "_work": money(data.get("work_completed_this_period"), "work_completed_this_period"),
            "_pct": pct,
            "_company_id": prime["_company_id"],
            "_project_id": prime["_scope"],
        }
        if data.get("origin_id") is not None:
            self.claim_origin("payment_applications", rec, data["origin_id"])
        self.apply(
            "payment_applications",
            rec,
            {k: v for k, v in data.items() if k != "origin_id"},
            PAY_APP_FIELDS,
        )
        rec["billing_period"] = {
            "id": None,
            "start_date": rec["period_start"],
            "end_date": rec["period_end"],
        }
        self.insert("payment_applications", rec, scope=prime["id"], company_id=prime["_company_id"])
        self.recompute_pay_apps(prime)
        self.emit("Payment Applications", "create", rec, project_id=prime["_scope"])
        return rec

    def recompute_pay_apps(self, prime: dict[str, Any]) -> None:
        earned_before = completed = ZERO
        apps = sorted(
            (
                p
                for p in self.scoped("payment_applications", prime["id"])
                if not p.get("deleted_at")
            ),
            key=lambda p: p["number"],
        )
        total = prime["revised_contract"]
        for app in apps:
            completed += app["_work"]
            retainage = (completed * app["_pct"] / 100).quantize(CENT)
            earned = completed - retainage
            app["g702"] = {
                "original_contract_sum": prime["grand_total"],
                "net_change_by_change_orders": total - prime["grand_total"],
                "contract_sum_to_date": total,
                "total_completed_and_stored_to_date": completed,
                "completed_work_retainage_percent": app["_pct"],
                "completed_work_retainage_amount": retainage,
                "stored_materials_retainage_percent": app["_pct"],
                "stored_materials_retainage_amount": ZERO,
                "total_retainage": retainage,
                "total_earned_less_retainage": earned,
                "less_previous_certificates_for_payment": earned_before,
                "current_payment_due": earned - earned_before,
                "balance_to_finish_including_retainage": total - earned,
                "tax_applicable_to_this_payment": ZERO,
            }
            app["percent_complete"] = (completed * 100 / total).quantize(CENT) if total else ZERO
            app["total_amount_accrued_this_period"] = app["_work"]
            earned_before = earned
        prime["owner_invoices_amount"] = completed

    def _pay_app(self, req: Req) -> dict[str, Any]:
        rec = self.get_rec("payment_applications", req.params["id"], company_id=self.company_id())
        if "pcid" in req.params and str(rec["_scope"]) != req.params["pcid"]:
            raise not_found()
        return rec

    def _pay_apps(self, req: Req) -> httpx.Response:
        if "pcid" in req.params:
            primes = [self._prime(req, "pcid")]
        else:
            primes = self.scoped("prime_contracts", self.project_of(req)["id"])
        rows = [p for prime in primes for p in self.scoped("payment_applications", prime["id"])]
        return self.paginate(req, self.filtered(req, rows))

    def _pay_app_show(self, req: Req) -> httpx.Response:
        return pjson(200, public(self._pay_app(req)))

    def _pay_app_create(self, req: Req) -> httpx.Response:
        prime = self._prime(req, "pcid")
        return pjson(201, public(self.create_pay_app(prime, body_of(req, "payment_application"))))

    def _pay_app_patch(self, req: Req) -> httpx.Response:
        rec = self._pay_app(req)
        data = body_of(req, "payment_application")
        check_lock(rec, data, "Payment Application")
        if "status" in data and data["status"] not in PAY_APP_STATUSES:
            raise invalid("status", "is not included in the list")
        self.apply("payment_applications", rec, data, PAY_APP_FIELDS)
        self.emit("Payment Applications", "update", rec, project_id=rec["_project_id"])
        return pjson(200, public(rec))

    def _pay_app_delete(self, req: Req) -> httpx.Response:
        rec = self._pay_app(req)
        check_lock(rec, {"deleted": True}, "Payment Application")
        rec["deleted_at"] = self.now_iso()
        self.touch(rec)
        self.recompute_pay_apps(self.store.get("prime_contracts", rec["_scope"]))
        self.emit("Payment Applications", "delete", rec, project_id=rec["_project_id"])
        return httpx.Response(204)
