"""Commitments → purchase orders against both ERP sandboxes: the clean path, idempotency,
commit-then-drop, hand edits, revisions, deletions and the reason codes of this flow."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError

from sync.context import origin_id_for
from sync.lookups import VendorTarget
from sync.models import (
    Binding,
    Change,
    ChangeState,
    ExceptionItem,
    ItemStatus,
    Operation,
)
from sync.services.exceptions import change_approve
from sync.services.runs import change_send
from tests.sync.engine_support import WORLDS

pytestmark = pytest.mark.django_db
KINDS = ["netsuite", "quickbooks"]


@pytest.fixture(params=KINDS)
def world(request):
    return WORLDS[request.param]()


def number_of(world, po) -> str:
    return po.get("tranId") if world.kind == "netsuite" else po.get("DocNumber")


def pos_numbered(world, number: str) -> list[dict]:
    return [po for po in world.erp_pos() if number_of(world, po) == number]


def amounts(world, po) -> list[Decimal]:
    if world.kind == "netsuite":
        return [Decimal(str(x["amount"])) for x in (po.get("item") or {}).get("items", [])]
    return [Decimal(str(x["Amount"])) for x in po.get("Line", [])]


def send(world, change):
    return change_send(change_id=change.pk, clients=world.clients, lookup=lambda c: world.lookup)


def first_line_id(world, pid: str) -> int:
    lines = world.procore.scoped("commitment_line_items", int(pid))
    return int(lines[0]["id"])


def held(world, pid, code) -> Change:
    change = Change.objects.get(procore_id=pid, state=ChangeState.HELD)
    assert change.reason_code == code, change.explanation
    item = ExceptionItem.objects.get(change=change)
    assert item.status == ItemStatus.OPEN and item.reason_code == code
    return change


def test_clean_commitment_reaches_the_erp_is_bound_and_written_back(world):
    pid = world.new_commitment("SC-T-100", ("1000.00", "2500.50"))
    run = world.run("commitments", pid)
    assert run.status == "succeeded" and run.synced == 1, run.error
    [po] = pos_numbered(world, "SC-T-100")
    assert sorted(amounts(world, po)) == [Decimal("1000.00"), Decimal("2500.50")]
    binding = Binding.objects.get(object_type="commitment", procore_id=pid)
    assert binding.erp_id == str(po.get("id") or po.get("Id"))
    assert binding.erp_version and binding.written_back_at
    assert world.procore_commitment(pid)["origin_id"] == origin_id_for(
        world.erp_conn, binding.erp_id
    )
    assert Change.objects.get(procore_id=pid).state == ChangeState.SENT
    assert run.api_calls > 0 and run.records.get().outcome == "synced"


def test_syncing_the_company_twice_writes_nothing_the_second_time(world):
    world.new_commitment("SC-T-200")
    first = world.run("commitments")
    assert first.status == "succeeded", first.error
    assert first.synced >= 1 and first.queued >= 1  # the seeded ERP copies are duplicates
    writes, changes = world.writes(), Change.objects.count()
    second = world.run("commitments")
    assert second.status == "succeeded" and second.synced == 0 and second.failed == 0
    assert world.writes() == writes
    assert Change.objects.count() == changes
    assert second.queued == first.queued  # the same items, not new ones
    assert ExceptionItem.objects.count() == first.queued


def test_a_binding_never_points_two_procore_records_at_one_erp_record(world):
    pid = world.new_commitment("SC-T-300")
    world.run("commitments", pid)
    binding = Binding.objects.get(procore_id=pid)
    with pytest.raises(IntegrityError):
        Binding.objects.create(
            connection=binding.connection,
            object_type="commitment",
            procore_id="another",
            erp_type=binding.erp_type,
            erp_id=binding.erp_id,
        )


def test_commit_then_drop_on_create_leaves_exactly_one_erp_record(world):
    pid = world.new_commitment("SC-T-400")
    world.erp.faults.commit_then_drop_next = 1
    run = world.run("commitments", pid)
    assert run.synced == 1, run.error
    assert len(pos_numbered(world, "SC-T-400")) == 1
    assert world.run("commitments", pid).skipped == 1
    assert len(pos_numbered(world, "SC-T-400")) == 1


def test_every_attempt_dropped_leaves_one_record_after_the_lookup_or_the_next_run(world):
    pid = world.new_commitment("SC-T-410")
    world.erp.faults.commit_then_drop_next = 50
    run = world.run("commitments", pid)
    if world.kind == "quickbooks":
        # create_once looks the PO up by DocNumber + vendor (a read, which is not dropped)
        # after the unknown outcome and finds the one the first attempt committed.
        assert run.synced == 1, run.error
        assert len(pos_numbered(world, "SC-T-410")) == 1
        return
    assert run.failed == 1
    change = Change.objects.get(procore_id=pid)
    assert change.state == ChangeState.FAILED and change.reason_code == "RETRIES_EXHAUSTED"
    item = ExceptionItem.objects.get(change=change)
    assert item.status == ItemStatus.DEAD_LETTER and item.details["error"]["exchange"]
    world.erp.faults.commit_then_drop_next = 0
    again = world.run("commitments", pid)
    assert again.synced == 1, again.error
    assert len(pos_numbered(world, "SC-T-410")) == 1
    item.refresh_from_db()
    assert item.status == ItemStatus.AUTO_RESOLVED
    assert item.events.filter(action="auto_resolved").exists()


def test_a_hand_edit_in_the_erp_stops_the_update_with_a_three_way_diff(world):
    pid = world.new_commitment("SC-T-500", ("1000.00", "2000.00"))
    world.run("commitments", pid)
    binding = Binding.objects.get(procore_id=pid)
    if world.kind == "netsuite":
        world.erp.control.edit_purchase_order(binding.erp_id, line=1, amount=Decimal("1111.00"))
    else:
        world.erp.edit_purchase_order(binding.erp_id, {"Memo": "changed by the bookkeeper"})
    world.procore.person_edit_commitment(
        int(pid), line_id=first_line_id(world, pid), amount=Decimal("1500.00")
    )
    writes = world.writes()
    run = world.run("commitments", pid)
    assert run.queued == 1
    change = held(world, pid, "ERP_EDITED")
    assert world.writes() == writes  # nothing overwritten
    item = change.item
    assert set(item.details) >= {"last_synced", "erp_now", "proposed"}
    assert item.details["last_synced"] != item.details["erp_now"]
    assert item.details["proposed"]["lines"][0]["amount"] == "1500.00"
    # The controller decides to overwrite: the write expects the ERP version seen.
    assert change_approve(change=change)
    assert send(world, change) == "synced"
    [po] = pos_numbered(world, "SC-T-500")
    assert Decimal("1500.00") in amounts(world, po)


def test_revision_after_erp_approval_follows_the_connection_strategy(world):
    pid = world.new_commitment("SC-T-600", ("1000.00", "2000.00"))
    world.run("commitments", pid)
    binding = Binding.objects.get(procore_id=pid)
    if world.kind == "netsuite":
        world.erp.control.approve_purchase_order(binding.erp_id)
    world.procore.person_edit_commitment(
        int(pid), line_id=first_line_id(world, pid), amount=Decimal("1250.00")
    )
    run = world.run("commitments", pid)
    assert run.queued == 1, run.error
    change = held(world, pid, "REVISION_AFTER_APPROVAL")
    assert {"last_synced", "erp_now", "proposed"} <= set(change.item.details)
    assert change_approve(change=change)
    assert send(world, change) == "synced"
    if world.kind == "netsuite":  # separate transaction: PO-…-R1 with the difference
        assert change.operation == Operation.REVISE
        [original] = pos_numbered(world, "SC-T-600")
        assert amounts(world, original) == [Decimal("1000.00"), Decimal("2000.00")]
        [revision] = pos_numbered(world, "SC-T-600-R1")
        assert amounts(world, revision) == [Decimal("250.00")]
        assert "Revision 1 of SC-T-600" in revision["memo"]
    else:  # amend in place with the SyncToken
        assert change.operation == Operation.UPDATE
        [po] = pos_numbered(world, "SC-T-600")
        assert amounts(world, po) == [Decimal("1250.00"), Decimal("2000.00")]
        assert Binding.objects.get(procore_id=pid).erp_version == po["SyncToken"]
    writes = world.writes()
    assert world.run("commitments", pid).skipped == 1
    assert world.writes() == writes


def test_unmapped_cost_code_waits_and_is_re_evaluated_when_the_mapping_is_added(world):
    from sync.services.runs import items_reevaluate

    pid = world.new_commitment("SC-T-700")
    line = world.procore.scoped("commitment_line_items", int(pid))[0]
    code = world.procore.store.get("cost_codes", line["_cost_code_id"])["full_code"]
    target = world.lookup.costs.pop(code)
    run = world.run("commitments", pid)
    assert run.queued == 1
    change = held(world, pid, "UNMAPPED_COST_CODE")
    assert code in change.explanation
    item = change.item
    assert item.blocked_table == "cost_code"
    world.lookup.costs[code] = target
    key = {"cost_code": code, "cost_type": "S"}
    [rerun] = items_reevaluate(
        connection_id=world.erp_conn.pk,
        table="cost_code",
        key=key,
        clients=world.clients,
        lookup=lambda c: world.lookup,
    )
    assert rerun.synced == 1 and rerun.trigger == "mapping_added"
    item.refresh_from_db()
    assert item.status == ItemStatus.AUTO_RESOLVED
    assert len(pos_numbered(world, "SC-T-700")) == 1


def test_unknown_vendor_is_held(world):
    pid = world.new_commitment("SC-T-800")
    vendor_pid = str(world.procore_commitment(pid)["_vendor_id"])
    world.lookup.vendors.pop(vendor_pid)
    run = world.run("commitments", pid)
    assert run.queued == 1
    held(world, pid, "UNKNOWN_VENDOR")
    assert pos_numbered(world, "SC-T-800") == []


def test_approval_threshold_holds_large_commitments(world):
    world.set_policies(approval_thresholds={"commitments": "3000"})
    pid = world.new_commitment("SC-T-900", ("1000.00", "2500.00"))
    assert world.run("commitments", pid).queued == 1
    change = held(world, pid, "APPROVAL_THRESHOLD")
    assert change.item.amount == Decimal("3500.00")
    assert change_approve(change=change)
    assert send(world, change) == "synced"
    assert len(pos_numbered(world, "SC-T-900")) == 1


def test_a_deleted_commitment_proposes_the_erp_void(world):
    pid = world.new_commitment("SC-T-950")
    world.run("commitments", pid)
    world.procore.person_delete_commitment(int(pid))
    run = world.run("commitments", pid)
    assert run.queued == 1
    change = held(world, pid, "SOURCE_DELETED")
    assert change.operation == Operation.VOID
    assert len(pos_numbered(world, "SC-T-950")) == 1  # nothing happens without a person
    assert change_approve(change=change)
    assert send(world, change) == "synced"
    assert pos_numbered(world, "SC-T-950") == []
    assert not Binding.objects.filter(procore_id=pid).exists()


def test_an_unlinked_erp_copy_is_a_suspected_duplicate_and_can_be_linked(world):
    from sync.services.exceptions import change_link

    pid = world.new_commitment("SC-T-960")
    world.run("commitments", pid)
    binding = Binding.objects.get(procore_id=pid)
    binding.delete()  # as if the ERP copy had been keyed in by hand
    run = world.run("commitments", pid)
    assert run.queued == 1
    change = held(world, pid, "SUSPECTED_DUPLICATE")
    candidate = change.item.details["candidates"][0]["erp_id"]
    assert candidate == binding.erp_id and change.item.details["same_amount"] is True
    assert change_link(change=change, erp_id=candidate)
    assert send(world, change) == "synced"
    assert len(pos_numbered(world, "SC-T-960")) == 1
    assert Binding.objects.get(procore_id=pid).erp_id == candidate


def test_an_erp_refusal_is_a_dead_letter_with_the_exchange(world):
    pid = world.new_commitment("SC-T-970")
    for code, target in list(world.lookup.costs.items()):
        world.lookup.costs[code] = type(target)("999999", None, None)
    run = world.run("commitments", pid)
    assert run.failed == 1
    change = Change.objects.get(procore_id=pid)
    assert change.state == ChangeState.FAILED and change.reason_code == "WRITE_REJECTED"
    item = change.item
    assert item.status == ItemStatus.DEAD_LETTER
    exchange = item.details["error"]["exchange"]
    assert exchange["status"] == 400 and exchange["request_body"]
    assert "Bearer" not in str(exchange["request_headers"]).replace("****", "")


def test_vendor_not_in_the_projects_subsidiary():
    world = WORLDS["netsuite"]()
    ca = next(
        p
        for p in world.company.projects
        if p.erp == "netsuite" and p.subsidiary == "ca" and p.status == "Active"
    )
    pid = world.new_commitment("SC-T-980", project=ca.key)
    vendor_pid = str(world.procore_commitment(pid)["_vendor_id"])
    us = world.eids["subsidiary:us"]
    world.lookup.vendors[vendor_pid] = VendorTarget(
        world.lookup.vendors[vendor_pid].erp_vendor_id, (us,)
    )
    assert world.run("commitments", pid).queued == 1
    held(world, pid, "VENDOR_NOT_IN_SUBSIDIARY")


def test_an_any_type_cost_code_mapping_unblocks_items_of_every_cost_type():
    from sync.services.runs import items_reevaluate

    world = WORLDS["netsuite"]()
    pid = world.new_commitment("SC-T-710")
    line = world.procore.scoped("commitment_line_items", int(pid))[0]
    code = world.procore.store.get("cost_codes", line["_cost_code_id"])["full_code"]
    target = world.lookup.costs.pop(code)
    world.run("commitments", pid)
    world.lookup.costs[code] = target
    runs = items_reevaluate(
        connection_id=world.erp_conn.pk,
        table="cost_code",
        key={"cost_code": code, "cost_type": None},
        clients=world.clients,
        lookup=lambda c: world.lookup,
    )
    assert [r.synced for r in runs] == [1]


def test_adding_a_mapping_schedules_the_re_evaluation(monkeypatch):
    from mappings import events
    from sync.jobs import on_mapping_added

    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a: calls.append(a))
    assert on_mapping_added in events._callbacks
    events._dispatch(7, "vendor", [{"procore_vendor_id": "42"}])
    assert calls == [("sync.jobs.reevaluate_blocked", 7, "vendor", {"procore_vendor_id": "42"})]
