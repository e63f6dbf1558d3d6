"""The small interface the writer uses, whatever the ERP (DESIGN.md rules 1 and 2).

Payloads are the canonical JSON form (money as decimal strings, ``sync.fingerprint``); each
adapter turns amounts back into exact numbers at the wire. ``summary`` reduces a payload or
an ERP record to the fields a person compares (party, number, memo, lines with amounts), so
the three-way diff and the "was it edited by hand?" test compare like with like.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol


@dataclass
class Remote:
    """The ERP's current copy of one record."""

    erp_type: str
    erp_id: str
    version: str
    number: str = ""
    approved: bool = False
    amount: Decimal | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Written:
    erp_id: str
    version: str = ""
    number: str = ""


class ErpAdapter(Protocol):
    kind: str

    @property
    def calls(self) -> int: ...

    def create(
        self, erp_type: str, payload: dict[str, Any], *, external_id: str, key: str
    ) -> Written: ...

    def read(self, erp_type: str, erp_id: str) -> Remote | None: ...

    def update(
        self,
        erp_type: str,
        erp_id: str,
        payload: dict[str, Any],
        *,
        expected_version: str,
        key: str,
    ) -> Written: ...

    def void(self, erp_type: str, erp_id: str, *, expected_version: str, key: str) -> Written: ...

    def find_duplicates(self, erp_type: str, payload: dict[str, Any]) -> list[Remote]: ...

    def summary(self, erp_type: str, body: dict[str, Any] | None) -> dict[str, Any]: ...


def q2(value: Any) -> str | None:
    """An amount as a 2-decimal string for comparisons ("1200" and 1200.0 are equal)."""
    if value in (None, ""):
        return None
    try:
        return format(Decimal(str(value)).quantize(Decimal("0.01")), "f")
    except InvalidOperation:
        return str(value)


def to_wire(value: Any, numeric: frozenset[str], *, as_float: bool) -> Any:
    """Canonical payload → request body: the amount fields become exact numbers again."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in numeric and isinstance(item, str):
                amount = Decimal(item)
                if as_float:
                    number = float(amount)
                    if Decimal(repr(number)) != amount:
                        raise ValueError(f"{key} {item} cannot be sent exactly")
                    out[key] = number
                else:
                    out[key] = amount
            else:
                out[key] = to_wire(item, numeric, as_float=as_float)
        return out
    if isinstance(value, list):
        return [to_wire(v, numeric, as_float=as_float) for v in value]
    return value
