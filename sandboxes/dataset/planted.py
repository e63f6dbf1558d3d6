"""The cases controllers meet in real life, planted after the ordinary documents are built.

``company.planted`` maps each case to keys of the kind in ``PLANTED_KINDS``:

* ``near_duplicate_vendor`` (vendors): ONE Vendor record per real company, known to Procore and
  the ERP, whose ``erp_name`` differs from its Procore ``name`` ("Star Framing" in Procore,
  "Star Framing, LLC" in NetSuite; others drift by punctuation, case or "and"/"&"). Same tax id,
  so a careful matcher links them and an exact-name matcher creates a duplicate. One record
  rather than two because a Vendor is one party seen from both systems; an ERP-only second
  record is what ``vendor_only_in_erp`` is. "Star Framing" holds a subcontract on a US
  NetSuite project (in the ERP when one exists).
* ``vendor_only_in_procore`` (vendors): ``in_netsuite`` and ``in_quickbooks`` false; each holds
  one commitment, which is therefore not in the ERP.
* ``vendor_only_in_erp`` (vendors): ``in_procore`` false; in NetSuite (US or Canada) and, for
  some US ones, QuickBooks; no Procore document uses them.
* ``vendor_not_in_subsidiary`` (commitments): on a Canadian NetSuite project, with a vendor that
  is in NetSuite but assigned to the US subsidiary only; not in the ERP (NetSuite refuses it).
* ``unmapped_cost_code`` (commitments): a line recoded to a code of ``unmapped_cost_codes``
  (in Procore's cost codes, with no ERP item or account); not in the ERP.
* ``pay_app_exceeds_commitment`` (requisitions): a new pay app (``exceeds_commitment``, under
  review, not in the ERP) that bills every line's remaining balance plus an overage larger than
  the commitment's approved change orders, on an ERP-approved commitment.
* ``erp_po_edited_by_hand`` (commitments): in the ERP and approved there, and someone changed
  line 0's amount by hand in the ERP: ``erp_edit == {"line:0:amount": "<the ERP's amount>"}``.
* ``co_after_erp_approval`` (change_orders): every approved change order on an ERP-approved
  commitment (see ``documents.py``); at least one is ensured.
* ``retainage_release`` (requisitions): every retainage release pay app.

Counts scale with the size: vendor cases about one per 25 projects, commitment cases about one
per 1,000 commitments (the unmapped codes at least three, so each code is used); the demo has at
least one of each. A size below 5 projects may lack a case whose precondition it lacks.
"""

from __future__ import annotations

import random
from datetime import timedelta

from . import catalog
from .amounts import ZERO, cents, money
from .documents import Builder
from .model import ChangeOrder, Commitment, Company, CostCode, Line, Requisition, RequisitionLine

PLANTED_KINDS = {
    "near_duplicate_vendor": "vendors",
    "vendor_only_in_procore": "vendors",
    "vendor_only_in_erp": "vendors",
    "vendor_not_in_subsidiary": "commitments",
    "unmapped_cost_code": "commitments",
    "pay_app_exceeds_commitment": "requisitions",
    "erp_po_edited_by_hand": "commitments",
    "co_after_erp_approval": "change_orders",
    "retainage_release": "requisitions",
}


def plant(rng: random.Random, company: Company, builder: Builder) -> None:
    Planter(rng, company, builder).run()


