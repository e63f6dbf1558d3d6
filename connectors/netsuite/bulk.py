"""Bulk reads of transactions with their lines through SuiteQL (reference §2).

The record service lists ids only (reference §1.4), so reading N bills as records costs
``N / 1000 + N`` requests. SuiteQL returns fields: one query for a page of up to 1,000
transaction headers, keyset-paged on ``id`` (no 100,000-row cap, stable while records are
added), then one query for those headers' ``transactionline`` rows, paged by 1,000. A page of
bills therefore costs ``1 + ceil(lines / 1000)`` requests.

Lines include the ``mainline`` row, which carries the body's subsidiary and segments (the
``transaction`` table has no subsidiary column). A line with an ``item`` is an item line,
otherwise an expense line (its ``expenseaccount`` is the account). Dates come through
``TO_CHAR`` (SuiteQL prints dates in the account's format) and are read as UTC, as
:meth:`NetSuiteClient.changed_since` does; names through ``BUILTIN.DF``. Values are strings
in SuiteQL answers; money becomes ``Decimal``, ids stay strings.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .schemas import Line, Ref, Transaction, money, parse_date

if TYPE_CHECKING:
    from .client import NetSuiteClient

PAGE_MAX = 1000
_STAMP = "'YYYY-MM-DD HH24:MI:SS'"
_DAY = "'YYYY-MM-DD'"
_REFS = ("entity", "currency", "status", "approvalstatus")
HEADER_COLUMNS = ", ".join(
    [
        "id",
        "externalid",
        "tranid",
        f"TO_CHAR(trandate, {_DAY}) AS trandate",
        f"TO_CHAR(duedate, {_DAY}) AS duedate",
        "exchangerate",
        "foreigntotal",
        "memo",
        f"TO_CHAR(lastmodifieddate, {_STAMP}) AS lastmodified",
        f"TO_CHAR(createddate, {_STAMP}) AS created",
        *(f"{c}, BUILTIN.DF({c}) AS {c}_name" for c in _REFS),
    ]
)
_LINE_REFS = ("item", "expenseaccount", "department", "class", "location", "subsidiary")
LINE_COLUMNS = ", ".join(
    [
        "transaction",
        "id",
        "linesequencenumber",
        "mainline",
        "memo",
        "quantity",
        "rate",
        "foreignamount",
        *(f"{c}, BUILTIN.DF({c}) AS {c}_name" for c in _LINE_REFS),
    ]
)


def transactions_with_lines(
    client: NetSuiteClient,
    tran_type: str,
    record_type: str,
    *,
    since: datetime | None = None,
    page_size: int = PAGE_MAX,
) -> Iterator[Transaction]:
    """Typed transactions of SuiteQL type ``tran_type`` (``VendBill``…) with their lines,
    in id order, one page of headers and its lines in memory at a time."""
    from .client import suiteql_timestamp

    page_size = max(1, min(page_size, PAGE_MAX))
    after = None
    while True:
        clauses = [f"type = '{_checked(tran_type)}'"]
        if after is not None:
            clauses.append(f"id > {int(after)}")
        if since is not None:
            clauses.append(f"lastmodifieddate >= {suiteql_timestamp(since)}")
        # Only our own identifiers, integers and a formatted timestamp go in: no caller text.
        sql = f"SELECT {HEADER_COLUMNS} FROM transaction WHERE {' AND '.join(clauses)} ORDER BY id"  # noqa: S608
        # Keyset paging: always the first page of "id > last seen", so never an offset.
        headers, more = client.suiteql_page(sql, limit=page_size)
        if not headers:
            return
        lines = _lines_for(client, [h["id"] for h in headers])
        for header in headers:
            yield _transaction(header, lines.pop(str(header["id"]), []), record_type)
        if not more:
            return
        after = headers[-1]["id"]


def _lines_for(client: NetSuiteClient, ids: list[Any]) -> dict[str, list[dict[str, Any]]]:
    # At most 1,000 ids: the size of an Oracle IN list.
    id_list = ", ".join(str(int(i)) for i in ids)
    sql = (
        f"SELECT {LINE_COLUMNS} FROM transactionline "  # noqa: S608 - integers only
        f"WHERE transaction IN ({id_list}) ORDER BY transaction, linesequencenumber"
    )
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in client.suiteql(sql):
        grouped.setdefault(str(row["transaction"]), []).append(row)
    return grouped


def _checked(code: str) -> str:
    if not code.isalnum():
        raise ValueError(f"not a SuiteQL transaction type code: {code!r}")
    return code


def _ref(row: dict[str, Any], column: str) -> Ref | None:
    value = row.get(column)
    if value in (None, ""):
        return None
    return Ref(str(value), str(row.get(f"{column}_name") or ""))


def _transaction(header: dict[str, Any], rows: list[dict[str, Any]], record_type: str):
    from .client import parse_suiteql_datetime

    main = next((r for r in rows if r.get("mainline") == "T"), {})
    lines = [_line(r) for r in rows if r.get("mainline") != "T"]
    return Transaction(
        type=record_type,
        id=str(header["id"]),
        external_id=header.get("externalid"),
        tran_id=str(header.get("tranid") or ""),
        tran_date=parse_date(header.get("trandate")),
        due_date=parse_date(header.get("duedate")),
        entity=_ref(header, "entity"),
        subsidiary=_ref(main, "subsidiary"),
        currency=_ref(header, "currency"),
        exchange_rate=money(header.get("exchangerate")),
        memo=str(header.get("memo") or ""),
        status=_ref(header, "status"),
        approval_status=_ref(header, "approvalstatus"),
        total=money(header.get("foreigntotal")),
        department=_ref(main, "department"),
        class_=_ref(main, "class"),
        location=_ref(main, "location"),
        lines=lines,
        last_modified=parse_suiteql_datetime(header.get("lastmodified")),
        created=parse_suiteql_datetime(header.get("created")),
        raw={**header, "lines": rows},
    )


def _line(row: dict[str, Any]) -> Line:
    seq = row.get("linesequencenumber")
    return Line(
        sublist="item" if row.get("item") else "expense",
        line=int(seq) if seq not in (None, "") else None,
        item=_ref(row, "item"),
        account=_ref(row, "expenseaccount"),
        description="",
        quantity=money(row.get("quantity")),
        rate=money(row.get("rate")),
        amount=money(row.get("foreignamount")),
        memo=str(row.get("memo") or ""),
        department=_ref(row, "department"),
        class_=_ref(row, "class"),
        location=_ref(row, "location"),
        customer=None,
        order_doc=None,
        order_line=None,
        raw=row,
    )
