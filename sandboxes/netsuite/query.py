"""The record service's ``q`` filter (reference §1.5) and the account date preference.

``field OPERATOR value`` joined with AND/OR (AND binds tighter) and parentheses. Values may be
quoted with double quotes. ``ANY_OF`` takes comma-separated values. Dates are written in the
account's date format (``date_format``, default ``MM/DD/YYYY``), optionally followed by a time
``HH:MM[:SS]`` (24 h, or with am/pm); the account's time zone is UTC here (decision). A date in
another format is refused with 400 ``INVALID_PARAMETER`` "Unparseable date", which is what
Airbyte's format probe relies on ([AB] streams.py). ``BETWEEN``/``WITHIN`` are not implemented:
they are refused as unsupported.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import NSError
from .schema import BOOL_FIELDS, DATE_FIELDS, FIELD_LOWER, INT_FIELDS, MONEY_FIELDS, RecordType

DATE_FORMATS = {
    "MM/DD/YYYY": "%m/%d/%Y",
    "DD/MM/YYYY": "%d/%m/%Y",
    "YYYY-MM-DD": "%Y-%m-%d",
    "DD.MM.YYYY": "%d.%m.%Y",
    "M/D/YYYY": "%m/%d/%Y",
}
_TIMES = ("%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p")
_TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|(\()|(\))|(,)|([^\s(),"]+))')

OPS = {
    "none": {"EMPTY", "EMPTY_NOT"},
    "bool": {"IS", "IS_NOT"},
    "number": {
        "ANY_OF",
        "ANY_OF_NOT",
        "EQUAL",
        "EQUAL_NOT",
        "GREATER",
        "GREATER_NOT",
        "GREATER_OR_EQUAL",
        "GREATER_OR_EQUAL_NOT",
        "LESS",
        "LESS_NOT",
        "LESS_OR_EQUAL",
        "LESS_OR_EQUAL_NOT",
    },
    "string": {
        "CONTAIN",
        "CONTAIN_NOT",
        "IS",
        "IS_NOT",
        "START_WITH",
        "START_WITH_NOT",
        "END_WITH",
        "END_WITH_NOT",
    },
    "date": {
        "AFTER",
        "AFTER_NOT",
        "BEFORE",
        "BEFORE_NOT",
        "ON",
        "ON_NOT",
        "ON_OR_AFTER",
        "ON_OR_AFTER_NOT",
        "ON_OR_BEFORE",
        "ON_OR_BEFORE_NOT",
    },
}
ALL_OPS = set().union(*OPS.values()) | {"BETWEEN", "BETWEEN_NOT", "WITHIN", "WITHIN_NOT"}


def bad_q(detail: str) -> NSError:
    return NSError(
        400, f"Invalid query parameter value. {detail}", "INVALID_PARAMETER", query_param="q"
    )


def parse_user_date(text: str, date_format: str) -> tuple[datetime, bool]:
    """A date (and optional time) in the account's format -> (UTC datetime, had a time)."""
    fmt = DATE_FORMATS.get(date_format, date_format)
    text = text.strip()
    try:
        return datetime.strptime(text, fmt).replace(tzinfo=UTC), False
    except ValueError:
        pass
    for tfmt in _TIMES:
        try:
            return datetime.strptime(text.upper(), f"{fmt} {tfmt}").replace(tzinfo=UTC), True
        except ValueError:
            continue
    raise ValueError(text)


def format_user_date(moment: datetime, date_format: str) -> str:
    return moment.strftime(DATE_FORMATS.get(date_format, date_format))


def field_kind(rt: RecordType, name: str) -> str:
    if name in ("lastModifiedDate", "createdDate", "dateCreated") or name in DATE_FIELDS:
        return "date"
    if name in BOOL_FIELDS:
        return "bool"
    if name in MONEY_FIELDS or name in INT_FIELDS or name == "id":
        return "number"
    if name in rt.refs or name in rt.enums or name in rt.multi_refs:
        return "ref"
    return "string"


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise bad_q(f"Unexpected character at position {pos}.")
        pos = m.end()
        quoted, lp, rp, comma, word = m.groups()
        if quoted is not None:
            out.append(("str", quoted.replace('\\"', '"')))
        elif lp:
            out.append(("(", lp))
        elif rp:
            out.append((")", rp))
        elif comma:
            out.append((",", comma))
        elif word:
            out.append(("word", word))
    return out


Pred = Callable[[dict[str, Any]], bool]