class Planter:
    def __init__(self, rng: random.Random, company: Company, builder: Builder):
        self.rng = rng
        self.company = company
        self.builder = builder
        self.projects = {p.key: p for p in company.projects}
        self.reqs: dict[str, list[Requisition]] = {}
        for r in company.requisitions:
            self.reqs.setdefault(r.commitment, []).append(r)
        self.cos: dict[str, list[ChangeOrder]] = {}
        for co in company.change_orders:
            self.cos.setdefault(co.commitment, []).append(co)
        self.used: set[str] = set()
        self.names = {v.name for v in company.vendors}
        self.k_vendor = max(1, len(company.projects) // 25)
        self.k_commitment = max(1, len(company.commitments) // 1000)

    def run(self) -> None:
        planted = self.company.planted
        planted["near_duplicate_vendor"] = self.near_duplicates()
        planted["vendor_only_in_procore"] = self.only_in_procore()
        planted["vendor_only_in_erp"] = self.only_in_erp()
        planted["vendor_not_in_subsidiary"] = self.not_in_subsidiary()
        planted["unmapped_cost_code"] = self.unmapped()
        planted["pay_app_exceeds_commitment"] = self.exceeding()
        planted["erp_po_edited_by_hand"] = self.edited_by_hand()
        self.ensure_co_after_approval()
        planted["co_after_erp_approval"] = [
            co.key for co in self.company.change_orders if co.after_erp_approval
        ]
        planted["retainage_release"] = [
            r.key for r in self.company.requisitions if r.is_retainage_release
        ]
        for case in [case for case, keys in planted.items() if not keys]:
            del planted[case]

    # -- helpers ---------------------------------------------------------------------------------

    def pick(self, candidates: list[Commitment], k: int, prefer=None) -> list[Commitment]:
        """Up to ``k`` unused candidates, those matching ``prefer`` first, in random order."""
        first = [c for c in candidates if c.key not in self.used and (prefer is None or prefer(c))]
        rest = [c for c in candidates if c.key not in self.used and prefer and not prefer(c)]
        self.rng.shuffle(first)
        self.rng.shuffle(rest)
        chosen = (first + rest)[:k]
        self.used.update(c.key for c in chosen)
        return chosen

    def unsync(self, c: Commitment) -> None:
        """Take a commitment (and its pay apps) out of the ERP."""
        c.in_erp = c.erp_approved = c.erp_edited_by_hand = False
        c.erp_edit = {}
        for r in self.reqs.get(c.key, ()):
            r.in_erp = r.paid_in_erp = False
            r.paid_on = None
            if r.status == "paid":
                r.status = "approved"
        for co in self.cos.get(c.key, ()):
            co.after_erp_approval = False

    def new_name(self, trade: str, sub: str) -> str:
        words = catalog.TRADES[trade][3] if trade in catalog.TRADES else (trade,)
        suffixes = catalog.CA_SUFFIXES if sub == "ca" else catalog.US_SUFFIXES
        while True:
            name = f"{self.rng.choice(catalog.NAME_PREFIXES)} {self.rng.choice(words)}"
            name += f" {self.rng.choice(suffixes)}"
            if name not in self.names:
                self.names.add(name)
                return name

    def vendor(self, name, trade, sub, **kwargs):
        from .generate import make_vendor  # generate imports this module

        self.names.add(name)
        return make_vendor(
            self.rng, self.company, self.builder.vendor_keys, name, trade, sub, **kwargs
        )

    def on(self, c: Commitment, erp: str, sub: str | None = None) -> bool:
        p = self.projects[c.project]
        return p.erp == erp and (sub is None or p.subsidiary == sub)

    # -- the cases -------------------------------------------------------------------------------

    def near_duplicates(self) -> list[str]:
        name, erp_name = catalog.NEAR_DUPLICATE_STAR
        star = self.vendor(
            name, "Framing", "us", erp_name=erp_name, in_quickbooks=False, subsidiaries=["us"]
        )
        keys = [star.key]
        us_subs = [c for c in self.company.commitments if c.kind == "subcontract"]
        us_subs = [c for c in us_subs if self.on(c, "netsuite", "us")]
        framing = [c for c in us_subs if self.builder.trades[c.key] == "Framing"]
        for c in self.pick(framing or us_subs, 1, lambda c: c.in_erp):
            c.vendor = star.key
        used = {c.vendor for c in self.company.commitments}
        others = [v for v in self.company.vendors if v.key in used and v.in_netsuite]
        others = [v for v in others if v.erp_name == v.name and v.key != star.key]
        for i, v in enumerate(self.rng.sample(others, min(len(others), self.k_vendor - 1))):
            v.erp_name = _drift(v.name, i)
            keys.append(v.key)
        return keys

    def only_in_procore(self) -> list[str]:
        keys = []
        commitments = self.company.commitments
        for c in self.pick(commitments, self.k_vendor, lambda c: not c.in_erp):
            trade = self.builder.trades[c.key]
            sub = self.projects[c.project].subsidiary
            v = self.vendor(
                self.new_name(trade, sub),
                trade,
                sub,
                in_netsuite=False,
                in_quickbooks=False,
                subsidiaries=[],
            )
            c.vendor = v.key
            self.unsync(c)
            keys.append(v.key)
        return keys

    def only_in_erp(self) -> list[str]:
        keys = []
        for i in range(self.k_vendor):
            trade = self.rng.choice(list(catalog.TRADES))
            sub = "ca" if i % 3 == 2 else "us"
            v = self.vendor(
                self.new_name(trade, sub),
                trade,
                sub,
                in_procore=False,
                in_quickbooks=sub == "us" and i % 2 == 0,
                subsidiaries=[sub],
            )
            keys.append(v.key)
        return keys

    def not_in_subsidiary(self) -> list[str]:
        us_only = [v for v in self.company.vendors if v.in_procore and v.in_netsuite]
        us_only = [v for v in us_only if v.subsidiaries == ["us"]]
        by_trade: dict[str, list] = {}
        for v in us_only:
            by_trade.setdefault(v.trade, []).append(v)
        candidates = [c for c in self.company.commitments if self.on(c, "netsuite", "ca")]
        keys = []
        for c in self.pick(candidates, self.k_vendor, lambda c: not c.in_erp):
            pool = by_trade.get(self.builder.trades[c.key]) or us_only
            c.vendor = self.rng.choice(pool).key
            self.unsync(c)
            keys.append(c.key)
        return keys

    def unmapped(self) -> list[str]:
        codes = list(catalog.UNMAPPED_COST_CODES)
        chosen = self.pick(
            self.company.commitments, max(3, self.k_commitment), lambda c: not c.in_erp
        )
        for i, c in enumerate(chosen):
            code = codes[i % len(codes)]
            line = c.lines[-1]
            area = line.description.rsplit(" - ", 1)[-1]
            line.cost_code = code
            line.description = f"{catalog.UNMAPPED_COST_CODES[code]} - {area}"
            self.unsync(c)
        used = sorted({c.lines[-1].cost_code for c in chosen})
        self.company.unmapped_cost_codes = used
        for code in used:
            name = catalog.UNMAPPED_COST_CODES[code]
            division = code[:2]
            self.company.cost_codes.append(
                CostCode(code, name, division, catalog.DIVISIONS[division])
            )
        return [c.key for c in chosen]

    def exceeding(self) -> list[str]:
        candidates = [
            c
            for c in self.company.commitments
            if c.kind == "subcontract" and c.status == "Approved" and self.reqs.get(c.key)
        ]
        keys = []
        for c in self.pick(candidates, self.k_commitment, lambda c: c.erp_approved):
            reqs = self.reqs[c.key]
            billed = [0] * len(c.lines)
            for r in reqs:
                for rl in r.lines:
                    billed[rl.commitment_line_index] += cents(
                        rl.work_completed_this_period + rl.materials_stored
                    )
            approved = sum(
                cents(co.amount) for co in self.cos.get(c.key, ()) if co.status == "approved"
            )
            amount = cents(c.amount)
            over = max(0, approved) + (amount * 8 // 100 // 10000 + 1) * 10000
            largest = max(range(len(c.lines)), key=lambda i: c.lines[i].amount)
            lines = []
            for i, line in enumerate(c.lines):
                this = cents(line.amount) - billed[i] + (over if i == largest else 0)
                if this > 0:
                    lines.append(RequisitionLine(i, money(this), ZERO, c.retainage_percent))
            last = reqs[-1]
            start = last.period_end + timedelta(days=1)
            end = max(start, min(_month_end(start), self.builder.today))
            seq = self.builder.invoice_seq.get(c.vendor) or self.rng.randint(1000, 8999)
            self.builder.invoice_seq[c.vendor] = seq + 1
            req = Requisition(
                f"{c.key}-REQ-{len(reqs) + 1:02d}",
                c.key,
                len(reqs) + 1,
                f"INV-{seq}",
                start,
                end,
                "under_review",
                lines,
                retainage_released=ZERO,
                exceeds_commitment=True,
            )
            self.company.requisitions.append(req)
            reqs.append(req)
            keys.append(req.key)
        return keys

    def edited_by_hand(self) -> list[str]:
        candidates = [c for c in self.company.commitments if c.in_erp and c.erp_approved]
        keys = []
        for c in self.pick(candidates, self.k_commitment):
            amount = cents(c.lines[0].amount)
            change = self.rng.uniform(0.05, 0.15) * (1 if self.rng.random() < 0.7 else -1)
            edited = max(10000, round(amount * (1 + change) / 10000) * 10000)
            if edited == amount:
                edited += 10000
            c.erp_edited_by_hand = True
            c.erp_edit = {"line:0:amount": str(money(edited))}
            keys.append(c.key)
        return keys

    def ensure_co_after_approval(self) -> None:
        have = sum(1 for co in self.company.change_orders if co.after_erp_approval)
        if have >= self.k_commitment:
            return
        candidates = [
            c
            for c in self.company.commitments
            if c.in_erp and c.erp_approved and c.status == "Approved"
        ]
        today = self.builder.today
        for c in self.pick(candidates, self.k_commitment - have):
            cos = self.cos.setdefault(c.key, [])
            number = len(cos) + 1
            line = c.lines[0]
            amount = money(max(10000, cents(c.amount) * 4 // 100 // 10000 * 10000))
            co = ChangeOrder(
                key=f"{c.key}-CO-{number:03d}",
                commitment=c.key,
                number=f"{number:03d}",
                title="Owner-requested scope addition",
                status="approved",
                approved_on=today - timedelta(days=self.rng.randint(1, 20)),
                lines=[Line(line.cost_code, line.cost_type, line.description, amount)],
                after_erp_approval=True,
            )
            cos.append(co)
            self.company.change_orders.append(co)


def _month_end(day):
    following = day.replace(day=28) + timedelta(days=4)
    return following - timedelta(days=following.day)


def _drift(name: str, i: int) -> str:
    """How the same company's name drifts when someone types it into the ERP."""
    head, _, suffix = name.rpartition(" ")
    forms = (
        f"{head}, {suffix}",
        name.upper().replace(".", ""),
        name.replace("&", "and") if "&" in name else f"{head}",
        f"{head} {_LONG.get(suffix, suffix)}",
    )
    return forms[i % len(forms)]


_LONG = {
    "Inc.": "Incorporated",
    "Co.": "Company",
    "Corp.": "Corporation",
    "Ltd.": "Limited",
    "LLC": "L.L.C.",
}
