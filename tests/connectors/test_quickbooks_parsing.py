"""Parsing QBO payloads and faults from the documented examples in fixtures/quickbooks/."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from connectors.errors import (
    AuthError,
    Conflict,
    Duplicate,
    NotFound,
    PermissionDenied,
    RateLimited,
    TransientError,
    ValidationFailed,
)
from connectors.quickbooks import client as qbo_client
from connectors.quickbooks import query as q
from connectors.quickbooks import schemas
from connectors.quickbooks.client import BatchOp, _batch_result, dumps, loads, request_id
from connectors.quickbooks.errors import classify, error_for

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "quickbooks"


def fixture(name: str):
    return loads((FIXTURES / f"{name}.json").read_bytes())


def response(status: int, body, headers=None) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body, default=str).encode()
    return httpx.Response(
        status, content=content, headers=headers, request=httpx.Request("GET", "https://x/")
    )


# -- entities ----------------------------------------------------------------------------------


def test_job_costed_bill():
    bill = schemas.parse("bill", fixture("bill__job_costed"))
    assert isinstance(bill, schemas.Bill)
    assert bill.id == "25" and bill.sync_token == "1"
    assert bill.total_amt == Decimal("103.55") and bill.balance == Decimal("0")
    assert bill.updated_at == datetime(2023, 2, 18, 20, 56, 17, tzinfo=UTC)  # -08:00 → UTC
    assert bill.txn_date == date(2023, 2, 15) and bill.due_date == date(2023, 3, 17)
    assert bill.vendor == schemas.Ref("46", "Norton Lumber and Building Materials")
    assert bill.linked[0].txn_type == "BillPaymentCheck"
    line = bill.lines[0]
    assert line.customer.value == "26" and line.account.value == "64"
    assert line.billable_status == "HasBeenBilled" and line.amount == Decimal("103.55")
    assert bill.raw["APAccountRef"]["value"] == "33"


def test_purchase_order_sample():
    po = schemas.parse("PurchaseOrder", fixture("purchaseorder__intuit_sample")["PurchaseOrder"])
    assert po.po_status == "Open" and po.doc_number == "1005" and po.total_amt == Decimal("25.0")
    line = po.lines[0]
    assert line.item.value == "38" and line.qty == Decimal("1") and line.unit_price == Decimal(25)
    assert line.customer.name == "Cool Cars"


def test_journal_entry_balances_and_line_entities():
    je = schemas.parse("JournalEntry", fixture("journalentry__intuit_sample")["JournalEntry"])
    assert je.totals() == (Decimal("25.54"), Decimal("25.54"))
    assert je.lines[0].entity_type == "Customer" and je.lines[1].entity_ref.value == "2"


def test_customer_job_vendor_and_bill_payment():
    job = schemas.parse("Customer", fixture("customer__job"))
    assert job.job and job.parent.value == "62" and job.level == 1 and job.name == "Jack Doe"
    vendor = schemas.parse("Vendor", fixture("query__vendors_page")["QueryResponse"]["Vendor"][0])
    assert vendor.email == "Books@Intuit.com" and vendor.acct_num == "1345"
    created = schemas.parse("Customer", fixture("customer__create_response")["Customer"])
    assert created.id == "70" and created.balance == Decimal(0)
    pay = schemas.parse("BillPayment", fixture("billpayment__credit_card"))
    assert pay.pay_type == "CreditCard" and pay.cc_account.value == "41"
    assert pay.lines[0].linked[0].txn_id == "25"


def test_deleted_stub_and_unknown_entity():
    stub = schemas.parse("Invoice", fixture("invoice__delete_stub")["Invoice"])
    assert isinstance(stub, schemas.Deleted) and stub.id == "266"
    with pytest.raises(ValueError):
        schemas.parse("Estimate", {})


def test_money_never_goes_through_float():
    assert loads(b'{"Amount": 0.1}')["Amount"] == Decimal("0.1")
    assert dumps({"Amount": Decimal("1234567.89")}) == b'{"Amount":1234567.89}'
    with pytest.raises(ValueError):
        dumps({"Amount": Decimal("12345678901234567.891")})


# -- faults ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "status", "family", "code"),
    [
        ("auth__token_expired_401", 401, AuthError, "3200"),
        ("fault__gateway_403", 403, PermissionDenied, "3100"),
        ("fault__stale_synctoken", 400, Conflict, "5010"),
        ("fault__duplicate_name", 400, Duplicate, "6240"),
        ("fault__duplicate_docnumber", 400, Duplicate, "6140"),
        ("fault__object_not_found", 400, NotFound, "610"),
        ("fault__business_validation", 400, ValidationFailed, "6000"),
        ("fault__invalid_id", 400, ValidationFailed, "2030"),
        ("fault__invalid_query", 400, ValidationFailed, "4001"),
        ("fault__throttle_429", 429, RateLimited, "3001"),
    ],
)
def test_fault_bodies_map_to_families_by_code(name, status, family, code):
    error = classify(response(status, fixture(name)))
    assert type(error) is family and error.code == code and error.status == status
    assert error.details and error.system == "quickbooks"


def test_throttle_without_retry_after_waits_sixty_seconds_and_xml_is_tolerated():
    data = fixture("fault__throttle_xml")
    error = classify(response(429, data["_body"].encode(), {"content-type": "application/xml"}))
    assert isinstance(error, RateLimited) and error.code == "3001" and error.retry_after == 60
    assert "ThrottleExceeded" in error.message
    error = classify(response(429, b"<html>slow down</html>", {"Retry-After": "5"}))
    assert isinstance(error, RateLimited) and error.retry_after == 5


def test_system_fault_and_bare_5xx_are_transient():
    body = {
        "Fault": {
            "Error": [{"Message": "An application error", "code": "10000"}],
            "type": "SystemFault",
        }
    }
    assert type(classify(response(500, body))) is TransientError
    assert type(classify(response(502, b"Bad gateway"))) is TransientError
    assert classify(response(200, {"ok": True})) is None


def test_codes_decide_not_message_text():
    body = {"Fault": {"Error": [{"Message": "Stale Object Error", "code": "6240"}]}}
    assert isinstance(classify(response(400, body)), Duplicate)


def test_batch_items_map_back_to_their_own_errors():
    answers = fixture("batch__mixed_results")["BatchItemResponse"]
    ops = [
        BatchOp("create", "Vendor", {}),
        BatchOp("delete", "Invoice", {}),
        BatchOp("update", "Bill", {}),
    ]
    results = [_batch_result(op, a) for op, a in zip(ops, answers, strict=True)]
    assert results[0].ok and results[0].record.name == "Boraski Family Store"
    assert isinstance(results[1].error, NotFound) and isinstance(results[2].error, Conflict)
    assert not _batch_result(ops[0], None).ok


def test_error_for_empty_list_is_none():
    assert error_for([]) is None


def test_cdc_grouping_with_a_deleted_stub():
    class Stub(qbo_client.QuickBooksClient):
        def _get(self, path, **params):
            return fixture("cdc__with_deleted_stub")

    client = Stub(realm_id="1", base_url="https://x")
    client.batch_limiter = None
    result = client.cdc(["Customer"], datetime(2015, 12, 1, tzinfo=UTC))
    assert [c.id for c in result.changes["Customer"]] == ["63"]
    # Estimate isn't one of ours: it still must not crash the grouping.
    assert result.time == datetime(2015, 12, 23, 20, 56, 6, 196000, tzinfo=UTC)


# -- query building ----------------------------------------------------------------------------


def test_quote_escapes_quotes_and_backslashes():
    assert q.quote("Amy's Bird Sanctuary") == r"'Amy\'s Bird Sanctuary'"
    assert q.quote("C:\\") == r"'C:\\'"
    assert q.quote(True) == "true" and q.quote(Decimal("300.00")) == "300.00"
    with pytest.raises(TypeError):
        q.quote(1.5)
    with pytest.raises(ValueError):
        q.quote(datetime(2025, 1, 1))


def test_select_shapes_and_refuses_injection_in_names_and_operators():
    sql = q.select(
        "Bill",
        [("VendorRef", "=", "56"), ("TxnDate", ">=", date(2025, 1, 1)), ("Id", "IN", ["1", "2"])],
        order_by="MetaData.LastUpdatedTime",
        start=1001,
        max_results=1000,
    )
    assert sql == (
        "SELECT * FROM Bill WHERE VendorRef = '56' AND TxnDate >= '2025-01-01' AND "
        "Id IN ('1', '2') ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1001 MAXRESULTS 1000"
    )
    with pytest.raises(ValueError):
        q.select("Bill", [("DocNumber = '1' OR 1", "=", "x")])
    with pytest.raises(ValueError):
        q.select("Bill", [("DocNumber", "OR", "x")])
    with pytest.raises(ValueError):
        q.select("Bill", max_results=1001)


def test_request_ids_are_stable_and_within_qbo_limits():
    assert request_id("chg-42") == "chg-42"
    long_key = "change:" + "x" * 80
    assert request_id(long_key) == request_id(long_key) and len(request_id(long_key)) == 50
    assert request_id("a b/c") != "a b/c"  # only plain ASCII keys go out verbatim
    assert len(qbo_client.request_id_for_chunk(long_key, 3)) == 36
    with pytest.raises(ValueError):
        request_id("")
