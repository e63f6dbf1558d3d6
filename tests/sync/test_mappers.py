"""Mappers are pure: typed Procore payloads + a fake lookup → ERP bodies (no DB, no network)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.procore.schemas import Commitment, CommitmentChangeOrder, Project
from sync.fingerprint import canonical, fingerprint
from sync.lookups import CostTarget, MappingMissing, ProjectTarget, VendorTarget
from sync.mappers import netsuite as ns
from sync.mappers import quickbooks as qbo
from tests.sync.engine_support import FakeLookup

TARGET = ProjectTarget("C1", "J1", "S2", "CUR2", None, None, "L2")


def lookup() -> FakeLookup:
    return FakeLookup(
        projects={"10": TARGET},
        costs={"03-300": CostTarget("I1", None, "K1"), "09-900": CostTarget(None, "A9", None)},
        vendors={"7": VendorTarget("V1", ("S2",))},
        accounts={"accounts_payable": "AP1"},
    )


def line(code: str, amount: str, lid: str = "1") -> dict:
    return {
        "id": lid,
        "amount": amount,
        "description": f"work {code}",
        "cost_code": {"id": 5, "full_code": code},
        "line_item_type": {"id": 6, "code": "S"},
    }


def commitment(*lines: dict) -> Commitment:
    raw = {
        "id": 562949953421999,
        "number": "SC-1042",
        "title": "Concrete",
        "status": "Approved",
        "project": {"id": 10},
        "vendor": {"id": 7},
        "contract_date": "2025-06-01",
    }
    return Commitment.parse(raw, "work_order_contract", list(lines))


def test_netsuite_purchase_order_has_items_expenses_subsidiary_and_currency():
    c = commitment(line("03-300", "1000.10"), line("09-900", "250", "2"))
    body = ns.purchase_order(c, lookup(), target=TARGET, job_id="J1", vendor_id="V1")
    assert body["entity"] == {"id": "V1"} and body["subsidiary"] == {"id": "S2"}
    assert body["currency"] == {"id": "CUR2"} and body["tranId"] == "SC-1042"
    [item] = body["item"]["items"]
    assert item["item"] == {"id": "I1"} and item["amount"] == Decimal("1000.10")
    assert item["customer"] == {"id": "J1"} and item["class"] == {"id": "K1"}
    [expense] = body["expense"]["items"]
    assert expense["account"] == {"id": "A9"} and expense["amount"] == Decimal("250.00")
    assert isinstance(expense["amount"], Decimal)


def test_quickbooks_purchase_order_lines_and_ap_account():
    c = commitment(line("03-300", "1000.10"), line("09-900", "250", "2"))
    body = qbo.purchase_order(c, lookup(), target=TARGET, job_id="J1", vendor_id="V1")
    assert body["VendorRef"] == {"value": "V1"} and body["APAccountRef"] == {"value": "AP1"}
    first, second = body["Line"]
    assert first["DetailType"] == "ItemBasedExpenseLineDetail"
    assert first["ItemBasedExpenseLineDetail"]["ItemRef"] == {"value": "I1"}
    assert second["AccountBasedExpenseLineDetail"]["AccountRef"] == {"value": "A9"}
    assert first["Amount"] == Decimal("1000.10")


@pytest.mark.parametrize("mapper", [ns, qbo])
def test_an_unmapped_cost_code_raises_mapping_missing(mapper):
    c = commitment(line("99-999", "1"))
    with pytest.raises(MappingMissing) as err:
        mapper.purchase_order(c, lookup(), target=TARGET, job_id="J1", vendor_id="V1")
    assert err.value.reason_code == "UNMAPPED_COST_CODE"
    assert err.value.key["cost_code"] == "99-999"


def test_change_order_lines_resolve_codes_from_ids():
    cco = CommitmentChangeOrder.parse(
        {
            "id": 3,
            "line_items": [{"id": 1, "amount": "300", "cost_code_id": 5, "line_item_type_id": 6}],
        }
    )
    body = ns.change_order_lines(
        cco,
        lookup(),
        target=TARGET,
        job_id="J1",
        project_id="10",
        codes={"cc:5": "03-300", "lit:6": "S"},
    )
    assert body["item"]["items"][0]["amount"] == Decimal("300.00")


@pytest.mark.parametrize("mapper, key", [(ns, "amount"), (qbo, "Amount")])
def test_revision_carries_only_the_line_differences(mapper, key):
    before = mapper.purchase_order(
        commitment(line("03-300", "1000"), line("09-900", "500", "2")),
        lookup(),
        target=TARGET,
        job_id="J1",
        vendor_id="V1",
    )
    after = mapper.purchase_order(
        commitment(line("03-300", "1250"), line("09-900", "500", "2")),
        lookup(),
        target=TARGET,
        job_id="J1",
        vendor_id="V1",
    )
    delta = mapper.delta_lines(canonical(before), after)
    body = mapper.revision(after, delta, number="SC-1042-R1", memo="Revision 1 of SC-1042")
    rows = body["item"]["items"] if mapper is ns else body["Line"]
    assert [r[key] for r in rows] == [Decimal("250.00")]


def test_project_job_and_vendor_bodies():
    project = Project.parse({"id": 10, "name": "Tower: A", "project_number": "24-101"})
    assert ns.job(project, TARGET)["parent"] == {"id": "C1"}
    assert qbo.job(project, TARGET)["DisplayName"] == "24-101 Tower - A"  # no ':' in QBO


def test_fingerprint_is_exact_for_money_and_stable_for_key_order():
    a = {"x": Decimal("1.10"), "y": [1, {"b": 2, "a": 1}]}
    b = {"y": [1, {"a": 1, "b": 2}], "x": Decimal("1.10")}
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint({"x": Decimal("1.10")}) != fingerprint({"x": Decimal("1.1")})
