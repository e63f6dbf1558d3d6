"""Money as the generator handles it: integer cents while computing, two-place Decimals out."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

ZERO = Decimal("0.00")
TEN = Decimal("10")  # the retainage percent on subcontracts and owner invoices
NO_RETAINAGE = Decimal("0")
ONE_DAY = timedelta(days=1)


def money(cents: int) -> Decimal:
    """Integer cents as a two-place Decimal (exact, keeps the exponent even for whole amounts)."""
    return Decimal(cents).scaleb(-2)


def cents(amount: Decimal) -> int:
    return int(amount.scaleb(2))


def retained(amount: int, percent: int) -> int:
    """``amount`` cents times ``percent`` %, rounded half-even to the cent like
    ``RequisitionLine.retainage`` (Decimal.quantize under the default context)."""
    q, r = divmod(amount * percent, 100)
    if r * 2 > 100 or (r * 2 == 100 and q % 2):
        q += 1
    return q
