"""Building QBO query-language statements safely (quickbooks-api.md §1.5).

``SELECT * FROM <Entity> [WHERE a op v [AND …]] [ORDERBY f [ASC|DESC]] [STARTPOSITION n]
[MAXRESULTS n]``: AND only, operators ``= < > <= >= IN LIKE``, strings in single quotes.

Escaping: the reference shows ``'`` written as ``\\'`` (a real recording:
``DisplayName = 'Amy\\'s Bird Sanctuary'``). It is silent on backslashes; since ``\\`` is the
escape character, a value ending in ``\\`` would otherwise swallow its closing quote, so we also
write ``\\`` as ``\\\\`` (decision; the sandbox's parser agrees). Field names and operators are
never taken from data: names must look like ``MetaData.LastUpdatedTime``, operators come from a
fixed set, so a value can never change the statement's shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

OPERATORS = frozenset({"=", "<", ">", "<=", ">=", "IN", "LIKE"})
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")
MAX_PAGE = 1000  # §1.5: MAXRESULTS max 1000

Condition = tuple[str, str, Any]
Where = Mapping[str, Any] | Sequence[Condition] | None


def quote(value: Any) -> str:
    """One literal: strings quoted and escaped, numbers bare, booleans ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, float):
        raise TypeError("pass amounts as Decimal, not float")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("query datetimes must be timezone-aware")
        value = value.isoformat(timespec="seconds")
    elif isinstance(value, date):
        value = value.isoformat()
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def _field(name: str) -> str:
    if not _FIELD.match(name):
        raise ValueError(f"not a QBO field name: {name!r}")
    return name


def conditions(where: Where) -> list[Condition]:
    if not where:
        return []
    if isinstance(where, Mapping):
        return [
            (k, "IN" if isinstance(v, (list, tuple, set)) else "=", v) for k, v in where.items()
        ]
    return [tuple(c) for c in where]  # type: ignore[misc]


def render_condition(cond: Condition) -> str:
    name, op, value = cond
    op = op.upper()
    if op not in OPERATORS:
        raise ValueError(f"operator {op!r} is not in QBO's query language")
    if op == "IN":
        values = list(value)
        if not values:
            raise ValueError("IN needs at least one value")
        return f"{_field(name)} IN ({', '.join(quote(v) for v in values)})"
    return f"{_field(name)} {op} {quote(value)}"


def select(
    entity: str,
    where: Where = None,
    *,
    order_by: str | None = None,
    descending: bool = False,
    start: int | None = None,
    max_results: int | None = None,
    count: bool = False,
) -> str:
    # Not SQL: QBO's query language, built from checked names and quoted literals only.
    sql = f"SELECT {'COUNT(*)' if count else '*'} FROM {_field(entity)}"  # noqa: S608
    parts = [render_condition(c) for c in conditions(where)]
    if parts:
        sql += " WHERE " + " AND ".join(parts)
    if order_by:
        sql += f" ORDERBY {_field(order_by)}{' DESC' if descending else ''}"
    if start is not None:
        sql += f" STARTPOSITION {int(start)}"
    if max_results is not None:
        if not 1 <= max_results <= MAX_PAGE:
            raise ValueError(f"MAXRESULTS must be 1..{MAX_PAGE}")
        sql += f" MAXRESULTS {int(max_results)}"
    return sql


def chunks(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
