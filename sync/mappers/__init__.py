"""Pure mappers: Procore typed payloads + an injected lookup → ERP payload dicts.

No database, no network: the lookup (``mappings.lookups.MappingLookup`` or a test fake with
the same methods) is passed in, and a missing mapping surfaces as its ``MappingMissing``.
Money is ``Decimal``; documents carry the project's subsidiary and currency. One module per
ERP (``netsuite``, ``quickbooks``), the same function names in each.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.procore.schemas import LineItem

CENT = Decimal("0.01")


def line_amount(line: LineItem) -> Decimal:
    if line.amount is not None:
        return line.amount.quantize(CENT)
    if line.quantity is not None and line.unit_cost is not None:
        return (line.quantity * line.unit_cost).quantize(CENT)
    return (line.extended_amount or line.total_amount or Decimal(0)).quantize(CENT)


def line_codes(line: LineItem, codes: dict[str, str] | None = None) -> tuple[str, str | None]:
    """(cost code, cost type) as the mapping tables key them: "03-300", "S".

    Commitment lines embed both objects; change order lines carry only their ids, which
    ``codes`` ("cc:<id>" / "lit:<id>" → code, from the project's cost codes) resolves."""
    cc: Any = line.raw.get("cost_code") or {}
    lit: Any = line.raw.get("line_item_type") or {}
    code = (cc.get("full_code") or cc.get("code") or "") if isinstance(cc, dict) else ""
    ctype = (lit.get("code") or None) if isinstance(lit, dict) else None
    codes = codes or {}
    if not code and line.cost_code_id:
        code = codes.get(f"cc:{line.cost_code_id}", "")
    if not ctype and line.line_item_type_id:
        ctype = codes.get(f"lit:{line.line_item_type_id}")
    return str(code), ctype


def total(lines: list[LineItem]) -> Decimal:
    return sum((line_amount(x) for x in lines), Decimal(0))
