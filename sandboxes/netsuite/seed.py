"""Write the NetSuite part of a neutral company (``sandboxes/dataset/model.py``) into a sandbox.

What NetSuite holds (model docstring): subsidiaries in their currencies, currencies, accounts,
items per cost code (except ``company.unmapped_cost_codes``), classes/departments/locations,
vendors with ``in_netsuite`` and their subsidiary assignments, customers and projects (``job``)
of the projects with ``erp == "netsuite"``, and those projects' documents with ``in_erp``
(POs, bills, invoices) with their payments. Records entered by hand carry no external id.

Decisions where the model is silent: one shared chart of accounts assigned to every subsidiary
plus one bank account per subsidiary (``bank:<sub>``); a class per cost type, a department per
CSI division, a location per subsidiary; owner invoices use two service items, "Progress
Billing" and "Retainage" (negative line); bills carry retainage held/released as expense lines
on the retention-payable account. A document the account would refuse (e.g. a planted vendor not
assigned to the project's subsidiary) is not created; ``skipped:<key>`` says why.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..dataset.model import Company, Line
from .app import NetSuiteSandbox
from .errors import NSError
from .schema import RECORD_TYPES

RATES = {"USD": "1", "CAD": "0.73", "EUR": "1.08", "GBP": "1.27", "MXN": "0.058"}
ACCT_TYPES = {
    "AccountsPayable": "AcctPay",
    "AccountsReceivable": "AcctRec",
    "Bank": "Bank",
    "OtherCurrentLiability": "OthCurrLiab",
    "OtherCurrentAsset": "OthCurrAsset",
    "Expense": "Expense",
    "Income": "Income",
    "CostOfGoodsSold": "COGS",
    "Equity": "Equity",
    "FixedAsset": "FixedAsset",
    "LongTermLiability": "LongTermLiab",
    "OtherIncome": "OthIncome",
    "OtherExpense": "OthExpense",
}


def load(sandbox: NetSuiteSandbox, company: Company) -> dict[str, str]:
    ids: dict[str, str] = {}
    books = sandbox.books

    def add(rtype: str, key: str, body: dict[str, Any]) -> str:
        rec, _ = books.create(RECORD_TYPES[rtype], body)
        ids[key] = rec["id"]
        return rec["id"]

    def ref(key: str) -> dict[str, str]:
        return {"id": ids[key]}

    # currencies (the first subsidiary's is the base currency) and subsidiaries
    codes: list[str] = []
    for sub in company.subsidiaries:
        if sub.currency not in codes:
            codes.append(sub.currency)
    for proj in company.projects:
        if proj.erp == "netsuite" and proj.currency not in codes:
            codes.append(proj.currency)
    for i, code in enumerate(codes):
        add(
            "currency",
            f"currency:{code}",
            {
                "name": code,
                "symbol": code,
                "isBaseCurrency": i == 0,
                "exchangeRate": Decimal(RATES.get(code, "1")),
                "currencyPrecision": 2,
            },
        )
    parent = None
    for sub in company.subsidiaries:
        body: dict[str, Any] = {
            "name": sub.name,
            "country": sub.country,
            "currency": ref(f"currency:{sub.currency}"),
        }
        if parent:
            body["parent"] = {"id": parent}
        sid = add("subsidiary", f"subsidiary:{sub.key}", body)
        parent = parent or sid
    all_subs = {"items": [ref(f"subsidiary:{s.key}") for s in company.subsidiaries]}

    # chart of accounts, bank per subsidiary
    for acct in company.accounts:
        add(
            "account",
            f"account:{acct.key}",
            {
                "acctNumber": acct.number,
                "acctName": acct.name,
                "acctType": ACCT_TYPES.get(acct.type, "Expense"),
                "subsidiary": all_subs,
                "includeChildren": True,
            },
        )
    for n, sub in enumerate(company.subsidiaries):
        add(
            "account",
            f"bank:{sub.key}",
            {
                "acctNumber": f"10{n + 1:02d}",
                "acctName": f"Operating Account {sub.currency}",
                "acctType": "Bank",
                "currency": ref(f"currency:{sub.currency}"),
                "subsidiary": {"items": [ref(f"subsidiary:{sub.key}")]},
            },
        )
    by_type = {a.type: a.key for a in reversed(company.accounts)}
    cost_acct = next(
        (f"account:{k}" for k in ("cost_subcontract", "cost_materials") if f"account:{k}" in ids),
        None,
    )
    cost_acct = cost_acct or (f"account:{by_type['Expense']}" if "Expense" in by_type else None)
    income_acct = f"account:{by_type['Income']}" if "Income" in by_type else None

    # segments
    for ct in company.cost_types:
        add(
            "classification",
            f"class:{ct.code}",
            {"name": ct.name, "subsidiary": all_subs, "includeChildren": True},
        )
    divisions: dict[str, str] = {}
    for cc in company.cost_codes:
        divisions.setdefault(cc.division, cc.division_name)
    for div, name in divisions.items():
        add("department", f"department:{div}", {"name": f"{div} {name}", "subsidiary": all_subs})
    for sub in company.subsidiaries:
        add(
            "location",
            f"location:{sub.key}",
            {"name": f"{sub.name} - Main Office", "subsidiary": ref(f"subsidiary:{sub.key}")},
        )

    # items
    def item(key: str, item_id: str, name: str, **extra: Any) -> None:
        body = {
            "itemId": item_id,
            "displayName": name,
            "subsidiary": all_subs,
            "includeChildren": True,
            **extra,
        }
        if cost_acct:
            body.setdefault("expenseAccount", ref(cost_acct))
        if income_acct:
            body.setdefault("incomeAccount", ref(income_acct))
        add("serviceResaleItem", key, body)

    for cc in company.cost_codes:
        if cc.code not in company.unmapped_cost_codes:
            item(
                f"item:{cc.code}",
                f"{cc.code} {cc.name}",
                cc.name,
                department=ref(f"department:{cc.division}"),
            )
    item("item:progress_billing", "Progress Billing", "Progress Billing")
    retention_rcv = "account:retention_receivable"
    item(
        "item:retainage",
        "Retainage",
        "Retainage",
        **({"incomeAccount": ref(retention_rcv)} if retention_rcv in ids else {}),
    )

    # vendors
    sub_keys = [s.key for s in company.subsidiaries]
    for v in company.vendors:
        if not v.in_netsuite:
            continue
        assigned = [s for s in v.subsidiaries if s in sub_keys] or sub_keys[:1]
        add(
            "vendor",
            f"vendor:{v.key}",
            {
                "companyName": v.erp_name,
                "email": v.email,
                "phone": v.phone,
                "taxIdNum": v.tax_id,
                "subsidiary": ref(f"subsidiary:{assigned[0]}"),
                "submachine": {
                    "items": [{"subsidiary": ref(f"subsidiary:{s}")} for s in assigned[1:]]
                },
            },
        )

    # customers and projects
    projects = [p for p in company.projects if p.erp == "netsuite"]
    customers = company.by_key("customers")
    for p in projects:
        cust = customers[p.customer]
        if f"customer:{cust.key}" not in ids:
            add(
                "customer",
                f"customer:{cust.key}",
                {
                    "companyName": cust.name,
                    "email": cust.email,
                    "subsidiary": ref(f"subsidiary:{cust.subsidiary or p.subsidiary}"),
                },
            )
        add(
            "job",
            f"job:{p.key}",
            {
                "entityId": f"{p.number} {p.name}",
                "companyName": p.name,
                "parent": ref(f"customer:{cust.key}"),
                "subsidiary": ref(f"subsidiary:{p.subsidiary}"),
                "currency": ref(f"currency:{p.currency}"),
                "startDate": p.start_date.isoformat(),
                "entityStatus": {"id": "1" if p.status == "Closed" else "2"},
            },
        )
    _documents(sandbox, company, {p.key for p in projects}, ids)
    return ids


def _line(ids: dict[str, str], line: Line, job: str, n: int) -> tuple[str, dict[str, Any]]:
    qty = line.quantity or Decimal("1")
    rate = line.unit_cost if line.unit_cost is not None else line.amount / qty
    seg = (
        {"customer": {"id": ids[job]}, "class": {"id": ids[f"class:{line.cost_type}"]}}
        if f"class:{line.cost_type}" in ids
        else {"customer": {"id": ids[job]}}
    )
    division = line.cost_code.split("-")[0]
    if f"department:{division}" in ids:
        seg["department"] = {"id": ids[f"department:{division}"]}
    if f"item:{line.cost_code}" in ids:
        return "item", {
            "item": {"id": ids[f"item:{line.cost_code}"]},
            "quantity": qty,
            "rate": rate,
            "amount": line.amount,
            "description": line.description,
            **seg,
        }
    acct = ids.get("account:cost_subcontract") or next(
        v for k, v in ids.items() if k.startswith("account:")
    )
    return "expense", {
        "account": {"id": acct},
        "amount": line.amount,
        "memo": f"{line.cost_code} {line.description}",
        **seg,
    }


def _documents(
    sb: NetSuiteSandbox, company: Company, projects: set[str], ids: dict[str, str]
) -> None:
    proj = company.by_key("projects")
    commitments = company.by_key("commitments")
    books = sb.books

    def create(rtype: str, key: str, body: dict[str, Any]) -> str | None:
        try:
            rec, _ = books.create(RECORD_TYPES[rtype], body)
        except NSError as exc:
            ids[f"skipped:{key}"] = exc.detail
            return None
        ids[key] = rec["id"]
        return rec["id"]

    def header(p: Any, vendor_key: str) -> dict[str, Any]:
        return {
            "entity": {"id": ids[vendor_key]},
            "subsidiary": {"id": ids[f"subsidiary:{p.subsidiary}"]},
            "currency": {"id": ids[f"currency:{p.currency}"]},
            "location": {"id": ids[f"location:{p.subsidiary}"]},
        }

    for c in company.commitments:
        p = proj[c.project]
        if c.project not in projects or not c.in_erp or c.deleted:
            continue
        if f"vendor:{c.vendor}" not in ids:
            continue
        body = header(p, f"vendor:{c.vendor}")
        body.update(tranId=c.number, tranDate=c.contract_date.isoformat(), memo=c.title)
        where: list[tuple[str, int]] = []  # commitment line index -> (sublist, line no)
        for n, line in enumerate(c.lines):
            kind, data = _line(ids, line, f"job:{p.key}", n)
            items = body.setdefault(kind, {"items": []})["items"]
            items.append(data)
            where.append((kind, len(items)))
        po = create("purchaseOrder", f"purchaseOrder:{c.key}", body)
        if po is None:
            continue
        if c.erp_approved:
            sb.control.approve_purchase_order(po)
        if c.erp_edited_by_hand:
            # model: erp_edit == {"line:<index>:<field>": value}, e.g. {"line:0:amount": "..."}
            for key, value in (c.erp_edit or {}).items():
                parts = key.split(":")
                if parts[0] == "memo":
                    sb.control.edit_purchase_order(po, memo=value)
                elif len(parts) == 3 and parts[0] == "line" and int(parts[1]) < len(where):
                    sublist, line_no = where[int(parts[1])]
                    field = parts[2]
                    change: dict[str, Any] = (
                        {"amount": Decimal(value)} if field == "amount" else {"line_memo": value}
                    )
                    sb.control.edit_purchase_order(po, line=line_no, sublist=sublist, **change)

    retention = ids.get("account:retention_payable")
    for r in company.requisitions:
        c = commitments[r.commitment]
        p = proj[c.project]
        if c.project not in projects or not r.in_erp or f"vendor:{c.vendor}" not in ids:
            continue
        body = header(p, f"vendor:{c.vendor}")
        body.update(
            tranId=r.invoice_number,
            tranDate=r.period_end.isoformat(),
            memo=f"{c.number} pay app #{r.number}",
        )
        if "account:ap" in ids:
            body["account"] = {"id": ids["account:ap"]}
        for rl in r.lines:
            line = c.lines[rl.commitment_line_index]
            amount = rl.work_completed_this_period + rl.materials_stored
            kind, data = _line(
                ids,
                Line(line.cost_code, line.cost_type, line.description, amount),
                f"job:{p.key}",
                0,
            )
            if f"purchaseOrder:{c.key}" in ids and kind == "item":
                data["orderDoc"] = {"id": ids[f"purchaseOrder:{c.key}"]}
                data["orderLine"] = rl.commitment_line_index + 1
            body.setdefault(kind, {"items": []})["items"].append(data)
        if retention:
            for memo, amt in (
                ("Retainage held", -r.retainage),
                ("Retainage released", r.retainage_released),
            ):
                if amt:
                    body.setdefault("expense", {"items": []})["items"].append(
                        {"account": {"id": retention}, "amount": amt, "memo": memo}
                    )
        bill = create("vendorBill", f"vendorBill:{r.key}", body)
        if bill and r.paid_in_erp:
            pay = sb.control.mark_bill_paid(
                bill,
                account=ids.get(f"bank:{p.subsidiary}"),
                tran_date=r.paid_on.isoformat() if r.paid_on else None,
            )
            ids[f"vendorPayment:{r.key}"] = pay

    primes = company.by_key("prime_contracts")
    for pa in company.payment_applications:
        pc = primes[pa.prime_contract]
        p = proj[pc.project]
        if pc.project not in projects or not pa.in_erp:
            continue
        body = {
            "entity": {"id": ids[f"job:{p.key}"]},
            "subsidiary": {"id": ids[f"subsidiary:{p.subsidiary}"]},
            "currency": {"id": ids[f"currency:{p.currency}"]},
            "tranId": pa.invoice_number,
            "tranDate": pa.period_end.isoformat(),
            "memo": f"{pc.number} pay app #{pa.number}",
            "item": {
                "items": [
                    {"item": {"id": ids["item:progress_billing"]}, "amount": pa.work_completed},
                ]
            },
        }
        if pa.retainage:
            body["item"]["items"].append(
                {"item": {"id": ids["item:retainage"]}, "amount": -pa.retainage}
            )
        if "account:ar" in ids:
            body["account"] = {"id": ids["account:ar"]}
        inv = create("invoice", f"invoice:{pa.key}", body)
        if inv and pa.paid_in_erp:
            pay = sb.control.mark_invoice_paid(
                inv,
                account=ids.get(f"bank:{p.subsidiary}"),
                tran_date=pa.paid_on.isoformat() if pa.paid_on else None,
            )
            ids[f"customerPayment:{pa.key}"] = pay
