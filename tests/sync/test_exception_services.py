"""The queue's transitions: conditional, logged, and the change follows the item."""

from __future__ import annotations

import pytest

from sync.models import ChangeState, ExceptionItem, ItemStatus
from sync.services.exceptions import (
    change_approve,
    change_reject,
    change_retry,
    item_assign,
    item_comment,
)
from tests.sync.engine_support import WORLDS
from tests.sync.test_commitments import held

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued():
    world = WORLDS["netsuite"]()
    world.set_policies(approval_thresholds={"commitments": "1"})
    pid = world.new_commitment("SC-T-E01")
    world.run("commitments", pid)
    return world, held(world, pid, "APPROVAL_THRESHOLD")


def test_reject_is_final_and_logged_and_the_next_run_does_not_reopen_it(queued, controller):
    world, change = queued
    assert change_reject(change=change, actor=controller, note="not this one")
    assert not change_reject(change=change, actor=controller)  # the row count proves it
    item = ExceptionItem.objects.get(change=change)
    assert item.status == ItemStatus.REJECTED and item.resolved_by == controller
    assert list(item.events.values_list("action", flat=True)) == ["opened", "rejected"]
    run = world.run("commitments", change.procore_id)
    assert run.skipped == 1 and ExceptionItem.objects.count() == 1


def test_approve_twice_moves_once(queued, controller):
    _world, change = queued
    assert change_approve(change=change, actor=controller)
    assert not change_approve(change=change, actor=controller)
    change.refresh_from_db()
    assert change.state == ChangeState.APPROVED


def test_assign_and_comment_append_events(queued, controller):
    _world, change = queued
    item = change.item
    item_assign(item=item, assignee=controller, actor=controller)
    item_comment(item=item, actor=controller, note="checking with the PM")
    assert ExceptionItem.objects.get(pk=item.pk).assignee == controller
    assert [e.action for e in item.events.all()] == ["opened", "assigned", "commented"]


def test_retry_only_from_failed(queued):
    _world, change = queued
    assert not change_retry(change=change)
