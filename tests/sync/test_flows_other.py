"""Projects, vendors and commitment change orders against both ERP sandboxes; the flow lock;
the management command; UNMAPPED_PROJECT / UNMAPPED_ACCOUNT."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from sync.context import origin_id_for
from sync.models import Binding, Change, ChangeState, FlowLock, ItemStatus, RunStatus
from sync.services.exceptions import change_approve
from sync.services.locks import lock_acquire, lock_release
from sync.services.runs import change_send
from tests.sync.engine_support import WORLDS
from tests.sync.test_commitments import amounts, held, pos_numbered, send

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["netsuite", "quickbooks"])
def world(request):
    return WORLDS[request.param]()


def test_mapped_projects_are_linked_and_procore_learns_the_erp_job(world):
    run = world.run("projects")
    assert run.status == "succeeded" and run.synced >= 1, run.error
    p = next(x for x in world.company.projects if x.erp == world.kind)
    pid = world.pids[f"project:{p.key}"]
    binding = Binding.objects.get(object_type="project", procore_id=pid)
    assert binding.erp_id == world.eids[f"job:{p.key}"]
    assert world.procore.store.get("projects", pid)["origin_id"] == origin_id_for(
        world.erp_conn, binding.erp_id
    )
    assert world.run("projects").synced == 0


def test_a_project_mapped_to_a_customer_only_gets_a_new_job(world):
    p = next(x for x in world.company.projects if x.erp == world.kind)
    pid = world.pids[f"project:{p.key}"]
    world.lookup.projects[pid] = replace(world.lookup.projects[pid], erp_job_id=None)
    # A new project: its name is not taken in the ERP yet (QBO names are unique).
    world.procore.store.get("projects", pid)["name"] = "Riverside Annex"
    run = world.run("projects", pid)
    assert run.synced == 1, run.error
    binding = Binding.objects.get(object_type="project", procore_id=pid)
    assert binding.erp_id != world.eids[f"job:{p.key}"]
    if world.kind == "netsuite":
        job = world.erp.store.get("job", binding.erp_id)
        assert job["parent"]["id"] == world.eids[f"customer:{p.customer}"]
    else:
        job = world.erp.read("Customer", binding.erp_id)
        assert (
            job["Job"] is True and job["ParentRef"]["value"] == world.eids[f"customer:{p.customer}"]
        )


def test_an_unmapped_project_is_held_when_every_project_is_in_scope(world):
    world.set_policies(projects_scope="all")
    p = next(x for x in world.company.projects if x.erp == world.kind)
    pid = world.pids[f"project:{p.key}"]
    world.lookup.projects.pop(pid)
    assert world.run("projects", pid).queued == 1
    change = held(world, pid, "UNMAPPED_PROJECT")
    assert change.item.blocked_table == "project"


def test_linked_vendors_are_bound_and_unknown_ones_wait_for_a_person(world):
    world.set_policies(vendor_subsidiary_id=world.eids.get("subsidiary:us"))
    run = world.run("vendors")
    assert run.status == "succeeded", run.error
    assert run.synced == len(world.lookup.vendors)
    assert run.queued >= 1  # the vendors only in Procore
    item = Change.objects.filter(reason_code="UNKNOWN_VENDOR").first().item
    assert item.status == ItemStatus.OPEN and item.vendor_name
    change = item.change
    assert change_approve(change=change)
    assert send(world, change) == "synced"
    assert Binding.objects.filter(object_type="vendor", procore_id=change.procore_id).exists()


def test_auto_create_vendors_policy_creates_them_straight_away(world):
    world.set_policies(
        auto_create_vendors=True, vendor_subsidiary_id=world.eids.get("subsidiary:us")
    )
    run = world.run("vendors")
    assert run.queued == 0 and run.failed == 0, run.error
    assert run.synced == Binding.objects.filter(object_type="vendor").count()


def test_unmapped_account_is_held():
    world = WORLDS["quickbooks"]()
    world.lookup.accounts.clear()
    pid = world.new_commitment("SC-T-A01")
    assert world.run("commitments", pid).queued == 1
    change = held(world, pid, "UNMAPPED_ACCOUNT")
    assert change.item.blocked_table == "account_role"


def _approved_change_order(world, pid: str, amount: str) -> str:
    line = world.procore.scoped("commitment_line_items", int(pid))[0]
    cco = world.procore.person_create_change_order(
        int(pid),
        [
            {
                "description": "Extra work",
                "amount": Decimal(amount),
                "cost_code_id": line["_cost_code_id"],
                "line_item_type_id": line["_line_item_type_id"],
            }
        ],
        title="Extra work",
        status="approved",
    )
    return str(cco["id"])


def test_change_orders_follow_the_strategy_and_the_controller_approves(world):
    pid = world.new_commitment("SC-T-C01", ("1000.00", "2000.00"))
    world.run("commitments", pid)
    cco = _approved_change_order(world, pid, "300.00")
    run = world.run("commitment_change_orders", cco)
    assert run.queued == 1, run.error
    change = held(world, cco, "REVISION_AFTER_APPROVAL")
    assert change_approve(change=change)
    assert send(world, change) == "synced"
    if world.kind == "netsuite":
        [revision] = pos_numbered(world, "SC-T-C01-R1")
        assert amounts(world, revision) == [Decimal("300.00")]
        [original] = pos_numbered(world, "SC-T-C01")
        assert amounts(world, original) == [Decimal("1000.00"), Decimal("2000.00")]
    else:
        [po] = pos_numbered(world, "SC-T-C01")
        assert amounts(world, po) == [Decimal("1000.00"), Decimal("2000.00"), Decimal("300.00")]
    writes = world.writes()
    assert world.run("commitments", pid).skipped == 1  # the commitment is still in line
    assert world.run("commitment_change_orders", cco).skipped == 1
    assert world.writes() == writes


def test_a_change_order_waits_for_its_commitment(world):
    pid = world.new_commitment("SC-T-C02")
    cco = _approved_change_order(world, pid, "100.00")
    run = world.run("commitment_change_orders", cco)
    assert run.skipped == 1 and run.queued == 0


def test_two_overlapping_runs_cannot_both_write(world):
    pid = world.new_commitment("SC-T-L01")
    token = lock_acquire(connection_id=world.erp_conn.pk, flow="commitments")
    assert token
    blocked = world.run("commitments", pid)
    assert blocked.status == RunStatus.LOCKED and blocked.total == 0
    assert pos_numbered(world, "SC-T-L01") == []
    assert lock_release(connection_id=world.erp_conn.pk, flow="commitments", token=token)
    assert world.run("commitments", pid).synced == 1
    assert FlowLock.objects.get(flow="commitments").holder == ""


def test_an_expired_lease_of_a_dead_worker_is_taken_over():
    world = WORLDS["netsuite"]()
    from datetime import timedelta

    from django.utils import timezone

    assert lock_acquire(connection_id=world.erp_conn.pk, flow="commitments")
    assert lock_acquire(connection_id=world.erp_conn.pk, flow="commitments") is None
    FlowLock.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert lock_acquire(connection_id=world.erp_conn.pk, flow="commitments")


def test_a_change_is_sent_once_even_when_two_workers_try():
    world = WORLDS["netsuite"]()
    world.set_policies(approval_thresholds={"commitments": "1"})
    pid = world.new_commitment("SC-T-L02")
    world.run("commitments", pid)
    change = Change.objects.get(procore_id=pid)
    change_approve(change=change)
    Change.objects.filter(pk=change.pk).update(state=ChangeState.SENDING)  # worker one
    outcome = change_send(change_id=change.pk, clients=world.clients, lookup=lambda c: world.lookup)
    assert outcome == "skipped"  # worker two
    assert pos_numbered(world, "SC-T-L02") == []


def test_the_command_syncs_a_whole_flow_in_batches_with_writes_in_flight_together(monkeypatch):
    """A whole flow from the command goes through the batched engine (sync_flow): every
    commitment bound, one run closed with done == total, and the ERP saw several writes at
    once (one record at a time kept one request in flight)."""
    from sync.models import RunStatus, SyncRun
    from tests.sync.trigger_support import wire

    world = WORLDS["netsuite"]()
    wire(monkeypatch, world)  # the command builds its own clients: the world's sandboxes
    world.set_policies()
    pids = [world.new_commitment(f"SC-CMD-{n}") for n in range(20)]
    world.erp.faults.latency_ms = 20  # each request takes a moment, as a real one does
    out = io.StringIO()
    call_command("sync", connection="NetSuite", object="commitments", stdout=out)
    run = SyncRun.objects.get(trigger="command")
    assert run.status == RunStatus.SUCCEEDED and run.done == run.total >= 20, run.error
    assert f"run {run.pk} commitments on NetSuite: succeeded" in out.getvalue()
    for pid in pids:
        assert Binding.objects.filter(object_type="commitment", procore_id=pid).exists()
    assert world.erp.gate.peak > 1


def test_the_command_syncs_one_record_with_record(monkeypatch):
    from sync.models import RunStatus, SyncRun
    from tests.sync.trigger_support import wire

    world = WORLDS["netsuite"]()
    wire(monkeypatch, world)
    world.set_policies()
    pid = world.new_commitment("SC-CMD-ONE")
    other = world.new_commitment("SC-CMD-OTHER")
    call_command(
        "sync", connection="NetSuite", object="commitments", record=pid, stdout=io.StringIO()
    )
    run = SyncRun.objects.get(trigger="command")
    assert run.status == RunStatus.SUCCEEDED and run.procore_id == pid and run.total == 1
    assert Binding.objects.filter(object_type="commitment", procore_id=pid).exists()
    assert not Binding.objects.filter(object_type="commitment", procore_id=other).exists()


def test_the_command_prints_the_runs_outcome_counts():
    world = WORLDS["netsuite"]()
    out = io.StringIO()
    world.set_policies()
    from sync.models import Connection

    Connection.objects.filter(pk=world.erp_conn.pk).update(directions={"commitments": "off"})
    call_command("sync", connection="NetSuite", object="commitments", stdout=out)
    assert "synced=0 queued=0 failed=0 skipped=0" in out.getvalue()
    assert "direction for commitments is not push" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("sync", connection="nope", object="commitments", stdout=out)
