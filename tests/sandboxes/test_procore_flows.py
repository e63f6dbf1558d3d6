"""Procore sandbox: commitments, change orders, requisitions, payments, webhooks, control
actions, persistence and the seed loader."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import httpx
import pytest

from sandboxes.core import client_for
from sandboxes.dataset.model import (
    ChangeOrder,
    Commitment,
    Company,
    CostCode,
    CostType,
    Customer,
    DirectCost,
    Line,
    PaymentApplication,
    PrimeContract,
    Project,
    Requisition,
    RequisitionLine,
    Subsidiary,
    Vendor,
)
from sandboxes.procore import ProcoreSandbox
from sandboxes.procore.seed import load

CID = 4200
HOOK_URL = "https://erpbridge.example/webhooks/procore"


@pytest.fixture()
def sb() -> ProcoreSandbox:
    box = ProcoreSandbox(seed=3)
    box.add_company("Summit Builders", CID)
    return box


def api(sb: ProcoreSandbox) -> httpx.Client:
    return client_for(
        sb,
        headers={
            "Authorization": f"Bearer {sb.issue_token_for_tests()}",
            "Procore-Company-Id": str(CID),
        },
    )


def setup_commitment(sb: ProcoreSandbox) -> tuple[dict, dict, dict]:
    p = sb.create_project(CID, {"name": "Tower A"})
    cc = sb.create_cost_code(p, {"code": "03", "name": "Concrete"})
    lit = sb.create_line_item_type(CID, {"name": "Subcontract", "code": "S"})
    vendor = sb.create_vendor(CID, {"name": "Star Framing"})
    woc = sb.create_commitment(
        p,
        "work_order_contracts",
        {"title": "Framing", "vendor_id": vendor["id"], "retainage_percent": 10},
    )
    for amount in ("1000", "500"):
        sb.create_line(
            woc,
            {
                "description": "SOV",
                "amount": amount,
                "cost_code_id": cc["id"],
                "line_item_type_id": lit["id"],
            },
        )
    sb.update_commitment(woc, {"status": "Approved"})
    return p, woc, vendor


def add_hook(sb: ProcoreSandbox, *triggers: tuple[str, str], version: str = "v2") -> dict:
    c = api(sb)
    hook = c.post(
        "/rest/v1.0/webhooks/hooks",
        json={
            "company_id": CID,
            "hook": {
                "api_version": version,
                "namespace": "erpbridge",
                "destination_url": HOOK_URL,
                "destination_headers": {"Authorization": "Bearer hook-secret"},
            },
        },
    )
    assert hook.status_code == 201, hook.text
    hook_id = hook.json()["id"]
    for resource, event in triggers:
        r = c.post(
            f"/rest/v1.0/webhooks/hooks/{hook_id}/triggers",
            json={
                "company_id": CID,
                "api_version": "v2",
                "trigger": {"resource_name": resource, "event_type": event},
            },
        )
        assert r.status_code == 201, r.text
    return hook.json()


def collect(sb: ProcoreSandbox) -> list[tuple[dict, dict]]:
    got: list[tuple[dict, dict]] = []

    def sender(url: str, headers: dict, body: bytes) -> int:
        assert url == HOOK_URL
        got.append((headers, json.loads(body)))
        return 200

    sb.deliver(sender)
    return got


# -- financial objects -------------------------------------------------------------------------


def test_commitment_shape_and_totals(sb):
    p, woc, vendor = setup_commitment(sb)
    body = (
        api(sb)
        .get(f"/rest/v1.0/work_order_contracts/{woc['id']}", params={"project_id": p["id"]})
        .json()
    )
    assert body["type"] == "WorkOrderContract" and body["status"] == "Approved"
    assert body["grand_total"] == "1500.00" and body["retainage_percent"] == "10.00"
    assert body["vendor"]["id"] == vendor["id"] and body["vendor"]["company"] == "Star Framing"
    assert body["project"]["id"] == p["id"]
    line = body["line_items"][0]
    assert line["cost_code"]["full_code"] == "03" and line["line_item_type"]["code"] == "S"
    assert line["wbs_code"]["flat_code"] == "03.S"
    assert line["holder"] == {"id": woc["id"], "holder_type": "WorkOrderContract"}
    # a WOC is not a POC
    assert api(sb).get(f"/rest/v1.0/purchase_order_contracts/{woc['id']}").status_code == 404
    assert api(sb).get(f"/rest/v1.0/commitments/{woc['id']}").status_code == 200


def test_approved_commitment_sov_is_locked_for_the_api(sb):
    p, woc, _ = setup_commitment(sb)
    r = api(sb).post(
        f"/rest/v1.0/work_order_contracts/{woc['id']}/line_items",
        json={"project_id": p["id"], "line_item": {"amount": "1"}},
    )
    assert r.status_code == 422
    r = api(sb).delete(
        f"/rest/v1.0/work_order_contracts/{woc['id']}", params={"project_id": p["id"]}
    )
    assert r.status_code == 422


def test_unknown_cost_code_is_422(sb):
    p = sb.create_project(CID, {"name": "P"})
    poc = sb.create_commitment(p, "purchase_order_contracts", {"title": "Rebar"})
    r = api(sb).post(
        f"/rest/v1.0/purchase_order_contracts/{poc['id']}/line_items",
        json={"project_id": p["id"], "line_item": {"amount": 5, "cost_code_id": 999}},
    )
    assert r.status_code == 422 and r.json() == {"errors": {"cost_code_id": ["does not exist"]}}


def test_change_order_approval_moves_commitment_totals(sb):
    p, woc, _ = setup_commitment(sb)
    c = api(sb)
    url = f"/rest/v1.0/projects/{p['id']}/commitment_change_orders"
    r = c.post(
        url,
        json={
            "commitment_change_order": {
                "contract_id": woc["id"],
                "title": "Extra blocking",
                "status": "pending",
                "line_items": [{"amount": "200", "description": "blocking"}],
            }
        },
    )
    assert r.status_code == 201 and r.json()["grand_total"] == "200.00"
    cco = r.json()
    assert sb.store.get("commitments", woc["id"])["pending_change_orders"] == Decimal("200")
    r = c.patch(f"{url}/{cco['id']}", json={"commitment_change_order": {"status": "approved"}})
    assert r.status_code == 200 and r.json()["reviewed_at"]
    show = c.get(f"/rest/v1.0/work_order_contracts/{woc['id']}").json()
    assert show["approved_change_orders"] == "200.00" and show["revised_contract"] == "1700.00"
    listed = c.get(url, params={"filters[contract_id]": woc["id"]})
    assert [x["id"] for x in listed.json()] == [cco["id"]] and "total" not in listed.headers
    r = c.patch(f"{url}/{cco['id']}", json={"commitment_change_order": {"title": "x"}})
    assert r.status_code == 422


def test_requisition_retainage_and_g702(sb):
    p, woc, _ = setup_commitment(sb)
    c = api(sb)
    r = c.post(
        "/rest/v1.0/requisitions",
        json={
            "project_id": p["id"],
            "commitment_id": woc["id"],
            "requisition": {"invoice_number": 123, "status": "draft"},
        },
    )
    assert r.status_code == 201, r.text
    req = r.json()
    assert req["invoice_number"] == "123" and req["number"] == 1
    items = c.get(
        f"/rest/v1.0/requisitions/{req['id']}/contract_items", params={"project_id": p["id"]}
    ).json()
    assert [i["scheduled_value"] for i in items] == ["1000.00", "500.00"]
    r = c.patch(
        f"/rest/v1.0/requisitions/{req['id']}/contract_items/{items[0]['id']}",
        json={"requisition_contract_item": {"work_completed_this_period": "400"}},
    )
    assert r.status_code == 200
    assert r.json()["work_completed_retainage_retained_this_period"] == "40.00"
    g702 = c.get(f"/rest/v1.0/requisitions/{req['id']}").json()["g702"]
    assert g702["total_completed_and_stored_to_date"] == "400.00"
    assert g702["total_retainage"] == "40.00" and g702["current_payment_due"] == "360.00"
    second = sb.person_create_requisition(woc["id"], [Decimal("100"), Decimal("0")])
    assert second["g702"]["less_previous_certificates_for_payment"] == Decimal("360.00")
    assert second["_items"][0]["work_completed_from_previous_application"] == Decimal("400")
    assert second["g702"]["current_payment_due"] == Decimal("90.00")


def test_contract_payment_marks_paid_and_updates_commitment(sb):
    p, woc, _ = setup_commitment(sb)
    req = sb.person_create_requisition(woc["id"], [Decimal("1000"), Decimal("0")])
    c = api(sb)
    r = c.post(
        "/rest/v1.0/contract_payments",
        json={
            "project_id": p["id"],
            "contract_id": woc["id"],
            "payment": {
                "amount": "900",
                "date": "2024-05-02",
                "requisition_id": req["id"],
                "check_number": "1042",
                "origin_id": "NS-PAY-1",
            },
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "paid" and r.json()["origin_id"] == "NS-PAY-1"
    listed = c.get(
        "/rest/v1.0/contract_payments", params={"project_id": p["id"], "contract_id": woc["id"]}
    )
    assert listed.headers["total"] == "1"
    show = c.get(f"/rest/v1.0/work_order_contracts/{woc['id']}").json()
    assert show["total_payments"] == "900.00" and show["remaining_balance_outstanding"] == "600.00"
    # locked by origin_id
    r = c.patch(f"/rest/v1.0/contract_payments/{r.json()['id']}", json={"payment": {"amount": "1"}})
    assert r.status_code == 422
    # the ERP round trip may still set erp_status / payment_date on a synced invoice
    sb.update_requisition(req, {"origin_id": "NS-BILL-1"})
    r = c.patch(
        f"/rest/v1.0/requisitions/{req['id']}",
        json={"requisition": {"payment_date": "2024-05-02", "erp_status": "paid"}},
    )
    assert r.status_code == 200 and r.json()["payment_date"] == "2024-05-02"
    r = c.patch(f"/rest/v1.0/requisitions/{req['id']}", json={"requisition": {"status": "draft"}})
    assert r.status_code == 422


def test_prime_contract_and_payment_applications(sb):
    p = sb.create_project(CID, {"name": "P"})
    c = api(sb)
    r = c.post(
        "/rest/v1.0/prime_contract",
        json={
            "project_id": p["id"],
            "prime_contract": {"number": "PC-1", "title": "Owner contract", "retainage_percent": 5},
        },
    )
    assert r.status_code == 201
    prime = r.json()
    c.post(
        f"/rest/v1.0/prime_contracts/{prime['id']}/line_items",
        json={"project_id": p["id"], "line_item": {"amount": "10000", "description": "GC"}},
    )
    r = c.post(
        f"/rest/v1.0/prime_contracts/{prime['id']}/payment_applications",
        json={
            "project_id": p["id"],
            "payment_application": {"invoice_number": "OI-1", "work_completed_this_period": "2000"},
        },
    )
    assert r.status_code == 201
    g702 = r.json()["g702"]
    assert g702["total_retainage"] == "100.00" and g702["current_payment_due"] == "1900.00"
    listed = c.get("/rest/v1.0/payment_applications", params={"project_id": p["id"]}).json()
    assert [x["invoice_number"] for x in listed] == ["OI-1"]


def test_direct_costs_with_line_items_and_sync(sb):
    p = sb.create_project(CID, {"name": "P"})
    vendor = sb.create_vendor(CID, {"name": "Lumber Co"})
    c = api(sb)
    base = f"/rest/v1.1/projects/{p['id']}/direct_costs"
    r = c.post(
        base,
        json={
            "direct_cost": {
                "direct_cost_type": "invoice",
                "vendor_id": vendor["id"],
                "invoice_number": "L-77",
            },
            "line_items": [{"amount": "120.50", "description": "studs"}],
        },
    )
    assert r.status_code == 201, r.text
    dc = r.json()
    assert dc["grand_total"] == "120.50" and dc["vendor"]["name"] == "Lumber Co"
    lines = c.get(f"/rest/v1.0/projects/{p['id']}/direct_costs/line_items").json()
    assert [x["amount"] for x in lines] == ["120.50"]
    r = c.patch(
        f"/rest/v1.0/projects/{p['id']}/direct_costs/sync",
        json={"updates": [{"id": dc["id"], "origin_id": "QB-BILL-5"}]},
    )
    assert r.json()["entities"][0]["origin_id"] == "QB-BILL-5"


def test_external_data_sync_sets_origin_ids(sb):
    p, woc, _ = setup_commitment(sb)
    line = sb.scoped("commitment_line_items", woc["id"])[0]
    r = api(sb).patch(
        f"/rest/v1.0/companies/{CID}/external_data/sync",
        json=[
            {"item_type": "work_order_contract", "item_id": woc["id"], "origin_id": "PO-9"},
            {"item_type": "line_item", "item_id": line["id"], "origin_id": "PO-9-1"},
            {"item_type": "vendor", "item_id": 1, "origin_id": "x"},
        ],
    )
    body = r.json()
    assert r.status_code == 200 and len(body["entities"]) == 2 and len(body["errors"]) == 1
    assert sb.store.get("commitments", woc["id"])["origin_id"] == "PO-9"


# -- webhooks ----------------------------------------------------------------------------------


def test_api_write_delivers_v2_payload_with_authorization_and_source_app(sb):
    p, woc, _ = setup_commitment(sb)
    add_hook(sb, ("Work Order Contracts", "update"))
    api(sb).patch(
        f"/rest/v1.0/work_order_contracts/{woc['id']}",
        json={"project_id": p["id"], "work_order_contract": {"origin_id": "PO-1"}},
    )
    got = collect(sb)
    assert len(got) == 1
    headers, body = got[0]
    assert headers["Authorization"] == "Bearer hook-secret"
    assert body["api_version"] == "v2.0" and body["event_type"] == "update"
    assert body["resource_name"] == "Work Order Contracts" and body["resource_id"] == woc["id"]
    assert body["company_id"] == CID and body["project_id"] == p["id"]
    app_id = sb.store.get("_oauth_apps", "erpbridge-demo-procore")["id"]
    assert body["metadata"]["source_application_id"] == app_id
    assert len(body["ulid"]) == 26 and body["timestamp"].endswith("Z")


def test_person_actions_fire_webhooks_without_source_application(sb):
    p, woc, _ = setup_commitment(sb)
    add_hook(
        sb,
        ("Work Order Contracts", "update"),
        ("Work Order Contracts", "delete"),
        ("Commitment Change Orders", "update"),
        ("Requisitions", "create"),
        ("Requisitions", "update"),
        ("Company Vendors", "create"),
    )
    before = woc["updated_at"]
    sb.clock.advance(5)
    line = sb.scoped("commitment_line_items", woc["id"])[0]
    sb.person_edit_commitment(woc["id"], line_id=line["id"], amount="1100")
    assert woc["grand_total"] == Decimal("1600.00") and woc["updated_at"] > before
    cco = sb.person_create_change_order(woc["id"], [{"amount": "50"}])
    sb.person_approve_change_order(cco["id"])
    req = sb.person_create_requisition(woc["id"], [Decimal("100"), Decimal("0")])
    sb.person_approve_requisition(req["id"])
    vendor = sb.person_create_vendor(CID, "Walk-in Vendor")
    sb.person_delete_commitment(woc["id"])
    events = [b for _, b in collect(sb)]
    kinds = {(e["resource_name"], e["event_type"]) for e in events}
    assert ("Commitment Change Orders", "update") in kinds
    assert ("Requisitions", "create") in kinds and ("Company Vendors", "create") in kinds
    assert ("Work Order Contracts", "delete") in kinds
    assert all(e["metadata"]["source_application_id"] is None for e in events)
    vendor_event = next(e for e in events if e["resource_name"] == "Company Vendors")
    assert "project_id" not in vendor_event and vendor_event["resource_id"] == vendor["id"]
    assert sb.store.get("requisitions", req["id"])["status"] == "approved"


def test_control_routes_act_as_a_person(sb):
    p, woc, _ = setup_commitment(sb)
    ctl = client_for(sb)
    r = ctl.post(f"/_sandbox/procore/commitments/{woc['id']}/edit", json={"status": "Complete"})
    assert r.status_code == 200 and r.json()["status"] == "Complete"
    r = ctl.post(
        f"/_sandbox/procore/commitments/{woc['id']}/change_orders",
        json={"line_items": [{"amount": 10}]},
    )
    cco = r.json()
    assert (
        ctl.post(f"/_sandbox/procore/change_orders/{cco['id']}/approve").json()["status"]
        == "approved"
    )
    r = ctl.post(f"/_sandbox/procore/commitments/{woc['id']}/requisitions", json={"amounts": {}})
    assert r.status_code == 201
    r = ctl.post(f"/_sandbox/procore/companies/{CID}/vendors", json={"name": "New Sub"})
    assert r.status_code == 201 and r.json()["name"] == "New Sub"
    assert ctl.post("/_sandbox/procore/change_orders/1/approve").status_code == 404


def test_v4_payload_and_project_hooks(sb):
    p = sb.create_project(CID, {"name": "P"})
    add_hook(sb, ("Direct Costs", "create"), version="v4.0")
    sb.create_direct_cost(p, {"invoice_number": "Z"})
    ((headers, body),) = collect(sb)
    assert body["reason"] == "create" and body["resource_type"] == "Direct Costs"
    assert body["company_id"] == str(CID) and body["project_id"] == str(p["id"])
    assert isinstance(body["resource_id"], str) and len(body["id"]) == 26


def test_deliveries_are_at_least_once_and_listed(sb):
    add_hook(sb, ("Company Vendors", "create"))
    sb.create_vendor(CID, {"name": "A"})
    hook_id = sb.scoped("webhook_hooks", CID)[0]["id"]
    assert sb.deliver(lambda u, h, b: 500) == []  # failed: stays queued
    c = api(sb)
    listed = c.get(
        f"/rest/v1.0/webhooks/hooks/{hook_id}/deliveries", params={"company_id": CID}
    ).json()
    assert listed[0]["outcome"] in ("retried", "failed") and listed[0]["response_status"] == 500
    got = collect(sb)
    assert len(got) == 1
    listed = c.get(
        f"/rest/v1.0/webhooks/hooks/{hook_id}/deliveries",
        params={"company_id": CID, "filter[status]": "successful"},
    ).json()
    assert [d["outcome"] for d in listed] == ["ok"]
    sb.faults.update({"webhook_duplicate_rate": 1.0})
    sb.create_vendor(CID, {"name": "B"})
    dup = collect(sb)
    assert len(dup) == 2 and dup[0][1]["id"] == dup[1][1]["id"]


def test_hook_validation_and_listing(sb):
    c = api(sb)
    r = c.post(
        "/rest/v1.0/webhooks/hooks",
        json={"company_id": CID, "hook": {"namespace": "Bad Space", "destination_url": HOOK_URL}},
    )
    assert r.status_code == 422
    r = c.post(
        "/rest/v1.0/webhooks/hooks",
        json={
            "company_id": CID,
            "hook": {"namespace": "x", "destination_url": "http://public.example/hook"},
        },
    )
    assert r.status_code == 422
    hook = add_hook(sb)
    r = c.post(
        f"/rest/v1.0/webhooks/hooks/{hook['id']}/triggers",
        json={"company_id": CID, "trigger": {"resource_name": "Nope", "event_type": "create"}},
    )
    assert r.status_code == 422
    listed = c.get("/rest/v1.0/webhooks/hooks", params={"company_id": CID, "namespace": "*"})
    assert [h["id"] for h in listed.json()] == [hook["id"]]
    assert (
        c.delete(f"/rest/v1.0/webhooks/hooks/{hook['id']}", params={"company_id": CID}).status_code
        == 204
    )


def test_api_without_matching_trigger_sends_nothing(sb):
    add_hook(sb, ("Projects", "delete"))
    sb.create_project(CID, {"name": "P"})
    assert collect(sb) == []


# -- persistence -------------------------------------------------------------------------------


def test_save_and_load_keeps_records_tokens_hooks_and_indexes(sb, tmp_path):
    p, woc, _ = setup_commitment(sb)
    add_hook(sb, ("Work Order Contracts", "update"))
    token = sb.issue_token_for_tests()
    sb.update_commitment(woc, {"origin_id": "PO-77"})
    sb.clock.advance(100)
    path = tmp_path / "procore.json"
    sb.save(str(path))
    other = ProcoreSandbox()
    other.load(str(path))
    assert other.clock.offset == sb.clock.offset
    c = client_for(
        other, headers={"Authorization": f"Bearer {token}", "Procore-Company-Id": str(CID)}
    )
    r = c.get(
        "/rest/v1.0/work_order_contracts",
        params={"project_id": p["id"], "filters[origin_id]": "PO-77"},
    )
    assert r.status_code == 200 and [x["id"] for x in r.json()] == [woc["id"]]
    assert r.json()[0]["grand_total"] == "1500.00"
    dup = other.create_commitment(
        other.store.get("projects", p["id"]), "work_order_contracts", {"title": "x"}
    )
    with pytest.raises(Exception, match="origin_id"):
        other.update_commitment(dup, {"origin_id": "PO-77"})
    other.update_commitment(other.store.get("commitments", woc["id"]), {"title": "t"})
    assert len(other.outbox.pending) == 1


def test_reset_forgets_records_but_keeps_demo_app(sb):
    sb.create_project(CID, {"name": "P"})
    client_for(sb).post("/_sandbox/reset")
    assert sb.store.count("projects") == 0
    assert sb.store.get("_oauth_apps", "erpbridge-demo-procore") is not None


# -- seed loader -------------------------------------------------------------------------------


def tiny_company() -> Company:
    lines = [
        Line("03-300", "S", "Footings", Decimal("8000")),
        Line("06-100", "S", "Framing", Decimal("12000")),
    ]
    return Company(
        seed=1,
        size="tiny",
        name="Summit Builders",
        procore_company_id="777",
        subsidiaries=[Subsidiary("us", "Summit US", "US", "USD")],
        cost_codes=[
            CostCode("03-300", "Cast-in-Place Concrete", "03", "Concrete"),
            CostCode("06-100", "Rough Carpentry", "06", "Wood"),
        ],
        cost_types=[CostType("S", "Subcontract"), CostType("L", "Labor")],
        accounts=[],
        vendors=[
            Vendor(
                "v1",
                "Star Framing",
                "Star Framing, LLC",
                "Framing",
                "a@b.c",
                "1",
                "12-3",
                "1 Main",
                "Austin",
                "TX",
                "78701",
                "US",
            ),
            Vendor(
                "v2",
                "ERP Only Co",
                "ERP Only Co",
                "Misc",
                "e@f.g",
                "2",
                "9",
                "x",
                "y",
                "TX",
                "1",
                "US",
                in_procore=False,
            ),
        ],
        customers=[Customer("c1", "Owner LLC", "o@x.y", "us")],
        projects=[
            Project(
                "p1",
                "24-101",
                "Tower A",
                "netsuite",
                "us",
                "USD",
                "c1",
                "Active",
                date(2024, 1, 1),
                "1 Main",
                "Austin",
                "TX",
                "78701",
                "US",
                "Pat",
                ["03-300", "06-100"],
            )
        ],
        commitments=[
            Commitment(
                "k1",
                "p1",
                "v1",
                "subcontract",
                "SC-1",
                "Framing sub",
                "Approved",
                True,
                Decimal("10"),
                date(2024, 1, 5),
                lines,
            ),
            Commitment(
                "k2",
                "p1",
                "v1",
                "purchase_order",
                "PO-1",
                "Lumber",
                "Void",
                False,
                Decimal("0"),
                date(2024, 1, 6),
                lines[:1],
            ),
        ],
        change_orders=[
            ChangeOrder(
                "co1",
                "k1",
                "001",
                "Extra",
                "approved",
                date(2024, 2, 1),
                [Line("06-100", "S", "More", Decimal("1000"))],
            )
        ],
        requisitions=[
            Requisition(
                "r1",
                "k1",
                1,
                "INV-1",
                date(2024, 2, 1),
                date(2024, 2, 29),
                "paid",
                [RequisitionLine(0, Decimal("4000"), Decimal("0"), Decimal("10"))],
                paid_on=date(2024, 3, 15),
            )
        ],
        prime_contracts=[
            PrimeContract(
                "pc1",
                "p1",
                "PC-1",
                "Owner",
                "c1",
                Decimal("5"),
                [Line("03-300", "S", "All", Decimal("50000"))],
            )
        ],
        payment_applications=[
            PaymentApplication(
                "pa1",
                "pc1",
                1,
                "OI-1",
                date(2024, 2, 1),
                date(2024, 2, 29),
                "approved",
                Decimal("10000"),
                Decimal("500"),
            )
        ],
        direct_costs=[
            DirectCost(
                "d1",
                "p1",
                "v1",
                "Invoice",
                "DC-1",
                date(2024, 2, 2),
                "approved",
                [Line("03-300", "L", "Crew", Decimal("300"))],
            )
        ],
    )


def test_seed_loader_writes_procore_records_and_returns_ids():
    sb = ProcoreSandbox()
    ids = load(sb, tiny_company())
    assert ids["company"] == "777" and "vendor:v2" not in ids
    woc = sb.store.get("commitments", ids["commitment:k1"])
    assert woc["type"] == "WorkOrderContract" and woc["status"] == "Approved"
    assert woc["grand_total"] == Decimal("20000.00")
    assert woc["approved_change_orders"] == Decimal("1000.00")
    poc = sb.store.get("commitments", ids["commitment:k2"])
    assert poc["type"] == "PurchaseOrderContract" and poc["status"] == "Closed"
    req = sb.store.get("requisitions", ids["requisition:r1"])
    assert req["status"] == "approved" and req["payment_date"] == "2024-03-15"
    assert req["g702"]["total_retainage"] == Decimal("400.00")
    cc = sb.store.get("cost_codes", ids["cost_code:p1:03-300"])
    assert cc["full_code"] == "03-300"
    pa = sb.store.get("payment_applications", ids["payment_application:pa1"])
    assert pa["g702"]["total_retainage"] == Decimal("500.00")
    dc = sb.store.get("direct_costs", ids["direct_cost:d1"])
    assert dc["grand_total"] == Decimal("300.00") and dc["vendor"]["name"] == "Star Framing"
    c = client_for(
        sb,
        headers={
            "Authorization": f"Bearer {sb.issue_token_for_tests()}",
            "Procore-Company-Id": "777",
        },
    )
    r = c.get("/rest/v1.0/work_order_contracts", params={"project_id": ids["project:p1"]})
    assert [x["number"] for x in r.json()] == ["SC-1"]
