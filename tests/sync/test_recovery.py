"""Recovery of writes a dead worker left in ``sending`` (sync/services/recovery.py): sent again
once stale, idempotently, whether or not the first attempt reached the ERP; a live claim is
left alone; the job is scheduled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from sync.engine import plan_record
from sync.flows import flow_for
from sync.jobs import recover_stale_changes
from sync.models import Binding, Change, ChangeState
from sync.schedules import RECOVER_STALE, schedules_ensure
from sync.services.changes import STALE_SENDING, change_claim
from sync.services.recovery import changes_recover_stale
from sync.services.runs import build_context
from tests.sync.engine_support import WORLDS

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["netsuite", "quickbooks"])
def world(request):
    return WORLDS[request.param]()


def claimed(world, number: str, *, written: bool) -> Change:
    """A commitment's create claimed by a worker that then died: after the ERP accepted the
    write (``written``) or before its call."""
    pid = world.new_commitment(number)
    ctx = build_context(world.erp_conn, clients=world.clients, lookup=lambda c: world.lookup)
    flow = flow_for("commitments")
    (source,) = list(flow.fetch(ctx, pid))
    change = plan_record(ctx, flow, source).change
    assert change_claim(change=change)
    if written:
        flow.write(ctx, change)  # the ERP holds it; the worker dies before binding
    return change


def age(change: Change, by: timedelta) -> None:
    Change.objects.filter(pk=change.pk).update(updated_at=timezone.now() - by)


def recover(world):
    return changes_recover_stale(clients=world.clients, lookup=lambda c: world.lookup)


def pos_numbered(world, number: str) -> list[dict]:
    key = "tranId" if world.kind == "netsuite" else "DocNumber"
    return [po for po in world.erp_pos() if po.get(key) == number]


@pytest.mark.parametrize("written", [True, False], ids=["after-the-write", "before-the-write"])
def test_a_stale_sending_change_is_sent_once_and_bound(world, written):
    change = claimed(world, "SC-REC-1", written=written)
    age(change, STALE_SENDING + timedelta(seconds=1))

    assert recover(world) == {"synced": 1}

    change.refresh_from_db()
    assert change.state == ChangeState.SENT
    (po,) = pos_numbered(world, "SC-REC-1")
    binding = Binding.objects.get(object_type="commitment", procore_id=change.procore_id)
    assert binding.erp_id == str(po.get("id") or po.get("Id")) == change.erp_id
    assert recover(world) == {}  # nothing left: a second delivery of the job does nothing


def test_a_live_claim_is_left_alone(world):
    change = claimed(world, "SC-REC-2", written=False)
    age(change, STALE_SENDING - timedelta(seconds=30))

    assert recover(world) == {}

    change.refresh_from_db()
    assert change.state == ChangeState.SENDING
    assert pos_numbered(world, "SC-REC-2") == []


def test_the_job_runs_the_recovery_and_is_scheduled(world):
    change = claimed(world, "SC-REC-3", written=True)
    age(change, STALE_SENDING + timedelta(minutes=5))
    Change.objects.filter(pk=change.pk).update(state=ChangeState.SENT)  # not this job's now

    assert recover_stale_changes() == {}
    assert Schedule.objects.filter(name=RECOVER_STALE).count() == 1  # after migrate
    schedules_ensure()
    schedules_ensure()
    schedule = Schedule.objects.get(name=RECOVER_STALE)
    assert schedule.func == "sync.jobs.recover_stale_changes"
    assert schedule.schedule_type == Schedule.MINUTES and schedule.repeats == -1


def test_a_resent_quickbooks_create_finds_its_document_when_the_requestid_is_forgotten():
    """How long QBO remembers a requestid is unverified (sandbox: 24 h). A change sent again
    after its worker died looks its document up before creating (DocNumber + vendor), so a
    forgotten requestid cannot make a second PO (POs have no duplicate-number check)."""
    world = WORLDS["quickbooks"]()
    change = claimed(world, "SC-REC-4", written=True)
    world.erp.idempotency.clear()  # QBO forgot the first attempt's requestid
    age(change, STALE_SENDING + timedelta(seconds=1))

    assert recover(world) == {"synced": 1}

    (po,) = pos_numbered(world, "SC-REC-4")
    assert Binding.objects.get(procore_id=change.procore_id).erp_id == str(po["Id"])


def test_a_run_leaves_a_stale_change_to_the_recovery_that_looks_first():
    """A normal run meeting a change its dead worker left in ``sending`` does not send it
    again blind: the QuickBooks document the dead attempt made would be duplicated once the
    requestid is forgotten. The run skips it; the recovery finds and binds the document."""
    world = WORLDS["quickbooks"]()
    change = claimed(world, "SC-REC-5", written=True)
    world.erp.idempotency.clear()
    age(change, STALE_SENDING + timedelta(seconds=1))

    run = world.run("commitments", change.procore_id)
    assert run.synced == 0 and len(pos_numbered(world, "SC-REC-5")) == 1
    assert "worker that died" in run.records.get(procore_id=change.procore_id).note

    assert recover(world) == {"synced": 1}
    (po,) = pos_numbered(world, "SC-REC-5")
    assert Binding.objects.get(procore_id=change.procore_id).erp_id == str(po["Id"])
