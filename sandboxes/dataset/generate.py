"""The deterministic generator: ``generate(seed, size)`` builds one general contractor's world.

Summit Builders runs NetSuite OneWorld with two subsidiaries (US/USD, Canada/CAD) for its main
projects and a QuickBooks Online company for its small-works division (about one project in
five, US/USD). Every random choice comes from one ``random.Random(seed)`` and every date is
anchored to ``today`` (default ``REFERENCE_DATE``), so the same seed, size and date give an equal
``Company`` (dataclass equality) on any machine.

Sizes: ``"demo"`` is 5 projects of about a dozen commitments each (small enough to click
through, and every planted case is in it); ``"small"`` 25, ``"medium"`` 200 and ``"large"``
1,000 projects use the standard ratio of about 100 commitments per project (so "large" is about
100,000 commitments); an ``int`` is that many projects at the standard ratio.

The first five projects generated are always the same "showcase" mix (a US and a Canadian
NetSuite project in progress, a QuickBooks small-works job, a closed US project, a Canadian
project just starting), so every planted case has somewhere to live in any size of 5 or more;
the planted cases themselves are documented in ``planted.py``. What the ERP copy of a document
holds is documented in ``documents.py``.
"""

from __future__ import annotations

import gc
import math
import random
import re
from dataclasses import dataclass
from datetime import date, timedelta

from . import catalog, documents, planted
from .model import (
    Account,
    Company,
    CostCode,
    CostType,
    Customer,
    Project,
    Subsidiary,
    Vendor,
)

REFERENCE_DATE = date(2026, 1, 1)
SIZES = {"demo": 5, "small": 25, "medium": 200, "large": 1000}
COMPANY_NAME = "Summit Builders"


@dataclass(frozen=True)
class Profile:
    projects: int
    commitments_per_project: tuple[int, int]  # before the ERP factor below
    direct_costs_per_project: tuple[int, int]


# Small-works (QuickBooks) jobs have about half the packages of a NetSuite job; the factors keep
# the company-wide mean at the profile's midpoint (0.2 * 0.5 + 0.8 * 1.125 = 1.0).
COMMITMENT_FACTOR = {"quickbooks": 0.5, "netsuite": 1.125}

# (erp, subsidiary, months since start, duration in months) of the five showcase projects.
SHOWCASE = (
    ("netsuite", "us", 10, 18),
    ("netsuite", "ca", 11, 20),
    ("quickbooks", "us", 5, 8),
    ("netsuite", "us", 28, 16),
    ("netsuite", "ca", 3, 14),
)


def profile_for(size: str | int) -> Profile:
    if isinstance(size, bool) or not isinstance(size, (str, int)):
        raise TypeError(f"size must be a name or an int, not {size!r}")
    if isinstance(size, str):
        if size not in SIZES:
            raise ValueError(f"unknown size {size!r}; use one of {sorted(SIZES)} or an int")
        if size == "demo":
            return Profile(SIZES[size], (9, 13), (3, 5))
        size = SIZES[size]
    if size < 1:
        raise ValueError("size must be at least 1 project")
    return Profile(size, (80, 120), (8, 14))


def generate(seed: int = 42, size: str | int = "demo", *, today: date = REFERENCE_DATE) -> Company:
    """Build the company for ``seed`` and ``size``; equal inputs give an equal Company."""
    # Millions of small acyclic objects: the cyclic GC would rescan the growing heap again and
    # again for nothing (about 40 % of the time on "medium", more on "large").
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate(seed, size, today)
    finally:
        if gc_was_enabled:
            gc.enable()


def _generate(seed: int, size: str | int, today: date) -> Company:
    profile = profile_for(size)
    rng = random.Random(seed)
    company = Company(
        seed=seed,
        size=str(size),
        name=COMPANY_NAME,
        procore_company_id=str(562949953421312 + seed % 1_000_000),
        subsidiaries=[
            Subsidiary("us", f"{COMPANY_NAME} US Inc.", "US", "USD"),
            Subsidiary("ca", f"{COMPANY_NAME} Canada Ltd.", "CA", "CAD"),
        ],
        cost_codes=[_cost_code(code, name) for code, name in catalog.COST_CODES.items()],
        cost_types=[CostType(code, name) for code, name in catalog.COST_TYPES.items()],
        accounts=[Account(*row) for row in catalog.ACCOUNTS],
        vendors=[],
        customers=[],
        projects=[],
        commitments=[],
        change_orders=[],
        requisitions=[],
        prime_contracts=[],
        payment_applications=[],
        direct_costs=[],
    )
    plans = _project_plans(rng, profile.projects, today)
    regions = [_region(erp, sub) for erp, sub, *_ in plans]
    pools, vendor_keys = _vendors(rng, company, regions)
    owners = _customers(rng, company, regions)
    builder = documents.Builder(rng, company, today, pools, vendor_keys)
    names: set[str] = set()
    seq: dict[int, int] = {}
    for erp, sub, start, duration, value, require in sorted(plans, key=lambda p: p[2]):
        project = _project(rng, erp, sub, start, today, duration, names, seq, owners)
        company.projects.append(project)
        lo, hi = profile.commitments_per_project
        n_commitments = max(1, round(rng.randint(lo, hi) * COMMITMENT_FACTOR[erp]))
        n_direct = rng.randint(*profile.direct_costs_per_project)
        builder.project(project, duration, value, n_commitments, n_direct, require)
    planted.plant(rng, company, builder)
    _collect_cost_codes(company)
    return company


