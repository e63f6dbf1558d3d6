"""The QBO query language subset (quickbooks-api.md §1.5).

``SELECT * | COUNT(*) FROM <Entity> [WHERE <prop> <op> <value> [AND ...]]
[ORDERBY <prop> [ASC|DESC][, ...]] [STARTPOSITION n] [MAXRESULTS n]`` — AND only; operators
``= < > <= >= IN LIKE`` (``%`` wildcard); ``Id`` supports only ``=`` and ``IN``; names and keywords
case-insensitive; strings in single quotes with ``\\'``; 1-based STARTPOSITION; MAXRESULTS default
100, max 1000; name-list rows that are inactive are hidden unless the WHERE mentions ``Active``.
Every error is 400 ``4001`` (the one query fault recorded, [VCR] ``error/400.yml``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from . import entities as E
from .errors import query_error

MAX_RESULTS = 1000
DEFAULT_RESULTS = 100

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:\\.|[^'\\])*')|(?P<op><=|>=|!=|=|<|>)|(?P<punct>[(),*])"
    r"|(?P<word>[A-Za-z_][\w.]*)|(?P<num>-?\d+(?:\.\d+)?))"
)
_TIME_FIELDS = {"metadata.lastupdatedtime", "metadata.createtime"}


@dataclass
class Cond:
    path: str
    op: str
    values: list[Any]


@dataclass
class Query:
    entity: str
    count: bool = False
    where: list[Cond] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (path, descending)
    start: int = 1
    limit: int = DEFAULT_RESULTS


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos, text = [], 0, text.strip().rstrip(";")
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise query_error(f"Unexpected character at position {pos}: {text[pos : pos + 10]!r}")
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "str":
            value = value[1:-1].replace("\\'", "'").replace("\\\\", "\\")
        out.append((kind, value))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, n: int = 0) -> tuple[str, str]:
        j = self.i + n
        return self.toks[j] if j < len(self.toks) else ("eof", "")

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        self.i += 1
        return tok

    def kw(self, n: int = 0) -> str:
        kind, value = self.peek(n)
        return value.upper() if kind == "word" else ""

    def expect(self, word: str) -> None:
        if self.kw() != word:
            raise query_error(f"Encountered {self.peek()[1]!r}, expected {word}")
        self.i += 1

    def value(self) -> Any:
        kind, value = self.take()
        if kind in ("str", "num"):
            return value
        if kind == "word" and value.lower() in ("true", "false"):
            return value.lower()
        raise query_error(f"Expected a value, found {value!r}")

    def cond(self) -> Cond:
        kind, path = self.take()
        if kind != "word":
            raise query_error(f"Expected a property, found {path!r}")
        kind, op = self.peek()
        if kind == "op":
            self.i += 1
            if op == "!=":
                raise query_error("operator != is not supported")
            return Cond(path, op, [self.value()])
        word = self.kw()
        if word == "LIKE":
            self.i += 1
            return Cond(path, "LIKE", [self.value()])
        if word == "IN":
            self.i += 1
            if self.take()[1] != "(":
                raise query_error("IN needs a parenthesised list")
            values = [self.value()]
            while self.peek()[1] == ",":
                self.i += 1
                values.append(self.value())
            if self.take()[1] != ")":
                raise query_error("IN list not closed")
            return Cond(path, "IN", values)
        raise query_error(f"Unsupported operator {op or word!r}")

    def parse(self) -> Query:
        self.expect("SELECT")
        count = False
        if self.peek()[1] == "*":
            self.i += 1
        elif self.kw() == "COUNT" and [t[1] for t in self.toks[self.i + 1 : self.i + 4]] == [
            "(",
            "*",
            ")",
        ]:
            count = True
            self.i += 4
        else:
            raise query_error("only SELECT * and SELECT COUNT(*) are supported")
        self.expect("FROM")
        kind, name = self.take()
        entity = E.BY_LOWER.get(name.lower()) if kind == "word" else None
        if entity is None:
            raise query_error(f"invalid context declaration: {name}")
        q = Query(entity, count)
        while self.peek()[0] != "eof":
            word = self.kw()
            self.i += 1
            if word == "WHERE" and not q.where:
                q.where.append(self.cond())
                while self.kw() == "AND":
                    self.i += 1
                    q.where.append(self.cond())
                if self.kw() == "OR":
                    raise query_error("OR is not supported")
            elif word == "ORDERBY" or (word == "ORDER" and self.kw() == "BY"):
                if word == "ORDER":
                    self.i += 1
                while True:
                    kind, path = self.take()
                    if kind != "word":
                        raise query_error("ORDERBY needs a property")
                    desc = False
                    if self.kw() in ("ASC", "DESC"):
                        desc = self.take()[1].upper() == "DESC"
                    q.order.append((path, desc))
                    if self.peek()[1] != ",":
                        break
                    self.i += 1
            elif word in ("STARTPOSITION", "MAXRESULTS"):
                kind, value = self.take()
                if kind != "num" or "." in value or int(value) < 1:
                    raise query_error(f"{word} needs a positive integer")
                if word == "STARTPOSITION":
                    q.start = int(value)
                elif int(value) > MAX_RESULTS:
                    raise query_error(
                        f"value {value} is too large. Max allowed value is: {MAX_RESULTS}"
                    )
                else:
                    q.limit = int(value)
            else:
                raise query_error(f"Encountered {self.toks[self.i - 1][1]!r}")
        return q


def parse(text: str) -> Query:
    return _Parser(text).parse()


# -- evaluation ---------------------------------------------------------------------------------


def _get(rec: dict[str, Any], path: str) -> Any:
    value: Any = rec
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        if part in value:
            value = value[part]
        else:  # property names are case-insensitive
            low = part.lower()
            value = next((v for k, v in value.items() if k.lower() == low), None)
    if isinstance(value, dict) and "value" in value:  # refs compare by id
        return value["value"]
    return value


def _coerce(sample: Any, raw: str, path: str) -> Any:
    if path.lower() in _TIME_FIELDS:
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
        except ValueError as exc:
            raise query_error(f"invalid date time value {raw!r} for {path}") from exc
    if isinstance(sample, bool):
        return raw.lower() == "true"
    if isinstance(sample, (Decimal, int, float)):
        try:
            return Decimal(raw)
        except InvalidOperation as exc:
            raise query_error(f"invalid number {raw!r} for {path}") from exc
    return raw


def _like(pattern: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in pattern.split("%")]
    return re.compile("^" + ".*".join(parts) + "$", re.IGNORECASE | re.DOTALL)


def _id_key(value: Any) -> Any:
    text = str(value)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


class Evaluator:
    """Run a parsed query against a list of records; ``stamp(rec)`` gives the precise time."""

    def __init__(self, q: Query, stamp) -> None:
        self.q = q
        self.stamp = stamp
        for cond in q.where:
            if cond.path.lower() == "id" and cond.op not in ("=", "IN"):
                raise query_error("Id supports only = and IN")

    def field(self, rec: dict[str, Any], path: str) -> Any:
        low = path.lower()
        if low == "metadata.lastupdatedtime":
            return self.stamp(rec)
        if low == "metadata.createtime":
            raw = (rec.get("MetaData") or {}).get("CreateTime")
            return datetime.fromisoformat(raw).timestamp() if raw else None
        return _get(rec, path)

    def match(self, rec: dict[str, Any]) -> bool:
        for cond in self.q.where:
            actual = self.field(rec, cond.path)
            if actual is None:
                return False
            if cond.op == "LIKE":
                if not _like(cond.values[0]).match(str(actual)):
                    return False
                continue
            values = [_coerce(actual, v, cond.path) for v in cond.values]
            try:
                if cond.op == "IN":
                    if actual not in values:
                        return False
                elif cond.op == "=":
                    if actual != values[0]:
                        return False
                elif not _compare(actual, cond.op, values[0]):
                    return False
            except TypeError:
                return False
        return True

    def run(self, records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
        spec = E.SPECS[self.q.entity]
        hide_inactive = spec.kind == "name" and not any(
            c.path.lower() == "active" for c in self.q.where
        )
        rows = [
            r for r in records if (not hide_inactive or r.get("Active", True)) and self.match(r)
        ]
        if self.q.count:
            return [], len(rows)
        rows.sort(key=lambda r: _id_key(r.get("Id")))
        for path, desc in reversed(self.q.order):
            if path.lower() == "id":
                rows.sort(key=lambda r: _id_key(r.get("Id")), reverse=desc)
            else:
                rows.sort(key=lambda r, p=path: _sort_key(self.field(r, p)), reverse=desc)
        start = self.q.start - 1
        return rows[start : start + self.q.limit], len(rows)


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if op == "<":
        return actual < expected
    if op == ">":
        return actual > expected
    if op == "<=":
        return actual <= expected
    return actual >= expected


def _sort_key(value: Any) -> tuple:
    if value is None:
        return (0, "")
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return (1, value)
    return (2, str(value).casefold())
