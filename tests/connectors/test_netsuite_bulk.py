"""NetSuite bulk reads through SuiteQL: the same typed bills as the record reads, in
``pages + line pages`` requests instead of one GET per bill."""

from __future__ import annotations

import math
from datetime import UTC, date
from decimal import Decimal

import httpx
import pytest

from connectors.limits import NoLimit
from connectors.netsuite import NetSuiteClient
from connectors.tokens import MemoryTokenStore

ns = pytest.importorskip("sandboxes.netsuite")
from sandboxes.netsuite.schema import RECORD_TYPES  # noqa: E402
from tests.connectors.test_netsuite_sandbox import Recorder, m2m_settings  # noqa: E402


def seed(sb, bills: int) -> dict[str, str]:
    create = sb.books.create
    with sb.lock:
        cur, _ = create(RECORD_TYPES["currency"], {"name": "USD", "symbol": "USD"})
        sub, _ = create(
            RECORD_TYPES["subsidiary"], {"name": "Parent", "currency": {"id": cur["id"]}}
        )
        subs = {"items": [{"id": sub["id"]}]}
        ap, _ = create(
            RECORD_TYPES["account"],
            {"acctName": "AP", "acctType": {"id": "AcctPay"}, "subsidiary": subs},
        )
        exp, _ = create(
            RECORD_TYPES["account"],
            {"acctName": "Materials", "acctType": {"id": "Expense"}, "subsidiary": subs},
        )
        item, _ = create(
            RECORD_TYPES["serviceResaleItem"],
            {"itemId": "Concrete", "expenseAccount": {"id": exp["id"]}, "subsidiary": subs},
        )
        vendor, _ = create(
            RECORD_TYPES["vendor"], {"companyName": "Acme", "subsidiary": {"id": sub["id"]}}
        )
        for n in range(bills):
            create(
                RECORD_TYPES["vendorBill"],
                {
                    "entity": {"id": vendor["id"]},
                    "subsidiary": {"id": sub["id"]},
                    "currency": {"id": cur["id"]},
                    "account": {"id": ap["id"]},
                    "tranId": f"B{n:04d}",
                    "tranDate": "2025-01-03",
                    "memo": f"bill {n}",
                    "expense": {
                        "items": [
                            {"account": {"id": exp["id"]}, "amount": "1000.10", "memo": "Labor"}
                        ]
                    },
                    "item": {
                        "items": [{"item": {"id": item["id"]}, "quantity": "2", "rate": "125.25"}]
                    },
                },
                external_id=f"bill-{n}",
            )
    return {"sub": sub["id"], "vendor": vendor["id"], "exp": exp["id"], "item": item["id"]}


@pytest.fixture
def setup():
    sb = ns.NetSuiteSandbox(seed=1)
    wire = Recorder(sb)
    client = NetSuiteClient.from_settings(
        m2m_settings(),
        token_store=MemoryTokenStore(),
        transport=httpx.MockTransport(wire),
        limiter=NoLimit(),
        clock=sb.clock.time,
    )
    client.tokens.access_token()
    return sb, wire, client


def test_bulk_bills_match_the_record_reads(setup):
    sb, wire, client = setup
    ids = seed(sb, 7)

    bulk = list(client.transactions("vendorBill", page_size=3))
    records = list(client.iter_records("vendorBill"))

    assert [b.id for b in bulk] == [r.id for r in records]
    for got, want in zip(bulk, records, strict=True):
        assert got.type == "vendorBill" and isinstance(got.id, str)
        assert (got.tran_id, got.tran_date, got.external_id) == (
            want.tran_id,
            want.tran_date,
            want.external_id,
        )
        assert got.tran_date == date(2025, 1, 3)
        assert got.entity.id == ids["vendor"] and got.entity.name == "Acme"
        assert got.subsidiary.id == ids["sub"] and got.subsidiary.name == want.subsidiary.name
        assert got.currency.id == want.currency.id
        assert got.total == want.total and isinstance(got.total, Decimal)
        assert got.memo == want.memo
        assert got.last_modified == want.last_modified.replace(microsecond=0)
        assert got.last_modified.tzinfo is UTC
        assert sorted((ln.sublist, ln.amount) for ln in got.lines) == sorted(
            (ln.sublist, ln.amount) for ln in want.lines
        )
        item_line = got.item_lines[0]
        assert item_line.item.id == ids["item"] and item_line.item.name == "Concrete"
        assert (item_line.quantity, item_line.rate) == (Decimal("2"), Decimal("125.25"))
        expense = got.expense_lines[0]
        assert expense.account.id == ids["exp"] and expense.amount == Decimal("1000.10")
        assert expense.memo == "Labor"


def test_bulk_read_requests_are_pages_plus_line_pages(setup):
    sb, wire, client = setup
    seed(sb, 25)
    before = len(wire.requests)

    bills = list(client.transactions("vendorBill", page_size=10))

    assert len(bills) == 25 and len({b.id for b in bills}) == 25
    # 3 header pages (10, 10, 5); each page's lines (mainline + 2 lines per bill = 30, 30, 15
    # rows) fit one SuiteQL page of 1,000: 2 requests per header page.
    assert len(wire.requests) - before == 2 * math.ceil(25 / 10)
    assert all(r.url.path.endswith("/suiteql") for r in wire.requests[before:])


def test_bulk_read_since_reads_only_newer_bills(setup):
    sb, _, client = setup
    seed(sb, 3)
    sb.clock.advance(3600)
    cutoff = sb.clock.now()
    sb.clock.advance(60)
    bill = next(iter(client.transactions("vendorBill")))
    client.update("vendorBill", bill.id, {"memo": "edited"})

    changed = list(client.transactions("vendorBill", since=cutoff))

    assert [(b.id, b.memo) for b in changed] == [(bill.id, "edited")]


def test_an_empty_account_costs_one_request(setup):
    _, wire, client = setup
    before = len(wire.requests)
    assert list(client.transactions("vendorBill")) == []
    assert len(wire.requests) - before == 1
