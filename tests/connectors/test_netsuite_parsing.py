"""NetSuite: typed records and error classification from recorded/documented payloads."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from connectors.errors import (
    AuthError,
    Duplicate,
    NotFound,
    PermissionDenied,
    RateLimited,
    TransientError,
    ValidationFailed,
)
from connectors.netsuite import schemas
from connectors.netsuite.client import (
    NetSuiteClient,
    _replace_params,
    parse_suiteql_datetime,
    record_id_from_location,
)
from connectors.netsuite.errors import classify, error_details

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "netsuite"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(), parse_float=Decimal)


def response(status: int, name: str, headers: dict | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=(FIXTURES / name).read_bytes(),
        headers={
            "content-type": "application/vnd.oracle.resource+json; type=error",
            **(headers or {}),
        },
    )


def test_vendor_bill_parses_money_as_decimal_ids_as_str_and_times_as_utc():
    bill = schemas.parse_record("vendorBill", load("vendorbill__oneworld_expanded.json"))
    assert bill.id == "9999" and bill.external_id == "procore-inv-88231"
    assert bill.entity == schemas.Ref("1722", "Acme Concrete")
    assert bill.currency.id == "2" and bill.exchange_rate == Decimal("1.3521")
    assert bill.tran_date == date(2025, 3, 31) and bill.due_date == date(2025, 4, 30)
    assert bill.last_modified == datetime(2025, 4, 1, 9, 15, 42, tzinfo=UTC)
    assert bill.last_modified.tzinfo is not None
    assert bill.status.id == "A" and bill.approval_status.name == "Approved"
    assert bill.total == Decimal("15000.00")
    (expense,) = bill.expense_lines
    assert expense.amount == Decimal("12500.00") and isinstance(expense.amount, Decimal)
    assert expense.account.id == "540" and expense.class_.id == "7"
    assert expense.customer.name == "Harbour Tower"
    (item,) = bill.item_lines
    assert item.quantity == Decimal(25) and item.rate == Decimal(100)
    assert item.order_doc.id == "4410" and item.order_line == 1
    assert bill.raw["tranId"] == "SUB-INV-0042"


def test_float_that_slipped_in_becomes_an_exact_decimal():
    assert schemas.money(0.1) == Decimal("0.1")
    assert schemas.money("1234.56") == Decimal("1234.56")
    assert schemas.money(None) is None


def test_journal_entry_and_payment_and_multi_select_segment():
    je = schemas.parse_record("journalentry", load("journalentry__sample.json"))
    assert [(ln.account.id, ln.debit, ln.credit) for ln in je.lines] == [
        ("10", Decimal(300), None),
        ("14", None, Decimal(300)),
    ]
    pay = schemas.parse_record("customerPayment", load("customerpayment__sample.json"))
    assert pay.entity.id == "4" and pay.total == Decimal(250)
    (app,) = pay.applications
    assert app.doc.id == "104" and app.amount == Decimal("200.0") and app.apply is True
    dept = schemas.parse_record("department", load("department__sample.json"))
    assert [s.id for s in dept.subsidiaries] == ["2", "4"] and dept.parent.id == "1"


def test_vendor_with_subsidiaries_sublist():
    vendor = schemas.parse_vendor(
        {
            "id": "55",
            "entityId": "Acme",
            "subsidiary": {"id": "1", "refName": "Parent"},
            "submachine": {"items": [{"subsidiary": {"id": "1"}}, {"subsidiary": {"id": "3"}}]},
            "currencyList": {"items": [{"currency": {"id": "1"}}, {"currency": {"id": "2"}}]},
            "lastModifiedDate": "2025-01-02T03:04:05Z",
        }
    )
    assert [s.id for s in vendor.subsidiaries] == ["1", "3"]
    assert [c.id for c in vendor.currencies] == ["1", "2"]
    assert vendor.last_modified == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_collection_and_suiteql_envelopes_and_location():
    page = load("collection__customer.json")
    assert [i["id"] for i in page["items"]] == ["107", "41"] and page["hasMore"] is True
    rows = load("suiteql__page.json")
    assert rows["items"][1]["col2"] == "value_222" and rows["hasMore"] is False
    loc = "https://demo123.suitetalk.api.netsuite.com/services/rest/record/v1/customer/647"
    assert record_id_from_location(loc) == "647"
    assert record_id_from_location(None) is None


def test_suiteql_dates_in_either_format_become_aware_utc():
    assert parse_suiteql_datetime("2025-01-02T03:04:05.000Z") == datetime(
        2025, 1, 2, 3, 4, 5, tzinfo=UTC
    )
    assert parse_suiteql_datetime("1/2/2025 3:04 pm") == datetime(2025, 1, 2, 15, 4, tzinfo=UTC)


def test_writes_with_sublists_replace_them_so_a_retry_cannot_append_lines_twice():
    assert _replace_params({"memo": "x"}, None) is None
    assert _replace_params({"item": {"items": []}, "expense": {"items": []}}, None) == {
        "replace": "expense,item"
    }
    # a multi-select is not a sublist
    assert _replace_params({"subsidiary": {"items": [{"id": "1"}]}}, None) is None


@pytest.mark.parametrize(
    ("status", "name", "family", "code"),
    [
        (400, "error__user_error.json", ValidationFailed, "USER_ERROR"),
        (400, "error__invalid_key_or_ref.json", ValidationFailed, "INVALID_KEY_OR_REF"),
        (400, "error__idempotency.json", Duplicate, "IDEMPOTENCY_ERROR"),
        (403, "error__insufficient_permission.json", PermissionDenied, "INSUFFICIENT_PERMISSION"),
        (401, "error__invalid_login_attempt.json", AuthError, "INVALID_LOGIN_ATTEMPT"),
        (429, "error__concurrency_limit.json", RateLimited, "CONCURRENCY_LIMIT_EXCEEDED"),
    ],
)
def test_error_bodies_classify_into_families_with_netsuite_codes(status, name, family, code):
    error = classify(response(status, name))
    assert type(error) is family
    assert error.code == code and error.status == status and error.system == "netsuite"
    assert error.message == load(name)["o:errorDetails"][0]["detail"]


def test_429_has_no_retry_after_so_the_http_layer_backs_off():
    error = classify(response(429, "error__concurrency_limit.json"))
    assert error.retry_after is None


def test_error_path_is_kept_and_5xx_and_404_classify():
    error = classify(response(400, "error__invalid_key_or_ref.json"))
    assert error.details[0]["path"] == "entitystatus"
    assert isinstance(classify(httpx.Response(503, json={})), TransientError)
    missing = httpx.Response(
        404, json={"o:errorDetails": [{"detail": "nope", "o:errorCode": "NONEXISTENT_ID"}]}
    )
    assert isinstance(classify(missing), NotFound)
    assert classify(httpx.Response(204)) is None
    assert error_details("not a dict") == []


def test_token_endpoint_oauth_errors_are_auth_errors():
    error = classify(
        httpx.Response(400, json={"error": "invalid_client", "error_description": "x"})
    )
    assert isinstance(error, AuthError) and error.code == "invalid_client"


def test_user_error_on_external_id_path_is_a_duplicate():
    client = NetSuiteClient(account_id="1", base_url="https://x.invalid")
    body = {
        "status": 400,
        "o:errorDetails": [
            {
                "detail": "This record already exists.",
                "o:errorCode": "USER_ERROR",
                "o:errorPath": "externalId",
            }
        ],
    }
    error = client.classify(httpx.Response(400, json=body), None)
    assert isinstance(error, Duplicate) and error.code == "USER_ERROR"
