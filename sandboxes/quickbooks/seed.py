"""Load the neutral dataset (``sandboxes/dataset/model.py``) into a QuickBooks sandbox company.

What QBO holds (model docstring): accounts, items per cost code, classes, customers for the owners,
vendors with ``in_quickbooks`` and, on projects with ``erp == "quickbooks"``, the documents with
``in_erp`` (entered earlier by hand: no link to Procore) and their payments.

Decisions (the reference's construction notes, §4.2/§4.4/§4.10):
* one **Class per CSI division** ("03 Concrete"): classes are QBO's broad reporting segment, the
  cost code itself is carried by the **Item** ("03-300 Cast-in-Place Concrete", one per cost code
  except ``company.unmapped_cost_codes``), whose expense account is the job-cost account of the
  cost type the code is first used with (Subcontract when unknown);
* a project is a **sub-customer job** (``Job: true``, ``ParentRef`` = the owner) named
  "<number> <name>"; owners are top-level customers;
* no Departments (locations): the dataset has one QBO company and no location dimension;
* terms: a fresh company already has Due on receipt / Net 15 / Net 30 / Net 60;
* retainage (§4.10, no native field): a Bill carries gross lines per cost code plus one negative
  line to Retention Payable; a retainage release bills the released amount to Retention Payable.
  Invoices alike with a "Retainage" item whose income account is Retention Receivable;
* lines on unmapped cost codes go to the cost account directly (AccountBasedExpenseLineDetail);
* ``erp_edit`` (the hand edit on a planted PO) is applied as: ``memo`` -> PrivateNote,
  ``amount``/``description`` -> first line, ``txn_date`` -> TxnDate; other keys are noted in
  PrivateNote.

Returns ``{"account:<key>": id, "class:<division>": id, "item:<code>": id, "vendor:<key>": id,
"customer:<key>": id, "job:<project key>": id, "term:<name>": id, "po:<commitment key>": id,
"bill:<requisition key>": id, "billpayment:<requisition key>": id, "invoice:<pay app key>": id,
"payment:<pay app key>": id, "realm": realm}``. No webhooks fire while loading.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from ..dataset.model import Company, Line

ACCOUNT_TYPES = {
    "Bank": "Bank",
    "AccountsReceivable": "Accounts Receivable",
    "OtherCurrentAsset": "Other Current Asset",
    "FixedAsset": "Fixed Asset",
    "OtherAsset": "Other Asset",
    "AccountsPayable": "Accounts Payable",
    "CreditCard": "Credit Card",
    "OtherCurrentLiability": "Other Current Liability",
    "LongTermLiability": "Long Term Liability",
    "Equity": "Equity",
    "Income": "Income",
    "OtherIncome": "Other Income",
    "CostOfGoodsSold": "Cost of Goods Sold",
    "Expense": "Expense",
    "OtherExpense": "Other Expense",
}
COST_TYPE_ACCOUNTS = {
    "L": "cost_labor",
    "M": "cost_materials",
    "S": "cost_subcontract",
    "E": "cost_equipment",
    "O": "cost_other",
}


def _name(text: str, limit: int = 100) -> str:
    return re.sub(r"\s+", " ", text.replace(":", " -")).strip()[:limit]


def _ref(ids: dict[str, str], key: str) -> dict[str, str]:
    return {"value": ids[key]}


def load(sandbox: Any, company: Company, realm_id: str | None = None) -> dict[str, str]:
    realm = realm_id or sandbox.default_realm
    if realm not in sandbox.companies:
        sandbox.add_company(realm, company.name)
    enabled, sandbox.events_enabled = sandbox.events_enabled, False
    try:
        with sandbox.lock:
            return _load(sandbox, company, realm)
    finally:
        sandbox.events = []
        sandbox.events_enabled = enabled


def _load(sb: Any, company: Company, realm: str) -> dict[str, str]:
    ids: dict[str, str] = {"realm": realm}

    def create(entity: str, body: dict[str, Any]) -> dict[str, Any]:
        return sb.create(realm, entity, body, allow_dup=True)

    # Accounts: the dataset's A/P and A/R are the company's own (renamed to the dataset's names).
    for acct in company.accounts:
        qbo_type = ACCOUNT_TYPES.get(acct.type, "Expense")
        existing = None
        if qbo_type in ("Accounts Payable", "Accounts Receivable"):
            existing = sb.account_by_type(realm, qbo_type)
        if existing is not None:
            body = {"Name": _name(acct.name), "AcctNum": acct.number}
            rec = sb.edit_record("Account", existing["Id"], body, realm=realm)
        else:
            rec = create(
                "Account",
                {"Name": _name(acct.name), "AcctNum": acct.number, "AccountType": qbo_type},
            )
        ids[f"account:{acct.key}"] = rec["Id"]
    for term in sb.coll(realm, "Term").values():
        ids[f"term:{term['Name']}"] = term["Id"]

    # Classes per division, items per mapped cost code.
    for code in company.cost_codes:
        key = f"class:{code.division}"
        if key not in ids:
            ids[key] = create("Class", {"Name": _name(f"{code.division} {code.division_name}")})[
                "Id"
            ]
    first_type: dict[str, str] = {}
    for commitment in company.commitments:
        for line in commitment.lines:
            first_type.setdefault(line.cost_code, line.cost_type)
    income = ids.get("account:revenue") or sb.account_by_type(realm, "Income")["Id"]
    unmapped = set(company.unmapped_cost_codes)
    for code in company.cost_codes:
        if code.code in unmapped:
            continue
        cost_key = COST_TYPE_ACCOUNTS.get(first_type.get(code.code, "S"), "cost_subcontract")
        expense = ids.get(f"account:{cost_key}") or income
        item = create(
            "Item",
            {
                "Name": _name(f"{code.code} {code.name}"),
                "Sku": code.code,
                "Type": "Service",
                "Description": code.name,
                "PurchaseDesc": code.name,
                "IncomeAccountRef": {"value": income},
                "ExpenseAccountRef": {"value": expense},
            },
        )
        ids[f"item:{code.code}"] = item["Id"]
    if "account:retention_receivable" in ids:
        ids["item:retainage"] = create(
            "Item",
            {
                "Name": "Retainage",
                "Type": "Service",
                "IncomeAccountRef": _ref(ids, "account:retention_receivable"),
            },
        )["Id"]
    ids["item:billing"] = create(
        "Item",
        {"Name": "Contract Billing", "Type": "Service", "IncomeAccountRef": {"value": income}},
    )["Id"]

    # Names.
    for vendor in company.vendors:
        if not vendor.in_quickbooks:
            continue
        body = {
            "DisplayName": _name(vendor.erp_name),
            "CompanyName": vendor.erp_name[:100],
            "PrimaryEmailAddr": {"Address": vendor.email},
            "PrimaryPhone": {"FreeFormNumber": vendor.phone},
            "BillAddr": {
                "Line1": vendor.address,
                "City": vendor.city,
                "CountrySubDivisionCode": vendor.state,
                "PostalCode": vendor.zip,
                "Country": vendor.country,
            },
            "TaxIdentifier": vendor.tax_id,
            "Vendor1099": True,
        }
        ids[f"vendor:{vendor.key}"] = create("Vendor", body)["Id"]
    qb_projects = [p for p in company.projects if p.erp == "quickbooks"]
    customers = company.by_key("customers")
    for project in qb_projects:
        owner_key = f"customer:{project.customer}"
        if owner_key not in ids:
            owner = customers[project.customer]
            ids[owner_key] = create(
                "Customer",
                {
                    "DisplayName": _name(owner.name),
                    "CompanyName": owner.name[:100],
                    "PrimaryEmailAddr": {"Address": owner.email},
                },
            )["Id"]
        job = create(
            "Customer",
            {
                "DisplayName": _name(f"{project.number} {project.name}"),
                "ParentRef": {"value": ids[owner_key]},
                "Job": True,
                "BillWithParent": True,
                "ShipAddr": {
                    "Line1": project.address,
                    "City": project.city,
                    "CountrySubDivisionCode": project.state,
                    "PostalCode": project.zip,
                },
            },
        )
        ids[f"job:{project.key}"] = job["Id"]
    _documents(sb, company, realm, ids, {p.key for p in qb_projects}, create)
    return ids


def _expense_line(ids: dict[str, str], line: Line, job: str, amount: Decimal | None = None):
    amount = line.amount if amount is None else amount
    division = line.cost_code.split("-")[0]
    class_ref = {"value": ids[f"class:{division}"]} if f"class:{division}" in ids else None
    item = ids.get(f"item:{line.cost_code}")
    if item:
        detail: dict[str, Any] = {"ItemRef": {"value": item}, "CustomerRef": {"value": job}}
        if amount == line.amount:
            detail["Qty"] = line.quantity
            detail["UnitPrice"] = (
                line.unit_cost
                if line.unit_cost is not None
                else (
                    (line.amount / line.quantity).quantize(Decimal("0.01"))
                    if line.quantity
                    else amount
                )
            )
        dtype = "ItemBasedExpenseLineDetail"
    else:
        cost_key = f"account:{COST_TYPE_ACCOUNTS.get(line.cost_type, 'cost_other')}"
        detail = {"AccountRef": {"value": ids[cost_key]}, "CustomerRef": {"value": job}}
        dtype = "AccountBasedExpenseLineDetail"
    if class_ref:
        detail["ClassRef"] = class_ref
    desc = f"{line.cost_code} {line.description}"[:4000]
    return {"DetailType": dtype, "Amount": amount, "Description": desc, dtype: detail}


def _account_line(ids: dict[str, str], account_key: str, amount: Decimal, job: str, desc: str):
    detail = {"AccountRef": {"value": ids[account_key]}, "CustomerRef": {"value": job}}
    return {
        "DetailType": "AccountBasedExpenseLineDetail",
        "Amount": amount,
        "Description": desc,
        "AccountBasedExpenseLineDetail": detail,
    }


def _apply_edit(body: dict[str, Any], edit: dict[str, str]) -> None:
    notes = []
    for key, value in edit.items():
        # The dataset's form is "line:<index>:<field>" (sandboxes/dataset/planted.py).
        parts = key.split(":")
        if len(parts) == 3 and parts[0] == "line" and parts[1].isdigit():
            index, field = int(parts[1]), parts[2]
            if index < len(body["Line"]) and field == "amount":
                line = body["Line"][index]
                line["Amount"] = Decimal(str(value))
                detail = line[line["DetailType"]]
                detail.pop("Qty", None)
                detail.pop("UnitPrice", None)
                continue
            if index < len(body["Line"]) and field == "description":
                body["Line"][index]["Description"] = value
                continue
        if key in ("memo", "private_note"):
            body["PrivateNote"] = value
        elif key == "amount" and body["Line"]:
            line = body["Line"][0]
            line["Amount"] = Decimal(str(value))
            detail = line[line["DetailType"]]
            detail.pop("Qty", None)
            detail.pop("UnitPrice", None)
        elif key == "description" and body["Line"]:
            body["Line"][0]["Description"] = value
        elif key in ("txn_date", "date"):
            body["TxnDate"] = value
        else:
            notes.append(f"{key}: {value}")
    if notes:
        body["PrivateNote"] = "; ".join([body.get("PrivateNote", "")] + notes).strip("; ")


def _documents(sb, company: Company, realm: str, ids: dict[str, str], projects: set, create):
    commitments = company.by_key("commitments")
    approved_cos: dict[str, list] = {}
    for co in company.change_orders:
        if co.status == "approved" and not co.after_erp_approval:
            approved_cos.setdefault(co.commitment, []).append(co)
    for c in company.commitments:
        vendor = ids.get(f"vendor:{c.vendor}")
        if c.project not in projects or not c.in_erp or c.deleted or vendor is None:
            continue
        job = ids[f"job:{c.project}"]
        lines = [_expense_line(ids, ln, job) for ln in c.lines]
        body = {
            "VendorRef": {"value": vendor},
            "APAccountRef": _ref(ids, "account:ap"),
            "DocNumber": c.number[:21],
            "TxnDate": c.contract_date.isoformat(),
            "Memo": c.title[:4000],
            "POStatus": "Closed" if c.status in ("Complete", "Terminated", "Void") else "Open",
            "Line": lines,
        }
        if c.erp_edited_by_hand and c.erp_edit:
            _apply_edit(body, c.erp_edit)
        ids[f"po:{c.key}"] = create("PurchaseOrder", body)["Id"]

    for req in company.requisitions:
        c = commitments.get(req.commitment)
        if c is None or c.project not in projects or not req.in_erp:
            continue
        vendor = ids.get(f"vendor:{c.vendor}")
        if vendor is None:
            continue
        job = ids[f"job:{c.project}"]
        lines = []
        for rl in req.lines:
            gross = rl.work_completed_this_period + rl.materials_stored
            if gross:
                lines.append(_expense_line(ids, c.lines[rl.commitment_line_index], job, gross))
        if req.retainage:
            desc = f"Retainage held {req.number}"
            lines.append(_account_line(ids, "account:retention_payable", -req.retainage, job, desc))
        if req.retainage_released:
            desc = f"Retainage released {req.number}"
            amount = req.retainage_released
            lines.append(_account_line(ids, "account:retention_payable", amount, job, desc))
        if not lines:
            continue
        body = {
            "VendorRef": {"value": vendor},
            "APAccountRef": _ref(ids, "account:ap"),
            "DocNumber": req.invoice_number[:21],
            "TxnDate": req.period_end.isoformat(),
            "SalesTermRef": {"value": ids.get("term:Net 30")},
            "Line": lines,
        }
        if f"po:{c.key}" in ids:
            body["LinkedTxn"] = [{"TxnId": ids[f"po:{c.key}"], "TxnType": "PurchaseOrder"}]
        bill = create("Bill", body)
        ids[f"bill:{req.key}"] = bill["Id"]
        if req.paid_in_erp and bill["Balance"] > 0:
            date = (req.paid_on or req.period_end).isoformat()
            payment = sb.mark_bill_paid(bill["Id"], realm=realm, txn_date=date)
            ids[f"billpayment:{req.key}"] = payment["Id"]

    contracts = company.by_key("prime_contracts")
    for app in company.payment_applications:
        pc = contracts.get(app.prime_contract)
        if pc is None or pc.project not in projects or not app.in_erp:
            continue
        job = ids[f"job:{pc.project}"]
        lines = [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": app.work_completed,
                "Description": f"{pc.title} - application {app.number}",
                "SalesItemLineDetail": {"ItemRef": _ref(ids, "item:billing")},
            }
        ]
        if app.retainage and "item:retainage" in ids:
            lines.append(
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": -app.retainage,
                    "Description": "Retainage held",
                    "SalesItemLineDetail": {"ItemRef": _ref(ids, "item:retainage")},
                }
            )
        body = {
            "CustomerRef": {"value": job},
            "DocNumber": app.invoice_number[:21],
            "TxnDate": app.period_end.isoformat(),
            "SalesTermRef": {"value": ids.get("term:Net 30")},
            "Line": lines,
        }
        invoice = create("Invoice", body)
        ids[f"invoice:{app.key}"] = invoice["Id"]
        if app.paid_in_erp and invoice["Balance"] > 0:
            date = (app.paid_on or app.period_end).isoformat()
            payment = sb.mark_invoice_paid(invoice["Id"], realm=realm, txn_date=date)
            ids[f"payment:{app.key}"] = payment["Id"]
