"""Procore payloads and error bodies from the documented examples (fixtures/procore)."""

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
from connectors.procore import schemas
from connectors.procore.errors import classify, classify_oauth, parse_error

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "procore"


def load(name: str) -> dict:
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    data.pop("_source", None)
    return data


def test_project_ids_are_strings_and_times_aware_utc():
    project = schemas.Project.parse(load("project__documented"))
    assert project.id == "123456" and project.company_id == "1234"
    assert project.updated_at == datetime(2017, 10, 23, 21, 19, 34, tzinfo=UTC)
    assert project.origin_id is None and project.active is True
    assert project.raw["city"] == "Anytown"


def test_company_and_vendor_and_cost_code():
    company = schemas.Company.parse(load("company__recorded"))
    assert company.id == "8089" and company.is_active
    vendor = schemas.Vendor.parse(load("vendor__erp_create_vendor"))
    assert (
        vendor.id == "35" and vendor.origin_code == "origin_code" and vendor.synced_to_erp is False
    )
    code = schemas.CostCode.parse(load("cost_code__recorded"))
    assert code.id == "971232362" and code.full_code == "00" and code.parent_id is None
    assert code.biller_id == "2783683" and code.standard_cost_code_id == "11793951"


def test_commitment_money_is_decimal_and_offsets_become_utc():
    woc = schemas.Commitment.parse(load("work_order_contract__erp_create_commitment"))
    assert woc.kind == "work_order_contract"
    assert woc.grand_total == Decimal("250.0") and isinstance(woc.grand_total, Decimal)
    assert woc.project_id == "86" and woc.vendor_id == "47"
    # "2020-10-19T12:17:31-07:00" is 19:17:31 UTC
    assert woc.created_at == datetime(2020, 10, 19, 19, 17, 31, tzinfo=UTC)
    (line,) = woc.lines
    assert line.id == "177" and line.amount == Decimal("250.0")
    assert line.cost_code_id == "1472" and line.line_item_type_id == "47"


def test_requisition_keeps_retainage_from_g702():
    req = schemas.Requisition.parse(load("requisition__tutorial_create"))
    assert req.id == "1280646" and req.commitment_id == "786001" and req.invoice_number == "123"
    assert req.percent_complete == Decimal("96.36")
    assert req.g702.total_retainage == Decimal("5300.00") == req.total_retainage
    assert req.g702.completed_work_retainage_percent == Decimal("10.00")
    assert req.g702.stored_materials_retainage_amount == Decimal("100.00")
    assert req.period_start == date(2016, 11, 1) and req.billing_date == date(2017, 11, 1)


def test_contract_payment():
    pay = schemas.ContractPayment.parse(load("contract_payment__erp_example"))
    assert pay.amount == Decimal("1.0") and pay.date == date(2023, 5, 2)
    assert pay.contract_id == "6" and pay.requisition_id == "7"


def test_money_from_json_numbers_never_goes_through_float_rounding():
    assert schemas.money(1234.56) == Decimal("1234.56")
    assert schemas.money("$1,087.80") == Decimal("1087.80")
    assert schemas.money(None) is None


def response(status: int, body, headers=None, text: str | None = None) -> httpx.Response:
    if text is not None:
        return httpx.Response(status, text=text, headers=headers or {})
    return httpx.Response(status, json=body, headers=headers or {})


def test_401_is_auth_error_with_the_bearer_error_code():
    resp = response(
        401,
        {"errors": "The access token is invalid"},
        {"WWW-Authenticate": 'Bearer realm="Procore", error="invalid_token"'},
    )
    err = classify(resp)
    assert isinstance(err, AuthError) and err.code == "invalid_token"
    assert err.message == "The access token is invalid"
    assert isinstance(classify(response(401, load("error__401_ruby_stub"))), AuthError)


def test_403_404_and_duplicate_origin_id():
    assert isinstance(
        classify(response(403, {"errors": "App is not connected to this company"})),
        PermissionDenied,
    )
    assert isinstance(classify(response(404, {"errors": "Not Found"})), NotFound)
    dup = classify(response(422, load("error__422_duplicate_origin_id")))
    assert isinstance(dup, Duplicate) and dup.code == "duplicate_origin_id"
    assert dup.details == [
        {"field": "origin_id", "code": None, "message": "has already been taken"}
    ]
    locked = classify(response(422, load("error__422_locked")))
    assert isinstance(locked, ValidationFailed) and not isinstance(locked, Duplicate)
    assert isinstance(classify(response(409, {"errors": "conflict"})), Duplicate)


def test_v2_error_body_code_and_details():
    code, message, details = parse_error(response(400, load("error__v2_bad_request")))
    assert code == "INVALID_PROPERTY" and message == "Bad Request"
    assert details[0]["message"] == "uploads.0.file_name must be a string"


def test_429_plain_text_uses_retry_after_or_reset():
    text = "You have surpassed the max number of requests for an hour."
    err = classify(response(429, None, {"Retry-After": "7"}, text=text))
    assert isinstance(err, RateLimited) and err.retry_after == 7.0 and err.message == text
    err = classify(
        response(429, None, {"X-Rate-Limit-Reset": "1010"}, text=text), now=lambda: 1000.0
    )
    assert err.retry_after == 10.0


def test_5xx_is_transient_with_retry_after():
    err = classify(response(503, {"errors": "Service Unavailable"}, {"Retry-After": "3"}))
    assert isinstance(err, TransientError) and err.retry_after == 3.0


@pytest.mark.parametrize(
    ("status", "error", "family"),
    [
        (400, "invalid_grant", AuthError),
        (401, "invalid_client", AuthError),
        (400, "invalid_request", ValidationFailed),
        (503, "temporarily_unavailable", TransientError),
    ],
)
def test_oauth_errors(status, error, family):
    err = classify_oauth(response(status, {"error": error, "error_description": "x"}))
    assert isinstance(err, family) and err.code == error


def test_success_is_not_an_error():
    assert classify(response(200, [])) is None


PARSERS = {
    "project": schemas.Project.parse,
    "company": schemas.Company.parse,
    "vendor": schemas.Vendor.parse,
    "cost_code": schemas.CostCode.parse,
    "work_order_contract": schemas.Commitment.parse,
    "requisition": schemas.Requisition.parse,
    "contract_payment": schemas.ContractPayment.parse,
}


@pytest.mark.parametrize(
    "path",
    sorted(p for p in FIXTURES.glob("*__*.json") if p.name.split("__")[0] in PARSERS),
    ids=lambda p: p.stem,
)
def test_every_recorded_resource_fixture_parses(path):
    """Ours and the sandbox engineer's fixtures: ids str, money Decimal, times aware."""
    data = json.loads(path.read_text())
    data.pop("_source", None)
    parsed = PARSERS[path.name.split("__")[0]](data)
    assert isinstance(parsed.id, str) and parsed.raw is data
    for value in vars(parsed).values():
        assert not isinstance(value, float)
        if isinstance(value, datetime):
            assert value.tzinfo is not None
