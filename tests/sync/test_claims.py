"""Batched runs store a group's new Changes in one INSERT (``store_new``) and claim them in one
UPDATE (``changes_claim``); a change another run or worker got first is left to it, never
stored twice or sent twice."""

from __future__ import annotations

import pytest

from sync.engine import plan_record, prefetch, store_new
from sync.flows import flow_for
from sync.models import Change, ChangeState
from sync.services.changes import change_claim, changes_claim
from sync.services.runs import build_context
from tests.sync.engine_support import WORLDS

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return WORLDS["netsuite"]()


def planned(world, numbers: list[str], *, save: bool):
    """Plan new commitments as a batch does (prefetched first)."""
    pids = [world.new_commitment(number) for number in numbers]
    ctx = build_context(world.erp_conn, clients=world.clients, lookup=lambda c: world.lookup)
    flow = flow_for("commitments")
    prefetch(ctx, flow, pids)
    sources = [s for pid in pids for s in flow.fetch(ctx, pid)]
    return [plan_record(ctx, flow, source, save=save).change for source in sources]


def test_a_group_is_claimed_together_and_a_held_one_is_left_to_its_worker(world):
    first, second, third = planned(world, ["SC-CL-1", "SC-CL-2", "SC-CL-3"], save=True)
    assert change_claim(change=Change.objects.get(pk=second.pk))  # another worker's claim

    claimed = changes_claim(changes=[first, second, third])

    assert [c.pk for c in claimed] == [first.pk, third.pk]
    rows = {c.pk: c for c in Change.objects.filter(pk__in=[first.pk, second.pk, third.pk])}
    assert all(row.state == ChangeState.SENDING for row in rows.values())
    assert [rows[c.pk].attempts for c in (first, second, third)] == [1, 1, 1]  # none twice
    assert second.state == ChangeState.PLANNED  # not claimed here: its copy is untouched


def test_a_free_group_is_claimed_whole(world):
    changes = planned(world, ["SC-CL-4", "SC-CL-5"], save=True)
    assert changes_claim(changes=changes) == changes
    assert all(c.state == ChangeState.SENDING and c.attempts == 1 for c in changes)
    assert set(Change.objects.filter(state=ChangeState.SENDING).values_list("pk", flat=True)) == {
        c.pk for c in changes
    }


def test_store_new_leaves_out_a_change_an_overlapping_run_stored_first(world):
    mine, other = planned(world, ["SC-CL-6", "SC-CL-7"], save=False)
    assert mine.pk is None and other.pk is None  # planned, not yet stored
    # An overlapping run plans and stores the first record's change meanwhile.
    ctx = build_context(world.erp_conn, clients=world.clients, lookup=lambda c: world.lookup)
    flow = flow_for("commitments")
    (source,) = list(flow.fetch(ctx, mine.procore_id))
    theirs = plan_record(ctx, flow, source).change
    assert theirs.pk is not None

    store_new([mine, other])

    assert mine.pk is None  # the clash: left to the run that stored it
    assert other.pk is not None and Change.objects.get(pk=other.pk).state == ChangeState.PLANNED
    for change in (mine, other):
        assert Change.objects.filter(procore_id=change.procore_id).count() == 1