class QParser:
    def __init__(self, rt: RecordType, text: str, date_format: str) -> None:
        self.rt, self.date_format = rt, date_format
        self.toks = _tokens(text)
        self.i = 0

    def parse(self) -> Pred:
        pred = self._or()
        if self.i != len(self.toks):
            raise bad_q(f"Unexpected token {self.toks[self.i][1]!r}.")
        return pred

    def _peek_word(self) -> str | None:
        if self.i < len(self.toks) and self.toks[self.i][0] == "word":
            return self.toks[self.i][1].upper()
        return None

    def _or(self) -> Pred:
        parts = [self._and()]
        while self._peek_word() == "OR":
            self.i += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def _and(self) -> Pred:
        parts = [self._term()]
        while self._peek_word() == "AND":
            self.i += 1
            parts.append(self._term())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def _take(self) -> tuple[str, str]:
        if self.i >= len(self.toks):
            raise bad_q("Unexpected end of the query.")
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def _term(self) -> Pred:
        kind, text = self._take()
        if kind == "(":
            inner = self._or()
            if self._take()[0] != ")":
                raise bad_q("Missing closing parenthesis.")
            return inner
        if kind != "word":
            raise bad_q(f"Unexpected token {text!r}.")
        name = "id" if text.lower() == "id" else FIELD_LOWER[self.rt.name].get(text.lower())
        if name is None:
            raise NSError(
                400,
                f"Invalid search query. Field '{text}' does not exist or is not filterable.",
                "NONEXISTENT_FIELD",
                query_param="q",
            )
        op_kind, op = self._take()
        op = op.upper()
        if op_kind != "word" or op not in ALL_OPS:
            raise bad_q(f"Unknown operator {op!r}.")
        kind = field_kind(self.rt, name)
        if op in ("EMPTY", "EMPTY_NOT"):
            return (
                (lambda r: r.get(name) in (None, ""))
                if op == "EMPTY"
                else (lambda r: r.get(name) not in (None, ""))
            )
        allowed = OPS[kind] if kind != "ref" else OPS["number"] | {"IS", "IS_NOT"}
        if op not in allowed:
            raise bad_q(f"Operator {op} is not supported for field {name}.")
        values = [self._value()]
        while op.startswith("ANY_OF") and self.i < len(self.toks) and self.toks[self.i][0] == ",":
            self.i += 1
            values.append(self._value())
        negate = op.endswith("_NOT")
        base = op[:-4] if negate else op
        test = self._compile(name, kind, base, values)
        return (lambda r: not test(r)) if negate else test

    def _value(self) -> str:
        kind, text = self._take()
        if kind not in ("str", "word"):
            raise bad_q(f"Unexpected token {text!r}.")
        return text

    def _compile(self, name: str, kind: str, op: str, values: list[str]) -> Pred:
        if kind == "date":
            return self._date(name, op, values[0])
        if kind == "bool":
            want = values[0].lower() == "true"
            return lambda r: bool(r.get(name)) == want
        if kind == "string":
            needle = values[0].lower()
            check = {
                "IS": lambda v: v == needle,
                "CONTAIN": lambda v: needle in v,
                "START_WITH": lambda v: v.startswith(needle),
                "END_WITH": lambda v: v.endswith(needle),
            }[op]
            return lambda r: check(str(r.get(name) or "").lower())
        if kind == "ref":
            ids = set(values)

            def ref_ids(r: dict[str, Any]) -> set[str]:
                v = r.get(name)
                if isinstance(v, dict) and "items" in v:
                    return {x["id"] for x in v["items"]}
                return {v["id"]} if isinstance(v, dict) else set()

            return lambda r: bool(ref_ids(r) & ids)
        try:
            nums = [Decimal(v) for v in values]
        except InvalidOperation:
            raise bad_q(f"Invalid number {values[0]!r}.") from None
        first = nums[0]
        cmp = {
            "ANY_OF": lambda v: v in nums,
            "EQUAL": lambda v: v == first,
            "GREATER": lambda v: v > first,
            "GREATER_OR_EQUAL": lambda v: v >= first,
            "LESS": lambda v: v < first,
            "LESS_OR_EQUAL": lambda v: v <= first,
        }[op]

        def num(r: dict[str, Any]) -> bool:
            v = r.get(name)
            return v is not None and cmp(Decimal(str(v)))

        return num

    def _date(self, name: str, op: str, text: str) -> Pred:
        try:
            moment, has_time = parse_user_date(text, self.date_format)
        except ValueError:
            raise bad_q(f'Unparseable date: "{text}"') from None
        start = moment.timestamp()
        end = start + (1 if has_time else timedelta(days=1).total_seconds())
        ok = {
            "AFTER": lambda t: t >= end,
            "BEFORE": lambda t: t < start,
            "ON": lambda t: start <= t < end,
            "ON_OR_AFTER": lambda t: t >= start,
            "ON_OR_BEFORE": lambda t: t < end,
        }[op]
        if name == "lastModifiedDate":
            return lambda r: ok(r["_mtime"])

        def check(r: dict[str, Any]) -> bool:
            value = r.get(name)
            if not value:
                return False
            if len(value) == 10:
                stamp = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
            else:
                stamp = (
                    datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
                )
            return ok(stamp)

        return check


def compile_q(rt: RecordType, text: str, date_format: str) -> Pred:
    return QParser(rt, text, date_format).parse()
