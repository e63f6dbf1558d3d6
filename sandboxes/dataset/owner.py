"""The owner side and the job's own costs: the prime contract, its payment applications (owner
invoices, billed each month in proportion to the cost billed by vendors, 100 % in the last month
of a finished project) and direct costs (payroll, supplier invoices, expenses)."""

from __future__ import annotations

import math
import random
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from . import catalog
from .amounts import ONE_DAY, TEN, cents, money
from .model import DirectCost, Line, PaymentApplication, PrimeContract

if TYPE_CHECKING:
    from .documents import Builder

SUPPLIER_NAMES = tuple(catalog.SUPPLIERS)


def prime_contract(b: Builder, project, committed, cost_by_month, duration, elapsed):
    rng = b.rng
    fee = 1 + rng.uniform(0.05, 0.10)
    lines = []
    for code in sorted(committed):
        amount, cost_type = committed[code]
        dollars = round(amount * fee / 100)
        desc = catalog.COST_CODES.get(code) or catalog.UNMAPPED_COST_CODES[code]
        lines.append(Line(code, cost_type, desc, money(dollars * 100)))
    key = f"PC-{project.number.replace('-', '')}"
    prime = PrimeContract(
        key, project.key, key, f"Prime Contract - {project.name}", project.customer, TEN, lines
    )
    b.company.prime_contracts.append(prime)
    total_cost = sum(v[0] for v in committed.values())
    prime_total = cents(prime.amount)
    months = b.months[project.key]
    apps: list[PaymentApplication] = []
    prev = cum = 0
    for m in range(min(duration, elapsed)):
        cum += cost_by_month[m]
        last = m == duration - 1
        target = prime_total if last else prime_total * cum // max(1, total_cost)
        if target <= prev:
            continue
        work = money(target - prev)
        prev = target
        start, end = months[m]
        n = len(apps) + 1
        app = PaymentApplication(
            key=f"{key}-PA-{n:02d}",
            prime_contract=key,
            number=n,
            invoice_number=f"{project.number}-{n:02d}",
            period_start=start,
            period_end=end,
            status="approved",
            work_completed=work,
            retainage=(work * TEN / 100).quantize(Decimal("0.01")),
        )
        b._sync(app, end, True)
        apps.append(app)
    if apps and not apps[-1].in_erp and (b.today - apps[-1].period_end).days < 40:
        apps[-1].status = "draft"
    b.company.payment_applications.extend(apps)


def direct_cost(b: Builder, project, region, n, months, elapsed) -> None:
    rng = b.rng
    today = b.today
    first = project.start_date
    last = min(today - ONE_DAY, months[-1][1])
    day = first + timedelta(days=rng.randint(0, max(0, (last - first).days)))
    kind = rng.choices(("Payroll", "Invoice", "Expense"), (30, 50, 20))[0]
    vendor = None
    if kind == "Payroll":
        choices = [("01-310", "L"), ("01-500", "L"), ("01-740", "L")]
        number = f"PR-{day:%Y%m%d}"
    elif kind == "Invoice":
        category = rng.choice(SUPPLIER_NAMES)
        vendor = b._vendor(region, category)
        codes, cost_type, *_ = catalog.SUPPLIERS[category]
        choices = [(code, cost_type) for code in codes]
        number = f"{rng.randint(10000, 99999)}"
    else:
        choices = [("01-500", "O"), ("01-740", "O"), ("01-450", "O")]
        number = f"EXP-{project.number}-{n:03d}"
    lines = []
    for _ in range(rng.randint(1, 4)):
        code, cost_type = rng.choice(choices)
        lines.append(Line(code, cost_type, catalog.COST_CODES[code], money(_cost(rng))))
    age = (today - day).days
    status = "approved" if age > 30 else rng.choice(("pending", "draft"))
    b.company.direct_costs.append(
        DirectCost(
            key=f"DC-{project.number.replace('-', '')}-{n:04d}",
            project=project.key,
            vendor=vendor,
            kind=kind,
            invoice_number=number,
            date=day,
            status=status,
            lines=lines,
        )
    )


def _cost(rng: random.Random) -> int:
    return int(math.exp(rng.uniform(math.log(15000), math.log(2500000))))
