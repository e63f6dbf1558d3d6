"""Two controllers approve the same item at the same instant: one wins, the other is told
who acted, and the change is approved (and would be sent) once. Real transactions in two
threads, on PostgreSQL (SQLite serialises writers on one file lock, which proves nothing)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from accounts import roles
from sync.models import Change, ChangeState, ExceptionEvent, ItemStatus
from sync.services import review
from tests.exceptions_ui.support import held_item, qbo_world, run
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite takes one write lock per file, so the threads never "
        "race inside the UPDATE",
    ),
]


@pytest.mark.parametrize("second_approval", [False, True])
def test_two_simultaneous_approvals_move_the_item_once(monkeypatch, second_approval):
    policies = {"approval_thresholds": {"commitments": "1"}}
    if second_approval:
        policies["second_approval_above"] = "1000"
    world = qbo_world(monkeypatch, **policies)
    sent = []
    monkeypatch.setattr(review, "enqueue_send", lambda change_id: sent.append(change_id))
    pid = world.new_commitment("SC-R-001")
    run(world, pid)
    item = held_item(pid)
    users = [UserFactory(username=f"racer{n}", roles=[roles.CONTROLLER]) for n in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(user):
        try:
            barrier.wait()
            review.item_approve(item_id=item.pk, actor=user)
            outcomes.append("won")
        except review.ActionRefused as exc:
            outcomes.append(str(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes.count("won") == 1, outcomes
    [lost] = [o for o in outcomes if o != "won"]
    assert "racer" in lost and "already" in lost
    item.refresh_from_db()
    if second_approval:
        assert item.status == ItemStatus.AWAITING_SECOND_APPROVAL
        assert ExceptionEvent.objects.filter(item=item, action="first_approval").count() == 1
        assert sent == []
    else:
        assert item.status == ItemStatus.RESOLVED
        assert ExceptionEvent.objects.filter(item=item, action="approved").count() == 1
        assert Change.objects.get(pk=item.change_id).state == ChangeState.APPROVED
        assert sent == [item.change_id]
