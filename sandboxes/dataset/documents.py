"""Per-project documents: commitments, change orders, pay apps, the prime contract, direct costs.

Time: month 0 is the project's start month; a month ``m`` is billed when it is fully past at
``today``. Each package (a trade's subcontract or a supplier's purchase order) works in a window
of months from its trade's place in the schedule; its pay apps bill one per month of the window
(only the lines with work that month), and the last month of the window bills every line to
exactly 100 %. A package whose window is over is "Complete"; completed subcontracts usually get
a retainage release pay app (one zero line per commitment line, ``retainage_released`` = all
retainage held), always on closed projects.

What the ERP holds (for the loaders), on projects of that ERP:

* a commitment with ``in_erp`` has an ERP PO with exactly its ``lines`` (then ``erp_edit``
  applied, when planted); approved change orders are never in the ERP copy: they are what the
  sync has to carry over, as a revision. So every approved change order on an ``in_erp``
  commitment has ``after_erp_approval=True`` (such a commitment is then ``erp_approved``: a PO
  still pending approval in NetSuite has only pending or draft change orders). Reading the ERP
  PO as "lines + approved change orders without after_erp_approval" gives the same result;
* a pay app with ``in_erp`` has its vendor bill (only on an ``in_erp`` and ``erp_approved``
  commitment), and ``paid_in_erp`` means the bill payment exists too, dated ``paid_on``;
  ``status == "paid"`` only when ``paid_in_erp`` (the reverse need not hold: Procore may not
  have heard of the payment yet, the ERP -> Procore case);
* owner payment applications alike (invoice, customer payment).

Change orders are not billed: pay apps bill the commitment's own lines only, so "cumulative
billing <= commitment amount" holds per line except on the planted over-billing pay app.
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta
from decimal import Decimal

from . import catalog, owner
from .amounts import NO_RETAINAGE, ONE_DAY, TEN, ZERO, cents, money, retained
from .model import (
    ChangeOrder,
    Commitment,
    Company,
    Line,
    Project,
    Requisition,
    RequisitionLine,
)

TRADE_NAMES = tuple(catalog.TRADES)
SUPPLIER_NAMES = tuple(catalog.SUPPLIERS)


def month_bounds(start: date, count: int) -> list[tuple[date, date]]:
    """(first day, last day) of the ``count`` calendar months from ``start``'s month."""
    out = []
    index = start.year * 12 + start.month - 1
    for m in range(count + 1):
        i = index + m
        out.append(date(i // 12, i % 12 + 1, 1))
    return [(out[m], out[m + 1] - ONE_DAY) for m in range(count)]


class Builder:
    """Builds one project's documents at a time into ``company``; remembers, for the planted
    cases, each commitment's trade and the region pools it drew vendors from."""

    def __init__(self, rng: random.Random, company: Company, today: date, pools, vendor_keys):
        self.rng = rng
        self.company = company
        self.today = today
        self.pools = pools
        self.vendor_keys = vendor_keys
        self.trades: dict[str, str] = {}  # commitment key -> trade or supplier category
        self.invoice_seq: dict[str, int] = {}  # vendor key -> the vendor's next invoice number
        self.months: dict[str, list[tuple[date, date]]] = {}  # project key -> month bounds
        self.sub_seq: dict[str, int] = {}
        self.po_seq: dict[str, int] = {}
        self.descriptions: dict[tuple[str, str, str], str] = {}

    # -- one project ---------------------------------------------------------------------------

    def project(self, project: Project, duration, value, n_commitments, n_direct, require=None):
        rng = self.rng
        today = self.today
        elapsed = (today.year - project.start_date.year) * 12 + today.month
        elapsed -= project.start_date.month
        months = month_bounds(project.start_date, max(duration, elapsed) + 4)
        self.months[project.key] = months
        region = "qb" if project.erp == "quickbooks" else project.subsidiary
        n_sub = max(1, round(n_commitments * 0.6))
        subs = _spread(rng, TRADE_NAMES, n_sub)
        if require and require not in subs:
            subs[0] = require
        pos = _spread(rng, SUPPLIER_NAMES, n_commitments - n_sub)
        weights = [catalog.TRADES[t][2] * rng.uniform(0.6, 1.4) for t in subs]
        budget = value * 0.75 / sum(weights)
        scale = min(3.0, value / 1.5e7)
        cost_by_month = [0] * len(months)
        committed: dict[str, list] = {}  # cost code -> [cents, cost type]
        for trade, weight in zip(subs, weights, strict=True):
            c = self._subcontract(project, region, trade, round(budget * weight), duration)
            self._after_commitment(project, c, trade, duration, elapsed, cost_by_month)
            _add_committed(committed, c)
        for category in pos:
            c = self._purchase_order(project, region, category, scale, duration)
            self._after_commitment(project, c, category, duration, elapsed, cost_by_month)
            _add_committed(committed, c)
        owner.prime_contract(self, project, committed, cost_by_month, duration, elapsed)
        for n in range(1, n_direct + 1):
            owner.direct_cost(self, project, region, n, months, elapsed)

    def _after_commitment(self, project, c, trade, duration, elapsed, cost_by_month):
        self.company.commitments.append(c)
        self.trades[c.key] = trade
        ws, we = self._window(trade, duration, c.kind)
        self._dates_and_status(project, c, ws, we, elapsed)
        if c.executed:
            self._requisitions(project, c, ws, we, elapsed, cost_by_month)
            self._change_orders(c, self.months[project.key][we - 1][1])

    def _window(self, trade, duration, kind):
        rng = self.rng
        if kind == "subcontract":
            start, end = catalog.TRADES[trade][1]
        else:
            start, end = catalog.SUPPLIERS[trade][5]
        ws = min(duration - 1, int(start * duration) + rng.randint(-1, 1) * (start > 0))
        ws = max(0, ws)
        we = max(ws + 1, min(duration, math.ceil(end * duration)))
        if kind == "purchase_order":
            we = min(we, ws + rng.randint(1, 3))  # deliveries come in a few invoices
        return ws, we

    # -- commitments ---------------------------------------------------------------------------

    def _vendor(self, region, trade):
        return self.rng.choice(self.pools[(region, trade)])

    def _subcontract(self, project, region, trade, dollars, duration) -> Commitment:
        rng = self.rng
        codes = list(catalog.TRADES[trade][0])
        rng.shuffle(codes)
        n_lines = rng.randint(3, 8)
        weights = [0.3 + rng.random() for _ in range(n_lines)]
        dollars = max(dollars, 500 * n_lines)
        amounts = _split(dollars, weights, 100)
        lines = []
        for i, amount in enumerate(amounts):
            code = codes[i % len(codes)]
            area = catalog.AREAS[int(rng.random() * len(catalog.AREAS))]
            cost_type = "S" if rng.random() < 0.9 else "M"
            desc = self._description(code, area, "")
            lines.append(Line(code, cost_type, desc, money(amount * 100)))
        seq = self.sub_seq[project.key] = self.sub_seq.get(project.key, 0) + 1
        number = f"SC-{project.number.replace('-', '')}-{seq:03d}"
        return Commitment(
            key=number,
            project=project.key,
            vendor=self._vendor(region, trade),
            kind="subcontract",
            number=number,
            title=f"{trade} - {project.name}",
            status="Approved",
            executed=True,
            retainage_percent=TEN,
            contract_date=project.start_date,
            lines=lines,
        )

    def _purchase_order(self, project, region, category, scale, duration) -> Commitment:
        rng = self.rng
        codes, cost_type, uom, (ulo, uhi), (qlo, qhi), _, _ = catalog.SUPPLIERS[category]
        lines = []
        for _ in range(rng.randint(3, 8)):
            code = codes[int(rng.random() * len(codes))]
            unit = int((ulo + rng.random() * (uhi - ulo)) * 100)
            qty = max(1, int((qlo + rng.random() * (qhi - qlo)) * scale))
            area = catalog.AREAS[int(rng.random() * len(catalog.AREAS))]
            desc = self._description(code, area, f"{category}: ")
            lines.append(
                Line(code, cost_type, desc, money(unit * qty), Decimal(qty), money(unit), uom)
            )
        seq = self.po_seq[project.key] = self.po_seq.get(project.key, 0) + 1
        number = f"PO-{project.number.replace('-', '')}-{seq:03d}"
        return Commitment(
            key=number,
            project=project.key,
            vendor=self._vendor(region, category),
            kind="purchase_order",
            number=number,
            title=f"{category} supply - {project.name}",
            status="Approved",
            executed=True,
            retainage_percent=NO_RETAINAGE,
            contract_date=project.start_date,
            lines=lines,
        )

    def _description(self, code: str, area: str, prefix: str) -> str:
        # Shared strings: "large" has half a million lines but only a few thousand descriptions.
        key = (code, area, prefix)
        text = self.descriptions.get(key)
        if text is None:
            text = self.descriptions[key] = f"{prefix}{catalog.COST_CODES[code]} - {area}"
        return text

    def _dates_and_status(self, project, c, ws, we, elapsed):
        rng = self.rng
        today = self.today
        first = self.months[project.key][ws][0]
        signed = first - timedelta(days=rng.randint(7, 45))
        floor = project.start_date - timedelta(days=30)
        c.contract_date = min(max(signed, floor), today - timedelta(days=rng.randint(1, 5)))
        if we <= elapsed:
            c.status = "Complete"
        elif ws >= elapsed and rng.random() < 0.4:
            c.status, c.executed = "Draft", False
        if not c.executed:
            return
        age = (today - c.contract_date).days
        c.in_erp = rng.random() < (0.93 if age > 30 else 0.3)
        if c.in_erp:
            c.erp_approved = project.erp == "quickbooks" or rng.random() < (
                0.93 if age > 20 else 0.5
            )

    # -- pay apps ------------------------------------------------------------------------------

    def _requisitions(self, project, c, ws, we, elapsed, cost_by_month):
        rng = self.rng
        months = self.months[project.key]
        window = we - ws
        weights = [0.5 + rng.random() for _ in range(window)]
        total = sum(weights)
        data = [
            (cents(ln.amount), 0.85 + 0.3 * rng.random(), ln.cost_type == "M") for ln in c.lines
        ]
        billed = [0] * len(data)
        pct = c.retainage_percent
        can_sync = c.in_erp and c.erp_approved
        reqs: list[Requisition] = []
        running = 0.0
        held = 0  # retainage held so far, in cents (RequisitionLine.retainage, summed)
        pct_int = int(pct)
        random_ = rng.random
        for j in range(min(window, elapsed - ws)):
            running += weights[j]
            frac = running / total
            last = j == window - 1
            out = []
            gross = 0
            for i, (amount, noise, material) in enumerate(data):
                target = amount if last else int(amount * min(1.0, frac * noise))
                this = target - billed[i]
                if this <= 0:
                    continue
                billed[i] = target
                gross += this
                if material and random_() < 0.25:
                    stored = this * 3 // 10
                    out.append(RequisitionLine(i, money(this - stored), money(stored), pct))
                else:
                    out.append(RequisitionLine(i, Decimal(this).scaleb(-2), ZERO, pct))
                held += retained(this, pct_int)
            if not out:
                continue
            cost_by_month[ws + j] += gross
            reqs.append(self._requisition(c, len(reqs) + 1, months[ws + j], out, can_sync))
        if reqs and reqs[-1].status == "approved" and not reqs[-1].in_erp:
            age = (self.today - reqs[-1].period_end).days
            if age < 40:
                reqs[-1].status = "under_review" if rng.random() < 0.7 else "draft"
        release = c.status == "Complete" and c.retainage_percent > 0 and reqs
        if release and (project.status == "Closed" or rng.random() < 0.5):
            m = we + rng.randint(0, 2)
            if months[m][1] < self.today:
                zero = [RequisitionLine(i, ZERO, ZERO, pct) for i in range(len(c.lines))]
                r = self._requisition(c, len(reqs) + 1, months[m], zero, can_sync)
                r.is_retainage_release, r.retainage_released = True, money(held)
                reqs.append(r)
        self.company.requisitions.extend(reqs)

    def _requisition(self, c, number, bounds, lines, can_sync) -> Requisition:
        rng = self.rng
        start, end = bounds
        seq = self.invoice_seq.get(c.vendor) or rng.randint(1000, 8999)
        self.invoice_seq[c.vendor] = seq + 1
        req = Requisition(
            key=f"{c.key}-REQ-{number:02d}",
            commitment=c.key,
            number=number,
            invoice_number=f"INV-{seq}",
            period_start=start,
            period_end=end,
            status="approved",
            lines=lines,
            retainage_released=ZERO,
        )
        self._sync(req, end, can_sync)
        return req

    def _sync(self, doc, end: date, can_sync: bool) -> None:
        """Older documents were entered in the ERP and paid; newer ones are not synced yet."""
        rng = self.rng
        age = (self.today - end).days
        doc.in_erp = can_sync and age > 10 and rng.random() < (0.95 if age > 40 else 0.6)
        if doc.in_erp and age > 40 and rng.random() < 0.93:
            doc.paid_in_erp = True
            doc.paid_on = end + timedelta(days=_randint(rng, 25, min(55, age - 1)))
            doc.status = "paid" if rng.random() < 0.85 else "approved"

    # -- change orders -------------------------------------------------------------------------

    def _change_orders(self, c: Commitment, work_ends: date) -> None:
        rng = self.rng
        n = rng.choices((0, 1, 2, 3), (62, 26, 9, 3))[0]
        if c.in_erp and (self.today - work_ends).days > 120:
            # Closed out long ago in the ERP: its changes were settled by hand before erpbridge
            # (and the ERP copy holds no change order, see the module docstring).
            n = 0
        total = cents(c.amount)
        for number in range(1, n + 1):
            if c.status == "Complete":
                status = "approved" if rng.random() < 0.9 else "void"
            else:
                status = rng.choices(("approved", "pending", "draft", "void"), (60, 25, 10, 5))[0]
            if status == "approved" and c.in_erp and not c.erp_approved:
                status = "pending"  # see the module docstring: no approved CO is in an ERP PO
            approved_on = None
            if status == "approved":
                lo = c.contract_date + timedelta(days=20)
                hi = min(self.today - ONE_DAY, work_ends + timedelta(days=45))
                lo = min(lo, hi)
                approved_on = lo + timedelta(days=rng.randint(0, (hi - lo).days))
            credit = rng.random() < 0.15
            lines = []
            for _ in range(rng.randint(1, 2)):
                base = c.lines[int(rng.random() * len(c.lines))]
                share = rng.uniform(0.005, 0.03) if credit else rng.uniform(0.01, 0.08)
                # whole hundreds of dollars, in cents
                amount = max(10000, round(total * share / 10000) * 10000) * (-1 if credit else 1)
                lines.append(Line(base.cost_code, base.cost_type, base.description, money(amount)))
            titles = catalog.CREDIT_TITLES if credit else catalog.CHANGE_ORDER_TITLES
            title = rng.choice(titles).format(n=rng.randint(1, 120))
            self.company.change_orders.append(
                ChangeOrder(
                    key=f"{c.key}-CO-{number:03d}",
                    commitment=c.key,
                    number=f"{number:03d}",
                    title=title,
                    status=status,
                    approved_on=approved_on,
                    lines=lines,
                    after_erp_approval=status == "approved" and c.in_erp and c.erp_approved,
                )
            )


def _randint(rng: random.Random, lo: int, hi: int) -> int:
    """``rng.randint`` for hot loops (a third of the cost; a different stream, same range)."""
    return lo + int(rng.random() * (hi - lo + 1))


def _spread(rng: random.Random, names: tuple[str, ...], n: int) -> list[str]:
    """``n`` names, each used about equally often, in random order."""
    out: list[str] = []
    while len(out) < n:
        batch = list(names)
        rng.shuffle(batch)
        out.extend(batch)
    out = out[:n]
    rng.shuffle(out)
    return out


def _split(total: int, weights: list[float], step: int) -> list[int]:
    """Split ``total`` into parts proportional to ``weights``, each a multiple of ``step`` except
    the last, which takes the remainder; every part is at least ``step``."""
    scale = total / sum(weights)
    parts = [max(step, round(w * scale / step) * step) for w in weights[:-1]]
    rest = total - sum(parts)
    if rest < step:
        parts = [step] * (len(weights) - 1)
        rest = total - sum(parts)
    return [*parts, rest]


def _add_committed(committed: dict[str, list], c: Commitment) -> None:
    for line in c.lines:
        entry = committed.get(line.cost_code)
        if entry is None:
            committed[line.cost_code] = [cents(line.amount), line.cost_type]
        else:
            entry[0] += cents(line.amount)