def _cost_code(code: str, name: str) -> CostCode:
    division = code[:2]
    return CostCode(code, name, division, catalog.DIVISIONS[division])


def _region(erp: str, subsidiary: str) -> str:
    return "qb" if erp == "quickbooks" else subsidiary


def _project_plans(rng: random.Random, n: int, today: date) -> list[tuple]:
    """(erp, subsidiary, start, duration months, contract value, required trade) per project."""
    plans = []
    for i in range(n):
        if i < len(SHOWCASE):
            erp, sub, age, duration = SHOWCASE[i]
        else:
            slot = i % 10
            erp = "quickbooks" if slot in (2, 7) else "netsuite"
            sub = "ca" if erp == "netsuite" and slot in (1, 4, 8) else "us"
            age = rng.randint(1, 40)
            duration = rng.randint(3, 10) if erp == "quickbooks" else rng.randint(10, 30)
        first = _add_months(today.replace(day=1), -age)
        start = first + timedelta(days=rng.randint(0, 20))
        if erp == "quickbooks":
            value = math.exp(rng.uniform(math.log(2e5), math.log(2.5e6)))
        else:
            value = math.exp(rng.uniform(math.log(3e6), math.log(6e7)))
            value *= 1.3 if sub == "ca" else 1.0  # CAD
        # The first showcase project always has a framing package (for "Star Framing").
        plans.append((erp, sub, start, duration, value, "Framing" if i == 0 else None))
    return plans


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _project(rng, erp, sub, start, today, duration, names, seq, owners) -> Project:
    year = start.year % 100
    seq[year] = seq.get(year, 100) + 1
    number = f"{year:02d}-{seq[year]}"
    types = catalog.SMALL_WORKS_TYPES if erp == "quickbooks" else catalog.PROJECT_TYPES
    name = f"{rng.choice(catalog.PROJECT_PLACES)} {rng.choice(types)}"
    phase = 2
    base = name
    while name in names:
        name = f"{base} Phase {phase}"
        phase += 1
    names.add(name)
    elapsed = (today.year - start.year) * 12 + today.month - start.month
    city, state, zip_code, country, street = _address(rng, sub)
    return Project(
        key=number,
        number=number,
        name=name,
        erp=erp,
        subsidiary=sub,
        currency="CAD" if sub == "ca" else "USD",
        customer=rng.choice(owners[_region(erp, sub)]),
        status="Closed" if elapsed >= duration + 2 else "Active",
        start_date=start,
        address=street,
        city=city,
        state=state,
        zip=zip_code,
        country=country,
        project_manager=rng.choice(catalog.PROJECT_MANAGERS[sub]),
    )


def _address(rng: random.Random, sub: str) -> tuple[str, str, str, str, str]:
    street = f"{rng.randint(100, 19999)} {rng.choice(catalog.STREETS)}"
    if sub == "ca":
        city, prov, fsa, _ = rng.choice(catalog.CA_CITIES)
        letter = rng.choice("ABCEGHJKLMNPRSTVWXYZ")
        return city, prov, f"{fsa} {rng.randint(1, 9)}{letter}{rng.randint(0, 9)}", "CA", street
    city, state, prefix, _ = rng.choice(catalog.US_CITIES)
    return city, state, f"{prefix}{rng.randint(1, 99):02d}", "US", street


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _unique_key(base: str, taken: set[str]) -> str:
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    taken.add(key)
    return key


