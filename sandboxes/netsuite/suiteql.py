"""``POST /services/rest/query/v1/suiteql``: a small SuiteQL (reference §2).

Supported: ``SELECT`` column list (``col``, ``t.col``, ``*``, ``AS alias``, ``TO_CHAR(col, fmt)``,
``BUILTIN.DF(col)``, ``UPPER``/``LOWER``) ``FROM`` one table [alias] ``WHERE`` with ``= <> != < <=
> >=``, ``[NOT] IN (...)``, ``[NOT] LIKE``, ``IS [NOT] NULL``, ``[NOT] BETWEEN .. AND ..``, ``AND``,
``OR``, ``NOT``, parentheses, literals ``'text'``, numbers, ``TO_DATE(..)``/``TO_TIMESTAMP(..)``,
and ``ORDER BY`` expressions ``ASC``/``DESC``. Anything else (joins, GROUP BY, aggregates, DML) is
refused with 400 ``INVALID_PARAMETER`` "Invalid search query ...". Tables: ``transaction``,
``transactionline``, ``vendor``, ``customer``, ``job``, ``account``, ``subsidiary``, ``currency``,
``classification``, ``department``, ``location``, ``item``, ``vendorsubsidiaryrelationship``.

Output (decisions where §2 is silent): columns lower-cased; values as strings like the captured
sample; NULLs omitted; booleans ``T``/``F``; dates and datetimes in the account date format
(use ``TO_CHAR`` for the time, as the public incremental-sync queries do).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import httpx

from ..core import Req, dumps
from .errors import NSError
from .query import format_user_date, parse_user_date
from .records import COLLECTION, page_links, paging
from .suiteql_parser import Parser, bad
from .suiteql_tables import TABLES, rows_for

if TYPE_CHECKING:
    from .app import NetSuiteSandbox

_ORA = [
    ("YYYY", "%Y"),
    ("HH24", "%H"),
    ("MM", "%m"),
    ("DD", "%d"),
    ("MI", "%M"),
    ("SS", "%S"),
    ("HH", "%I"),
    ("AM", "%p"),
    ("PM", "%p"),
]


def ora_to_strftime(fmt: str) -> str:
    out, i = "", 0
    while i < len(fmt):
        if fmt[i] == '"':
            end = fmt.index('"', i + 1)
            out += fmt[i + 1 : end]
            i = end + 1
            continue
        m = re.match(r"FF(\d?)", fmt[i:])
        if m:
            out += f"\0FF{m.group(1) or '6'}\0"
            i += m.end()
            continue
        for ora, py in _ORA:
            if fmt.startswith(ora, i):
                out += py
                i += len(ora)
                break
        else:
            out += fmt[i]
            i += 1
    return out


def to_char(value: Any, fmt: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, datetime):
        return str(value)
    text = value.strftime(ora_to_strftime(fmt))
    return re.sub(r"\0FF(\d)\0", lambda m: f"{value.microsecond:06d}"[: int(m.group(1))], text)


class SuiteQL:
    def __init__(self, sandbox: NetSuiteSandbox) -> None:
        self.sb = sandbox

    def handle(self, req: Req) -> httpx.Response:
        if "transient" not in (req.headers.get("prefer") or "").lower():
            raise NSError(
                400,
                "The request header 'Prefer: transient' is required for SuiteQL queries.",
                "INVALID_PARAMETER",
                header="Prefer",
            )
        limit, offset = paging(req)
        body = req.json()
        if not isinstance(body, dict) or not isinstance(body.get("q"), str):
            raise NSError(
                400, "The request body must be a JSON object with a 'q' string.", "INVALID_CONTENT"
            )
        rows = self.run(body["q"])
        page = rows[offset : offset + limit]
        href = f"{req.request.url.scheme}://{req.request.url.netloc.decode()}{req.path}"
        result = {
            "links": page_links(href, {}, offset, limit, len(rows)),
            "count": len(page),
            "hasMore": offset + len(page) < len(rows),
            "items": page,
            "offset": offset,
            "totalResults": len(rows),
        }
        return httpx.Response(200, content=dumps(result), headers={"content-type": COLLECTION})

    def run(self, text: str) -> list[dict[str, Any]]:
        ast = Parser(text).query()
        self._in_sets: dict[int, frozenset[Decimal] | None] = {}
        table = ast["table"]
        if table not in TABLES:
            raise bad(f"Record '{table}' was not found.")
        columns = TABLES[table]
        self.table, self.alias, self.columns = table, (ast["alias"] or "").lower(), columns
        for expr, _ in ast["items"]:
            self._check(expr)
        for expr, _ in ast["order"]:
            self._check(expr)
        rows = rows_for(self.sb, table, self._narrowing(ast["where"]))
        if ast["where"] is not None:
            self._check_cond(ast["where"])
            rows = [r for r in rows if self._truth(ast["where"], r)]
        for expr, desc in reversed(ast["order"]):
            present = [r for r in rows if self._eval(expr, r) is not None]
            missing = [r for r in rows if self._eval(expr, r) is None]
            present.sort(key=lambda r, e=expr: _sort_key(self._eval(e, r)), reverse=desc)
            rows = present + missing if not desc else missing + present
        return [self._project(ast["items"], r) for r in rows]

    def _narrowing(self, where: tuple[Any, ...] | None) -> dict[str, set[str]]:
        """What a top-level AND of ``id``/``tranid``/``type`` equalities or IN lists requires,
        so ``rows_for`` flattens only those transactions (the whole store was flattened for
        every query: ~100 ms a query at 10,000 transactions, which a real account answers from
        its indexes). Anything else in the clause narrows nothing; it is applied afterwards."""
        parts = [] if where is None else where[1] if where[0] == "and" else [where]
        narrow: dict[str, set[str]] = {}
        for part in parts:
            if part[0] == "cmp" and part[1] == "=" and part[2][0] == "col":
                column, values = part[2][1], [part[3]]
            elif part[0] == "in" and part[1][0] == "col":
                column, values = part[1][1], part[2]
            else:
                continue
            name = column.lower().split(".")[-1]
            literals = [v[1] for v in values if v[0] == "lit"]
            if len(literals) != len(values) or name not in ("id", "tranid", "type"):
                continue
            if name == "id":
                if not all(isinstance(v, Decimal) and v == v.to_integral_value() for v in literals):
                    continue
                found = {str(int(v)) for v in literals}
            elif all(isinstance(v, str) for v in literals):
                found = set(literals)
            else:
                continue
            narrow[name] = narrow[name] & found if name in narrow else found
        return narrow

    # -- validation ---------------------------------------------------------------------------

    def _col(self, name: str) -> str:
        parts = name.lower().split(".")
        if len(parts) == 2 and parts[0] in (self.alias, self.table):
            parts = parts[1:]
        if len(parts) != 1 or parts[0] not in self.columns:
            raise bad(f"Field '{name}' for record '{self.table}' was not found.")
        return parts[0]

    def _check(self, expr: tuple[Any, ...]) -> None:
        if expr[0] == "col":
            self._col(expr[1])
        elif expr[0] == "fn":
            for arg in expr[2]:
                self._check(arg)

    def _check_cond(self, node: tuple[Any, ...]) -> None:
        for part in node[1:]:
            for item in part if isinstance(part, list) else [part]:
                if isinstance(item, tuple) and item and item[0] in ("col", "fn"):
                    self._check(item)
                elif isinstance(item, tuple) and item:
                    self._check_cond(item)

    # -- evaluation ---------------------------------------------------------------------------

    def _eval(self, expr: tuple[Any, ...], row: dict[str, Any]) -> Any:
        kind = expr[0]
        if kind == "lit":
            return expr[1]
        if kind == "col":
            return row.get(self._col(expr[1]))
        name, args = expr[1], expr[2]
        values = [self._eval(a, row) for a in args]
        if name == "TO_CHAR":
            return to_char(values[0], values[1] if len(values) > 1 else "YYYY-MM-DD")
        if name in ("TO_DATE", "TO_TIMESTAMP"):
            fmt = ora_to_strftime(values[1]) if len(values) > 1 else None
            try:
                if fmt:
                    return datetime.strptime(values[0], fmt.replace("\0FF6\0", "%f")).replace(
                        tzinfo=UTC
                    )
                return parse_user_date(values[0], self.sb.date_format)[0]
            except (ValueError, TypeError):
                raise bad(f"Invalid date '{values[0]}'.") from None
        if name == "BUILTIN.DF":
            col = self._col(args[0][1]) if args and args[0][0] == "col" else None
            return row.get(f"_df_{col}", values[0]) if col else values[0]
        if name in ("UPPER", "LOWER"):
            return (
                None
                if values[0] is None
                else (str(values[0]).upper() if name == "UPPER" else str(values[0]).lower())
            )
        raise bad(f"Invalid or unsupported function {name}.")

    def _truth(self, node: tuple[Any, ...], row: dict[str, Any]) -> bool:
        kind = node[0]
        if kind == "and":
            return all(self._truth(n, row) for n in node[1])
        if kind == "or":
            return any(self._truth(n, row) for n in node[1])
        if kind == "not":
            return not self._truth(node[1], row)
        if kind == "null":
            return self._eval(node[1], row) is None
        left = self._eval(node[1] if kind != "cmp" else node[2], row)
        if left is None:
            return False
        if kind == "in":
            numbers = self._number_set(node)
            if numbers is not None and not isinstance(left, date | bool):
                # A long list of numbers (ids): a set lookup gives the same answer as one
                # numeric comparison per value, without 1,000 comparisons per row.
                try:
                    return Decimal(str(left)) in numbers
                except InvalidOperation:
                    pass
            return any(_cmp("=", left, self._eval(v, row), self.sb.date_format) for v in node[2])
        if kind == "like":
            pattern = str(self._eval(node[2], row))
            regex = "".join(
                ".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern
            )
            return re.fullmatch(regex, str(left), re.S) is not None
        if kind == "between":
            fmt = self.sb.date_format
            return _cmp(">=", left, self._eval(node[2], row), fmt) and _cmp(
                "<=", left, self._eval(node[3], row), fmt
            )
        return _cmp(node[1], left, self._eval(node[3], row), self.sb.date_format)

    def _number_set(self, node: tuple[Any, ...]) -> frozenset[Decimal] | None:
        """The values of ``IN (1, 2, …)`` when all are number literals, else None (cached per
        query: ``run`` resets the cache)."""
        key = id(node)
        if key not in self._in_sets:
            values = node[2]
            numeric = all(v[0] == "lit" and isinstance(v[1], Decimal) for v in values)
            self._in_sets[key] = frozenset(v[1] for v in values) if numeric else None
        return self._in_sets[key]

    def _project(self, items: list[tuple[Any, str | None]], row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"links": []}
        for expr, alias in items:
            if expr[0] == "star":
                for col in self.columns:
                    out[col] = self._out(row.get(col))
                continue
            if alias:
                name = alias.lower()
            elif expr[0] == "col":
                name = self._col(expr[1])
            else:
                name = "expr" + str(len(out))
            out[name] = self._out(self._eval(expr, row))
        return {k: v for k, v in out.items() if v is not None}

    def _out(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, datetime):
            return format_user_date(value, self.sb.date_format)
        if isinstance(value, date):
            return format_user_date(
                datetime(value.year, value.month, value.day), self.sb.date_format
            )
        if isinstance(value, bool):
            return "T" if value else "F"
        return str(value)


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, datetime):
        return (0, value.timestamp())
    if isinstance(value, date):
        return (0, datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp())
    if isinstance(value, Decimal | int | float):
        return (1, Decimal(value))
    text = str(value)
    try:
        return (1, Decimal(text))
    except InvalidOperation:
        return (2, text)


def _coerce(left: Any, right: Any, fmt: str) -> tuple[Any, Any]:
    if isinstance(left, date) or isinstance(right, date):

        def as_dt(v: Any) -> Any:
            if isinstance(v, datetime):
                return v
            if isinstance(v, date):
                return datetime(v.year, v.month, v.day, tzinfo=UTC)
            try:
                return parse_user_date(str(v), fmt)[0]
            except ValueError:
                raise bad(f"Invalid date value '{v}'.") from None

        return as_dt(left), as_dt(right)
    if isinstance(left, Decimal) or isinstance(right, Decimal):
        try:
            return Decimal(str(left)), Decimal(str(right))
        except InvalidOperation:
            return str(left), str(right)
    if isinstance(left, bool):
        left = "T" if left else "F"
    return str(left), str(right)


def _cmp(op: str, left: Any, right: Any, fmt: str) -> bool:
    if right is None:
        return False
    a, b = _coerce(left, right, fmt)
    if op == "=":
        return a == b
    if op in ("<>", "!="):
        return a != b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b
