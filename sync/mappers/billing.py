"""What a Procore pay application says, in figures (pure; no DB, no network).

A subcontractor invoice (requisition) is read from its contract items (the G703 rows), each
tied to a commitment line, so the bill's lines carry that line's cost code and cost type:

* gross this period = work completed this period + materials presently stored;
* retainage held this period = the items' retained-this-period columns (work + stored);
* retainage released this period = the items' released columns (work + stored);
* payable now (the bill's total) = gross − held + released; Procore's G702
  ``current_payment_due`` says the same, and a difference means the lines do not add up.

An owner invoice (payment application) carries only its G702 in Procore: work this period is
``total_amount_accrued_this_period`` (else the G702 to-date minus the previous application's),
retainage this period = work − ``current_payment_due``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connectors.procore.schemas import Commitment, PaymentApplication, Requisition

from . import CENT, line_codes

ZERO = Decimal("0.00")


def dec(value: Any) -> Decimal:
    if value in (None, ""):
        return ZERO
    return Decimal(str(value).rstrip("%")).quantize(CENT)


@dataclass(frozen=True)
class WorkLine:
    """Gross work billed this period on one commitment line."""

    cost_code: str
    cost_type: str | None
    description: str
    amount: Decimal
    position: int  # index of the commitment line (0-based): links the bill line to the PO line


@dataclass
class Figures:
    lines: list[WorkLine] = field(default_factory=list)
    gross: Decimal = ZERO
    held: Decimal = ZERO
    released: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        return self.gross - self.held + self.released

    @property
    def is_release(self) -> bool:
        """Only releases retainage: no work billed (the retainage_releases flow's records)."""
        return self.gross == ZERO and self.released > ZERO


def requisition_items(req: Requisition) -> list[dict[str, Any]]:
    return list(req.raw.get("items") or req.raw.get("_items") or [])


def _item_held(item: dict[str, Any]) -> Decimal:
    work = item.get("work_completed_retainage_retained_this_period")
    stored = item.get("materials_stored_retainage_currently_retained")
    if work is None and stored is None:  # a payload without the computed columns
        pct = dec(item.get("work_completed_retainage_percent_this_period"))
        spct = dec(item.get("materials_stored_retainage_percent_this_period"))
        work = (dec(item.get("work_completed_this_period")) * pct / 100).quantize(CENT)
        stored = (dec(item.get("materials_presently_stored")) * spct / 100).quantize(CENT)
    return dec(work) + dec(stored)


def requisition_figures(
    req: Requisition, commitment: Commitment, codes: dict[str, str] | None = None
) -> Figures:
    by_line = {str(line.id): (i, line) for i, line in enumerate(commitment.lines)}
    out = Figures()
    for item in requisition_items(req):
        gross = dec(item.get("work_completed_this_period")) + dec(
            item.get("materials_presently_stored")
        )
        out.held += _item_held(item)
        out.released += dec(item.get("work_completed_retainage_released_this_period")) + dec(
            item.get("materials_stored_retainage_released_this_period")
        )
        if gross == ZERO:
            continue
        out.gross += gross
        position, line = by_line.get(str(item.get("line_item_id")), (-1, None))
        if line is not None:
            code, ctype = line_codes(line, codes)
            text = line.description or item.get("description_of_work") or code
        else:  # an item without its commitment line: the cost code id is all we have
            code = (codes or {}).get(f"cc:{item.get('cost_code_id')}", "")
            ctype, text = None, item.get("description_of_work") or code
        out.lines.append(WorkLine(code, ctype, str(text or ""), gross, position))
    return out


@dataclass(frozen=True)
class Balance:
    """The commitment's remaining balance before this pay app (OVER_COMMITMENT)."""

    commitment: Decimal
    approved_change_orders: Decimal
    previously_billed: Decimal

    @property
    def remaining(self) -> Decimal:
        return self.commitment + self.approved_change_orders - self.previously_billed


def balance_before(commitment: Commitment, earlier: list[Requisition]) -> Balance:
    billed = sum((dec(r.total_claimed_amount) for r in earlier), ZERO)
    lines_total = sum((dec(x.amount) for x in commitment.lines), ZERO)
    return Balance(
        commitment=dec(commitment.grand_total)
        if commitment.grand_total is not None
        else lines_total,
        approved_change_orders=dec(commitment.approved_change_orders),
        previously_billed=billed,
    )


def retainage_held_before(
    earlier: list[Requisition], commitment: Commitment, codes=None
) -> Decimal:
    """Retainage still held on the commitment before this pay app (held − released so far)."""
    total = ZERO
    for r in earlier:
        f = requisition_figures(r, commitment, codes)
        total += f.held - f.released
    return total


def addition_problems(req: Requisition, figures: Figures) -> list[str]:
    """Where the lines and the header disagree, in words with the figures."""
    problems = []
    claimed = req.total_claimed_amount
    if claimed is not None and dec(claimed) != figures.gross:
        problems.append(f"lines total {figures.gross}, header {dec(claimed)}")
    due = req.g702.current_payment_due
    if due is not None and dec(due) != figures.net:
        problems.append(
            f"lines give {figures.net} payable ({figures.gross} − retainage {figures.held}"
            f" + released {figures.released}), the G702 says {dec(due)}"
        )
    return problems


@dataclass(frozen=True)
class OwnerFigures:
    work: Decimal
    retainage: Decimal

    @property
    def net(self) -> Decimal:
        return self.work - self.retainage


def owner_figures(pa: PaymentApplication, previous: PaymentApplication | None) -> OwnerFigures:
    accrued = pa.raw.get("total_amount_accrued_this_period")
    if accrued is not None:
        work = dec(accrued)
    else:
        before = previous.g702.total_completed_and_stored_to_date if previous else None
        work = dec(pa.g702.total_completed_and_stored_to_date) - dec(before)
    due = pa.g702.current_payment_due
    if due is not None:
        retainage = work - dec(due)
    else:
        before = previous.g702.total_retainage if previous else None
        retainage = dec(pa.g702.total_retainage) - dec(before)
    return OwnerFigures(work, retainage)