def make_vendor(rng, company, taken, name, trade, sub, *, erp_name=None, **flags) -> Vendor:
    """Append a vendor with a plausible address, contact and tax id in ``sub``'s country."""
    city, state, zip_code, country, street = _address(rng, sub)
    area = next(c[3] for c in catalog.US_CITIES + catalog.CA_CITIES if c[0] == city)
    words = name.replace(",", " ").split()[:2]
    domain = "".join(w.lower() for w in words if w.isalnum()) + (".ca" if sub == "ca" else ".com")
    if sub == "ca":
        tax_id = f"{rng.randint(100000000, 999999999)} RT0001"  # GST/HST business number
    else:
        tax_id = f"{rng.randint(10, 99)}-{rng.randint(1000000, 9999999)}"  # EIN
    vendor = Vendor(
        key=_unique_key(slug(name), taken),
        name=name,
        erp_name=erp_name or name,
        trade=trade,
        email=f"{rng.choice(('ap', 'billing', 'accounting', 'office'))}@{domain}",
        phone=f"({area}) 555-01{rng.randint(0, 99):02d}",
        tax_id=tax_id,
        address=street,
        city=city,
        state=state,
        zip=zip_code,
        country=country,
        **flags,
    )
    company.vendors.append(vendor)
    return vendor


def _vendors(rng: random.Random, company: Company, regions: list[str]) -> tuple[dict, set]:
    """Subcontractors per trade and suppliers per category, for each region; returns the pools
    ``{(region, trade): [vendor key, ...]}`` commitments draw from ("qb" is the QuickBooks
    company, which only holds US vendors) and the set of vendor keys taken."""
    pools: dict[tuple[str, str], list[str]] = {}
    taken: set[str] = set()
    names: set[str] = set()
    counts = {"us": regions.count("us") + regions.count("qb"), "ca": regions.count("ca")}
    groups = [(t, words, 4) for t, (*_, words) in catalog.TRADES.items()]
    groups += [(s, (row[-1],), 8) for s, row in catalog.SUPPLIERS.items()]
    for sub in ("us", "ca"):
        suffixes = catalog.CA_SUFFIXES if sub == "ca" else catalog.US_SUFFIXES
        for trade, words, per in groups:
            n = min(60, 1 + counts[sub] // per)
            for i in range(n):
                name = f"{rng.choice(catalog.NAME_PREFIXES)} {rng.choice(words)}"
                name = f"{name} {rng.choice(suffixes)}"
                while name in names:
                    name = f"{rng.choice(catalog.NAME_PREFIXES)} {rng.choice(words)} {sub.upper()}"
                    name += f" {rng.choice(suffixes)}"
                names.add(name)
                subs = [sub]
                in_qb = sub == "us" and (i == 0 or rng.random() < 0.35)
                in_ns = True
                if in_qb and i > 0 and rng.random() < 0.15:
                    in_ns, subs = False, []  # small-works only: never entered in NetSuite
                elif sub == "us" and per == 8 and rng.random() < 0.2:
                    subs = ["us", "ca"]  # a national supplier serving both subsidiaries
                vendor = make_vendor(
                    rng,
                    company,
                    taken,
                    name,
                    trade,
                    sub,
                    in_netsuite=in_ns,
                    in_quickbooks=in_qb,
                    subsidiaries=subs,
                )
                for s in subs:
                    pools.setdefault((s, trade), []).append(vendor.key)
                if in_qb:
                    pools.setdefault(("qb", trade), []).append(vendor.key)
    return pools, taken


def _customers(rng: random.Random, company: Company, regions: list[str]) -> dict[str, list[str]]:
    """Owners per region; a customer lives in one ERP only (QuickBooks owners are separate)."""
    owners: dict[str, list[str]] = {}
    taken: set[str] = set()
    for region in ("us", "ca", "qb"):
        sub = "ca" if region == "ca" else "us"
        # about one owner per project (projects pick at random, so some own several), capped
        # well below the number of distinct names the catalog can make
        n = min(regions.count(region), 30 if region != "us" else 45)
        for _ in range(n):
            prefix = rng.choice(catalog.OWNER_PREFIXES[sub])
            name = f"{prefix} {rng.choice(catalog.OWNER_TYPES[region])}"
            key = _unique_key(f"owner-{slug(name)}", taken)
            if key != f"owner-{slug(name)}":
                name = f"{name} ({key.rsplit('-', 1)[1]})"
            domain = slug(prefix).replace("-", "") + (".ca" if sub == "ca" else ".com")
            company.customers.append(Customer(key, name, f"accountspayable@{domain}", sub))
            owners.setdefault(region, []).append(key)
    return owners


def _collect_cost_codes(company: Company) -> None:
    """Fill each project's ``cost_codes`` with the codes its documents use, in code order."""
    used: dict[str, set[str]] = {p.key: set() for p in company.projects}
    by_commitment = {}
    for c in company.commitments:
        by_commitment[c.key] = c.project
        used[c.project].update(line.cost_code for line in c.lines)
    for co in company.change_orders:
        used[by_commitment[co.commitment]].update(line.cost_code for line in co.lines)
    for doc in company.prime_contracts + company.direct_costs:
        used[doc.project].update(line.cost_code for line in doc.lines)
    for project in company.projects:
        project.cost_codes = sorted(used[project.key])
