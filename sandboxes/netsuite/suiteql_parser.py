"""Tokenizer and recursive-descent parser of the SuiteQL subset (see ``suiteql.py``)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from .errors import NSError

_TOK = re.compile(
    r"\s*(?:('(?:[^']|'')*')|(\d+(?:\.\d+)?)|(<=|>=|<>|!=|[=<>(),*])"
    r"|([A-Za-z_][\w.]*))"
)


def bad(detail: str) -> NSError:
    return NSError(
        400,
        "Invalid search query. Detailed unprocessed description follows. "
        f"Search error occurred: {detail}",
        "INVALID_PARAMETER",
    )


class Parser:
    def __init__(self, text: str) -> None:
        self.toks: list[tuple[str, str]] = []
        pos, text = 0, text.strip().rstrip(";")
        while pos < len(text):
            m = _TOK.match(text, pos)
            if not m or m.end() == pos:
                raise bad(f"Invalid or unsupported search near '{text[pos : pos + 20]}'.")
            pos = m.end()
            s, n, op, word = m.groups()
            if s is not None:
                self.toks.append(("str", s[1:-1].replace("''", "'")))
            elif n is not None:
                self.toks.append(("num", n))
            elif op is not None:
                self.toks.append(("op", op))
            elif word is not None:
                self.toks.append(("word", word))
        self.i = 0

    def peek(self, *words: str) -> bool:
        if self.i < len(self.toks):
            kind, text = self.toks[self.i]
            return (kind == "word" and text.upper() in words) or (kind == "op" and text in words)
        return False

    def take(self) -> tuple[str, str]:
        if self.i >= len(self.toks):
            raise bad("Unexpected end of query.")
        self.i += 1
        return self.toks[self.i - 1]

    def expect(self, word: str) -> None:
        if not self.peek(word):
            raise bad(f"Expected {word}.")
        self.i += 1

    # query := SELECT items FROM table [alias] [WHERE cond] [ORDER BY ...]
    def query(self) -> dict[str, Any]:
        self.expect("SELECT")
        items = [self.select_item()]
        while self.peek(","):
            self.i += 1
            items.append(self.select_item())
        self.expect("FROM")
        kind, table = self.take()
        if kind != "word":
            raise bad("Expected a table name.")
        alias = None
        if (
            self.i < len(self.toks)
            and self.toks[self.i][0] == "word"
            and not self.peek("WHERE", "ORDER")
        ):
            alias = self.take()[1]
        where = None
        if self.peek("WHERE"):
            self.i += 1
            where = self.cond()
        order = []
        if self.peek("ORDER"):
            self.i += 1
            self.expect("BY")
            while True:
                expr = self.expr()
                desc = False
                if self.peek("ASC", "DESC"):
                    desc = self.take()[1].upper() == "DESC"
                order.append((expr, desc))
                if not self.peek(","):
                    break
                self.i += 1
        if self.i != len(self.toks):
            raise bad(f"Invalid or unsupported search near '{self.toks[self.i][1]}'.")
        return {
            "items": items,
            "table": table.lower(),
            "alias": alias,
            "where": where,
            "order": order,
        }

    def select_item(self) -> tuple[Any, str | None]:
        if self.peek("*"):
            self.i += 1
            return ("star",), None
        expr = self.expr()
        alias = None
        if self.peek("AS"):
            self.i += 1
            alias = self.take()[1]
        elif self.i < len(self.toks) and self.toks[self.i][0] == "word" and not self.peek("FROM"):
            alias = self.take()[1]
        return expr, alias

    def expr(self) -> tuple[Any, ...]:
        kind, text = self.take()
        if kind == "str":
            return ("lit", text)
        if kind == "num":
            return ("lit", Decimal(text))
        if kind != "word":
            raise bad(f"Invalid or unsupported search near '{text}'.")
        if self.peek("("):
            self.i += 1
            args = [] if self.peek(")") else [self.expr()]
            while self.peek(","):
                self.i += 1
                args.append(self.expr())
            self.expect(")")
            name = text.upper()
            if name not in ("TO_CHAR", "TO_DATE", "TO_TIMESTAMP", "BUILTIN.DF", "UPPER", "LOWER"):
                raise bad(f"Invalid or unsupported function {text}.")
            return ("fn", name, args)
        if text.upper() in ("NULL",):
            return ("lit", None)
        return ("col", text)

    def cond(self) -> tuple[Any, ...]:
        parts = [self.conj()]
        while self.peek("OR"):
            self.i += 1
            parts.append(self.conj())
        return parts[0] if len(parts) == 1 else ("or", parts)

    def conj(self) -> tuple[Any, ...]:
        parts = [self.neg()]
        while self.peek("AND"):
            self.i += 1
            parts.append(self.neg())
        return parts[0] if len(parts) == 1 else ("and", parts)

    def neg(self) -> tuple[Any, ...]:
        if self.peek("NOT"):
            self.i += 1
            return ("not", self.neg())
        if self.peek("("):
            self.i += 1
            inner = self.cond()
            self.expect(")")
            return inner
        left = self.expr()
        negate = False
        if self.peek("IS"):
            self.i += 1
            if self.peek("NOT"):
                self.i += 1
                negate = True
            self.expect("NULL")
            node: tuple[Any, ...] = ("null", left)
        else:
            if self.peek("NOT"):
                self.i += 1
                negate = True
            if self.peek("IN"):
                self.i += 1
                self.expect("(")
                values = [self.expr()]
                while self.peek(","):
                    self.i += 1
                    values.append(self.expr())
                self.expect(")")
                node = ("in", left, values)
            elif self.peek("LIKE"):
                self.i += 1
                node = ("like", left, self.expr())
            elif self.peek("BETWEEN"):
                self.i += 1
                low = self.expr()
                self.expect("AND")
                node = ("between", left, low, self.expr())
            elif self.peek("=", "<>", "!=", "<", "<=", ">", ">="):
                op = self.take()[1]
                node = ("cmp", op, left, self.expr())
            else:
                raise bad("Invalid or unsupported search: expected a comparison.")
        return ("not", node) if negate else node
