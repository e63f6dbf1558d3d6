"""Load the neutral dataset (sandboxes/dataset/model.py) into a Procore sandbox.

Procore holds the company, projects, cost codes/types, the vendor directory (``in_procore``),
commitments with lines, change orders, requisitions, prime contracts with payment applications
and direct costs. Nothing is linked yet (no origin_id): linking is the product's job.
Returns neutral key -> Procore id (as strings), e.g. ``{"vendor:v001": "562949953421123"}``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandboxes.dataset.model import Company

BASE_TYPES = {"L": "labor", "M": "material", "S": "subcontract", "E": "equipment", "O": "other"}
KIND = {"subcontract": "work_order_contracts", "purchase_order": "purchase_order_contracts"}
CCO_STATUS = {"approved": "approved", "pending": "pending", "draft": "draft", "void": "void"}
REQ_STATUS = {
    "draft": "draft",
    "under_review": "under_review",
    "approved": "approved",
    "paid": "approved",
}  # Procore has no "paid" requisition status (§5.3)


def _commitment_status(kind: str, status: str) -> str:
    if kind == "purchase_order" and status in ("Complete", "Terminated", "Void"):
        return "Closed"  # POC statuses differ (§5.3)
    return status


def load(sandbox: Any, company: Company) -> dict[str, str]:
    ids: dict[str, str] = {}
    sb = sandbox
    cid = int(company.procore_company_id)
    with sb.as_person():
        if sb.store.get("companies", cid) is None:
            sb.add_company(company.name, cid)
        ids["company"] = str(cid)
        cost_types = {}
        for ct in company.cost_types:
            rec = sb.create_line_item_type(
                cid,
                {"name": ct.name, "code": ct.code, "base_type": BASE_TYPES.get(ct.code, "other")},
            )
            cost_types[ct.code] = rec
            ids[f"cost_type:{ct.code}"] = str(rec["id"])
        vendors = {}
        for v in company.vendors:
            if not v.in_procore:
                continue
            rec = sb.create_vendor(
                cid,
                {
                    "name": v.name,
                    "email_address": v.email,
                    "business_phone": v.phone,
                    "address": v.address,
                    "city": v.city,
                    "state_code": v.state,
                    "zip": v.zip,
                    "country_code": v.country,
                    "trade_name": v.trade,
                    "business_id": v.tax_id,
                },
            )
            vendors[v.key] = rec
            ids[f"vendor:{v.key}"] = str(rec["id"])
        codes = {c.code: c for c in company.cost_codes}
        projects, cost_codes = {}, {}
        for p in company.projects:
            rec = sb.create_project(
                cid,
                {
                    "name": p.name,
                    "project_number": p.number,
                    "address": p.address,
                    "city": p.city,
                    "state_code": p.state,
                    "zip": p.zip,
                    "country_code": p.country,
                    "active": p.status == "Active",
                    "start_date": p.start_date.isoformat(),
                },
            )
            rec["_currency"] = p.currency
            projects[p.key] = rec
            ids[f"project:{p.key}"] = str(rec["id"])
            divisions: dict[str, dict[str, Any]] = {}
            for code in p.cost_codes:
                cc = codes.get(code)
                if cc is None:
                    continue
                if cc.division not in divisions:
                    divisions[cc.division] = sb.create_cost_code(
                        rec, {"code": cc.division, "name": cc.division_name}
                    )
                child = code.split("-", 1)[1] if "-" in code else code
                made = sb.create_cost_code(
                    rec, {"code": child, "name": cc.name, "parent_id": divisions[cc.division]["id"]}
                )
                cost_codes[(p.key, code)] = made
                ids[f"cost_code:{p.key}:{code}"] = str(made["id"])

        def line_data(project_key: str, line: Any) -> dict[str, Any]:
            cc = cost_codes.get((project_key, line.cost_code))
            lit = cost_types.get(line.cost_type)
            return {
                "description": line.description,
                "amount": line.amount,
                "quantity": line.quantity,
                "uom": line.uom,
                "unit_cost": line.unit_cost
                if line.unit_cost is not None
                else (line.amount / line.quantity if line.quantity else line.amount),
                "cost_code_id": cc and cc["id"],
                "line_item_type_id": lit and lit["id"],
            }

        commitments = {}
        for c in company.commitments:
            project = projects[c.project]
            vendor = vendors.get(c.vendor)
            rec = sb.create_commitment(
                project,
                KIND[c.kind],
                {
                    "number": c.number,
                    "title": c.title,
                    "status": "Draft",
                    "executed": c.executed,
                    "retainage_percent": c.retainage_percent,
                    "contract_date": c.contract_date.isoformat(),
                    "vendor_id": vendor and vendor["id"],
                },
            )
            for i, line in enumerate(c.lines):
                made = sb.create_line(rec, line_data(c.project, line), person=True)
                ids[f"commitment_line:{c.key}:{i}"] = str(made["id"])
            status = _commitment_status(c.kind, c.status)
            if status != "Draft":
                sb.update_commitment(rec, {"status": status}, person=True)
            commitments[c.key] = (rec, c)
            ids[f"commitment:{c.key}"] = str(rec["id"])
        for co in company.change_orders:
            rec, c = commitments[co.commitment]
            made = sb.create_cco(
                projects[c.project],
                {
                    "contract_id": rec["id"],
                    "number": co.number,
                    "title": co.title,
                    "status": CCO_STATUS.get(co.status, "draft"),
                    "line_items": [line_data(c.project, ln) for ln in co.lines],
                },
            )
            ids[f"change_order:{co.key}"] = str(made["id"])
        for r in sorted(company.requisitions, key=lambda x: (x.commitment, x.number)):
            rec, c = commitments[r.commitment]
            made = sb.create_requisition(
                rec,
                {
                    "invoice_number": r.invoice_number,
                    "status": "draft",
                    "requisition_start": r.period_start.isoformat(),
                    "requisition_end": r.period_end.isoformat(),
                    "billing_date": r.period_end.isoformat(),
                },
            )
            released = r.retainage_released
            for ln in r.lines:
                if ln.commitment_line_index >= len(made["_items"]):
                    continue
                item = made["_items"][ln.commitment_line_index]
                data: dict[str, Any] = {
                    "work_completed_this_period": ln.work_completed_this_period,
                    "materials_presently_stored": ln.materials_stored,
                    "work_completed_retainage_percent_this_period": ln.retainage_percent,
                    "materials_stored_retainage_percent_this_period": ln.retainage_percent,
                }
                if released:
                    data["work_completed_retainage_released_this_period"] = released
                    released = Decimal("0")
                sb.update_requisition_item(made, item["id"], data, person=True)
            changes: dict[str, Any] = {"status": REQ_STATUS.get(r.status, "draft")}
            if r.paid_on is not None:
                changes["payment_date"] = r.paid_on.isoformat()
            sb.update_requisition(made, changes, person=True)
            ids[f"requisition:{r.key}"] = str(made["id"])
        primes = {}
        for pc in company.prime_contracts:
            made = sb.create_prime(
                projects[pc.project],
                {
                    "number": pc.number,
                    "title": pc.title,
                    "status": "Approved",
                    "retainage_percent": pc.retainage_percent,
                    "owner_name": pc.customer,
                },
            )
            for line in pc.lines:
                sb.add_prime_line(made, line_data(pc.project, line))
            primes[pc.key] = made
            ids[f"prime_contract:{pc.key}"] = str(made["id"])
        for pa in sorted(company.payment_applications, key=lambda x: (x.prime_contract, x.number)):
            pct = (pa.retainage * 100 / pa.work_completed) if pa.work_completed else Decimal(0)
            made = sb.create_pay_app(
                primes[pa.prime_contract],
                {
                    "invoice_number": pa.invoice_number,
                    "status": REQ_STATUS.get(pa.status, "draft"),
                    "period_start": pa.period_start.isoformat(),
                    "period_end": pa.period_end.isoformat(),
                    "billing_date": pa.period_end.isoformat(),
                    "work_completed_this_period": pa.work_completed,
                    "retainage_percent": pct,
                },
            )
            ids[f"payment_application:{pa.key}"] = str(made["id"])
        for dc in company.direct_costs:
            vendor = vendors.get(dc.vendor) if dc.vendor else None
            made = sb.create_direct_cost(
                projects[dc.project],
                {
                    "direct_cost_type": dc.kind.lower(),
                    "invoice_number": dc.invoice_number,
                    "direct_cost_date": dc.date.isoformat(),
                    "status": dc.status,
                    "vendor_id": vendor and vendor["id"],
                },
            )
            for line in dc.lines:
                sb.add_dc_line(made, line_data(dc.project, line))
            ids[f"direct_cost:{dc.key}"] = str(made["id"])
    return ids
