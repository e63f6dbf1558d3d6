"""Reading payments from the ERP for the payment-status pull (ERP → Procore).

Two questions, asked the same way whatever the ERP:

* ``changed(side, since)``: the payments modified at or after ``since``, oldest first, in
  batches, each payment flattened to one :class:`Applied` per document it pays (a bill for
  ``side="vendor"``, an invoice for ``side="customer"``), with the watermark to resume from;
* ``documents(doc_type, ids)``: those documents' totals and open balances, in bulk.

NetSuite: ``changed_since`` (SuiteQL on ``lastmodifieddate``) gives the ids, one GET per payment
gives its ``apply`` sublist (SuiteQL does not expose it), and one SuiteQL ``IN`` query per batch
the bills' ``foreignamountremaining``. QuickBooks: one query per page on
``MetaData.LastUpdatedTime >= since`` (a query, not CDC: CDC looks back 30 days at most and
caps at 1,000 objects; the query has neither limit), the applications are the payment's
``Line[].LinkedTxn``, and one ``Id IN (…)`` query per batch the bills' ``Balance``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connectors.errors import NotFound
from connectors.netsuite.schemas import parse_payment
from connectors.quickbooks.query import chunks
from connectors.quickbooks.schemas import parse as qbo_parse
from connectors.quickbooks.schemas import utc

ZERO = Decimal("0.00")
BATCH = 50  # payments per batch: the cursor advances after each, so a kill loses little

# side → (ERP payment type, ERP document type) per ERP kind
TYPES = {
    "netsuite": {
        "vendor": ("vendorPayment", "vendorBill"),
        "customer": ("customerPayment", "invoice"),
    },
    "quickbooks": {"vendor": ("BillPayment", "Bill"), "customer": ("Payment", "Invoice")},
}


@dataclass(frozen=True)
class Applied:
    """One ERP payment applied to one ERP document."""

    payment_type: str
    payment_id: str
    number: str  # the payment's own number (check number / tranId), may be blank
    doc_type: str
    doc_id: str
    amount: Decimal
    paid_on: date | None
    memo: str = ""

    @property
    def key(self) -> str:
        return f"{self.payment_id}:{self.doc_id}"


@dataclass(frozen=True)
class DocState:
    doc_id: str
    number: str
    total: Decimal
    remaining: Decimal

    @property
    def paid(self) -> Decimal:
        return self.total - self.remaining


@dataclass
class Batch:
    applied: list[Applied]
    watermark: datetime | None  # resume from here once this batch is done
    payments: int


def _dec(value: Any) -> Decimal:
    return ZERO if value in (None, "") else Decimal(str(value)).quantize(ZERO)


def reader_for(kind: str, client: Any) -> NetSuitePayments | QuickBooksPayments:
    return NetSuitePayments(client) if kind == "netsuite" else QuickBooksPayments(client)


class NetSuitePayments:
    kind = "netsuite"

    def __init__(self, client: Any) -> None:
        self.client = client

    def changed(self, side: str, since: datetime | None, batch: int = BATCH) -> Iterator[Batch]:
        pay_type, doc_type = TYPES[self.kind][side]
        rows: list[dict[str, Any]] = []
        for row in self.client.changed_since(pay_type, since):
            rows.append(row)
            if len(rows) == batch:
                yield self._batch(pay_type, doc_type, rows)
                rows = []
        if rows:
            yield self._batch(pay_type, doc_type, rows)

    def _batch(self, pay_type: str, doc_type: str, rows: list[dict[str, Any]]) -> Batch:
        applied: list[Applied] = []
        for row in rows:
            try:
                raw = self.client.get_raw(pay_type, str(row["id"]))
            except NotFound:  # deleted since the query: nothing to apply
                continue
            pay = parse_payment(raw, pay_type)
            for app in pay.applications:
                if not app.apply or app.doc is None:
                    continue
                applied.append(
                    Applied(
                        payment_type=pay_type,
                        payment_id=pay.id,
                        number=pay.tran_id or "",
                        doc_type=doc_type,
                        doc_id=str(app.doc.id),
                        amount=_dec(app.amount),
                        paid_on=pay.tran_date,
                        memo=pay.memo or "",
                    )
                )
        return Batch(applied, rows[-1].get("last_modified"), len(rows))

    def documents(self, doc_type: str, ids: list[str]) -> dict[str, DocState]:
        out: dict[str, DocState] = {}
        for part in chunks(sorted(set(ids), key=int), 500):
            in_list = ", ".join(str(int(i)) for i in part)  # ids are digits: checked by int()
            sql = (
                "SELECT id, tranid, foreigntotal, foreignamountremaining FROM transaction "  # noqa: S608
                f"WHERE id IN ({in_list}) ORDER BY id"
            )
            for row in self.client.suiteql(sql):
                rid = str(row["id"])
                out[rid] = DocState(
                    rid,
                    str(row.get("tranid") or ""),
                    _dec(row.get("foreigntotal")),
                    _dec(row.get("foreignamountremaining")),
                )
        return out


class QuickBooksPayments:
    kind = "quickbooks"

    def __init__(self, client: Any) -> None:
        self.client = client

    def changed(self, side: str, since: datetime | None, batch: int = BATCH) -> Iterator[Batch]:
        pay_type, doc_type = TYPES[self.kind][side]
        where = [("MetaData.LastUpdatedTime", ">=", since)] if since else None
        rows: list[dict[str, Any]] = []
        for row in self.client.iter_query(
            pay_type, where, order_by="MetaData.LastUpdatedTime", raw=True
        ):
            rows.append(row)
            if len(rows) == batch:
                yield self._batch(pay_type, doc_type, rows)
                rows = []
        if rows:
            yield self._batch(pay_type, doc_type, rows)

    def _batch(self, pay_type: str, doc_type: str, rows: list[dict[str, Any]]) -> Batch:
        applied: list[Applied] = []
        stamp = None
        for raw in rows:
            pay = qbo_parse(pay_type, raw)
            stamp = utc((raw.get("MetaData") or {}).get("LastUpdatedTime")) or stamp
            for line in pay.lines:
                for link in line.linked:
                    if link.txn_type != doc_type:
                        continue
                    applied.append(
                        Applied(
                            payment_type=pay_type,
                            payment_id=str(pay.id),
                            number=pay.doc_number or "",
                            doc_type=doc_type,
                            doc_id=link.txn_id,
                            amount=_dec(line.amount),
                            paid_on=pay.txn_date,
                            memo=pay.private_note or "",
                        )
                    )
        return Batch(applied, stamp, len(rows))

    def documents(self, doc_type: str, ids: list[str]) -> dict[str, DocState]:
        out: dict[str, DocState] = {}
        for part in chunks(sorted(set(ids)), 500):
            for doc in self.client.iter_query(doc_type, [("Id", "IN", part)]):
                out[str(doc.id)] = DocState(
                    str(doc.id), doc.doc_number or "", _dec(doc.total_amt), _dec(doc.balance)
                )
        return out
