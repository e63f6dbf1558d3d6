"""``summary(company)``: counts, money per currency and planted counts, as a JSON-ready dict."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from .model import Company


def summary(company: Company) -> dict:
    projects = {p.key: p for p in company.projects}
    currency_of = {c.key: projects[c.project].currency for c in company.commitments}
    prime_currency = {pc.key: projects[pc.project].currency for pc in company.prime_contracts}
    totals: dict[str, Counter] = {}

    def add(currency: str, name: str, amount: Decimal) -> None:
        totals.setdefault(currency, Counter())[name] += amount

    for c in company.commitments:
        add(currency_of[c.key], "committed", c.amount)
    for co in company.change_orders:
        if co.status == "approved":
            add(currency_of[co.commitment], "approved_change_orders", co.amount)
    for r in company.requisitions:
        cur = currency_of[r.commitment]
        add(cur, "billed_by_vendors", r.gross)
        add(cur, "retainage_held", r.retainage)
        add(cur, "retainage_released", r.retainage_released)
        if r.paid_in_erp:
            add(cur, "paid_to_vendors", r.net)
    for pc in company.prime_contracts:
        add(prime_currency[pc.key], "prime_contracts", pc.amount)
    for pa in company.payment_applications:
        cur = prime_currency[pa.prime_contract]
        add(cur, "billed_to_owners", pa.work_completed)
        add(cur, "owner_retainage", pa.retainage)
        if pa.paid_in_erp:
            add(cur, "paid_by_owners", pa.net)
    for dc in company.direct_costs:
        add(projects[dc.project].currency, "direct_costs", dc.amount)

    kinds = Counter(c.kind for c in company.commitments)
    return {
        "company": company.name,
        "seed": company.seed,
        "size": company.size,
        "counts": {
            "subsidiaries": len(company.subsidiaries),
            "cost_codes": len(company.cost_codes),
            "accounts": len(company.accounts),
            "vendors": len(company.vendors),
            "customers": len(company.customers),
            "projects": len(company.projects),
            "commitments": len(company.commitments),
            "subcontracts": kinds["subcontract"],
            "purchase_orders": kinds["purchase_order"],
            "commitment_lines": sum(len(c.lines) for c in company.commitments),
            "change_orders": len(company.change_orders),
            "requisitions": len(company.requisitions),
            "requisition_lines": sum(len(r.lines) for r in company.requisitions),
            "prime_contracts": len(company.prime_contracts),
            "payment_applications": len(company.payment_applications),
            "direct_costs": len(company.direct_costs),
        },
        "projects_by_books": dict(
            sorted(Counter(f"{p.erp}/{p.subsidiary}" for p in company.projects).items())
        ),
        "projects_by_status": dict(sorted(Counter(p.status for p in company.projects).items())),
        "in_erp": {
            "commitments": sum(c.in_erp for c in company.commitments),
            "requisitions": sum(r.in_erp for r in company.requisitions),
            "requisitions_paid": sum(r.paid_in_erp for r in company.requisitions),
            "payment_applications": sum(p.in_erp for p in company.payment_applications),
            "payment_applications_paid": sum(p.paid_in_erp for p in company.payment_applications),
        },
        "totals": {
            cur: {name: str(amount) for name, amount in sorted(values.items())}
            for cur, values in sorted(totals.items())
        },
        "planted": {case: len(keys) for case, keys in company.planted.items()},
    }
