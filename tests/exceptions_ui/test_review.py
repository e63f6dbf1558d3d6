"""The review services: approve (one and two approvals), segregation of duties, reject,
link, retry/replay, assign, comments with mentions, payload edits, bulk, inline fix."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from mappings.models import AccountRoleMapping, MappingChange
from sync.models import ChangeState, Connection, ExceptionEvent, ExceptionItem, ItemStatus
from sync.services import review
from sync.services.bulk import items_bulk
from sync.services.fixes import item_fix_mapping
from sync.services.payload_edits import flatten, item_edit_payload
from tests.exceptions_ui.support import held_item, qbo_pos, qbo_world, run

pytestmark = pytest.mark.django_db


def actions(item) -> list[str]:
    return list(ExceptionEvent.objects.filter(item=item).values_list("action", flat=True))


def test_approve_sends_the_write_as_a_job_and_the_po_is_in_the_erp(
    world, item, controller, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = review.item_approve(item_id=item.pk, actor=controller)
    assert result.sent
    item.refresh_from_db()
    item.change.refresh_from_db()
    assert item.status == ItemStatus.RESOLVED and item.resolved_by == controller
    assert item.change.state == ChangeState.SENT
    assert len(qbo_pos(world, "SC-Q-001")) == 1
    assert actions(item)[:2] == ["opened", "approved"]


def test_the_second_approval_is_refused_and_says_who_acted(item, controller, controller2):
    review.item_approve(item_id=item.pk, actor=controller)
    with pytest.raises(review.ActionRefused, match="ctrl already approved") as refused:
        review.item_approve(item_id=item.pk, actor=controller2)
    assert refused.value.taken_by == "ctrl"
    assert actions(item).count("approved") == 1


def test_two_approvals_above_the_amount_from_two_people(
    monkeypatch, controller, controller2, django_capture_on_commit_callbacks
):
    world = qbo_world(
        monkeypatch, approval_thresholds={"commitments": "1"}, second_approval_above="3000"
    )
    pid = world.new_commitment("SC-Q-002")  # 3500.00
    run(world, pid)
    item = held_item(pid)
    first = review.item_approve(item_id=item.pk, actor=controller)
    assert "second controller" in first.message and not first.sent
    item.refresh_from_db()
    assert item.status == ItemStatus.AWAITING_SECOND_APPROVAL
    with pytest.raises(review.ActionRefused, match="You gave the first approval"):
        review.item_approve(item_id=item.pk, actor=controller)
    assert qbo_pos(world, "SC-Q-002") == []
    with django_capture_on_commit_callbacks(execute=True):
        review.item_approve(item_id=item.pk, actor=controller2)
    item.refresh_from_db()
    assert item.status == ItemStatus.RESOLVED and item.resolved_by == controller2
    assert len(qbo_pos(world, "SC-Q-002")) == 1
    assert actions(item) == ["opened", "first_approval", "approved"]


def test_below_the_second_approval_amount_one_approval_is_enough(monkeypatch, controller):
    world = qbo_world(
        monkeypatch, approval_thresholds={"commitments": "1"}, second_approval_above="5000"
    )
    pid = world.new_commitment("SC-Q-003")
    run(world, pid)
    item = held_item(pid)
    review.item_approve(item_id=item.pk, actor=controller)
    item.refresh_from_db()
    assert item.status == ItemStatus.RESOLVED


def test_segregation_of_duties_the_editor_cannot_approve(item, controller, controller2):
    change = item.change
    path = "Memo"
    result = item_edit_payload(
        item_id=item.pk,
        actor=controller,
        values={path: "edited by hand"},
        seen=change.updated_at.isoformat(),
    )
    assert "1 field changed" in result.message
    change.refresh_from_db()
    assert flatten(change.payload)[path] == "edited by hand"
    event = ExceptionEvent.objects.get(item=item, action="payload_edited")
    assert event.after == {path: "edited by hand"} and path in event.before
    assert review.approve_refusal(item, controller).startswith("You edited")
    with pytest.raises(review.ActionRefused, match="segregation of duties"):
        review.item_approve(item_id=item.pk, actor=controller)
    review.item_approve(item_id=item.pk, actor=controller2)
    item.refresh_from_db()
    assert item.status == ItemStatus.RESOLVED


def test_without_segregation_of_duties_the_editor_may_approve(item, controller):
    Connection.objects.filter(pk=item.connection_id).update(
        policies={"approval_thresholds": {"commitments": "1"}, "segregation_of_duties": False}
    )
    path = next(iter(flatten(item.change.payload)))
    item_edit_payload(
        item_id=item.pk,
        actor=controller,
        values={path: "x"},
        seen=item.change.updated_at.isoformat(),
    )
    review.item_approve(item_id=item.pk, actor=controller)


def test_an_edit_against_a_stale_form_is_refused(item, controller, controller2):
    seen = item.change.updated_at.isoformat()
    path = next(iter(flatten(item.change.payload)))
    item_edit_payload(item_id=item.pk, actor=controller, values={path: "a"}, seen=seen)
    with pytest.raises(review.ActionRefused, match="ctrl already edited"):
        item_edit_payload(item_id=item.pk, actor=controller2, values={path: "b"}, seen=seen)


def test_numbers_stay_numbers_and_bad_ones_are_refused(item, controller):
    leaves = flatten(item.change.payload)
    path = next(p for p, v in leaves.items() if p.endswith("Amount"))
    with pytest.raises(review.ActionRefused, match="not a number"):
        item_edit_payload(
            item_id=item.pk,
            actor=controller,
            values={path: "lots"},
            seen=item.change.updated_at.isoformat(),
        )
    item_edit_payload(
        item_id=item.pk,
        actor=controller,
        values={path: "999.50"},
        seen=item.change.updated_at.isoformat(),
    )
    item.change.refresh_from_db()
    assert Decimal(str(flatten(item.change.payload)[path])) == Decimal("999.50")


def test_reject_needs_a_reason_and_keeps_it(item, controller, controller2):
    with pytest.raises(review.ActionRefused, match="Give a reason"):
        review.item_reject(item_id=item.pk, actor=controller, reason="  ")
    review.item_reject(item_id=item.pk, actor=controller, reason="duplicate of PO 88")
    item.refresh_from_db()
    item.change.refresh_from_db()
    assert item.status == ItemStatus.REJECTED and item.change.state == ChangeState.REJECTED
    assert ExceptionEvent.objects.get(item=item, action="rejected").note == "duplicate of PO 88"
    with pytest.raises(review.ActionRefused, match="ctrl already rejected"):
        review.item_approve(item_id=item.pk, actor=controller2)


def test_assign_does_not_overwrite_a_colleagues_assignment(item, controller, controller2):
    review.item_assign(item_id=item.pk, actor=controller, assignee=controller, expected=None)
    with pytest.raises(review.ActionRefused, match="ctrl already assigned"):
        review.item_assign(item_id=item.pk, actor=controller2, assignee=controller2, expected=None)
    review.item_assign(item_id=item.pk, actor=controller2, assignee=None, expected=controller.pk)
    item.refresh_from_db()
    assert item.assignee is None
    assert actions(item).count("assigned") == 2


def test_comment_mentions_email_the_colleague_and_replies_thread(item, controller, controller2):
    with pytest.raises(review.ActionRefused):
        review.item_comment(item_id=item.pk, actor=controller, text=" ")
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        first = review.item_comment(
            item_id=item.pk,
            actor=controller,
            text="@ctrl2 can you check the vendor?",
            item_url="http://testserver/queue/items/1/",
        )
    assert first.after == {"mentions": ["ctrl2"]}
    [message] = mail.outbox
    assert message.to == ["ctrl2@example.com"] and "can you check the vendor" in message.body
    reply = review.item_comment(item_id=item.pk, actor=controller2, text="done", reply_to=first.pk)
    assert reply.before == {"reply_to": first.pk}


def dead_letter(world, number: str) -> ExceptionItem:
    """An item as the writer leaves it when the ERP kept failing (RETRIES_EXHAUSTED)."""
    from sync.services.changes import change_transition
    from sync.services.exceptions import item_open

    pid = world.new_commitment(number)
    run(world, pid)
    change = held_item(pid).change
    change_transition(change=change, to=ChangeState.FAILED, from_states=(ChangeState.HELD,))
    return item_open(
        change=change,
        reason_code="RETRIES_EXHAUSTED",
        explanation="The ERP did not answer after several attempts: 503",
        details={"error": {"code": "10000", "message": "Service unavailable"}},
        status=ItemStatus.DEAD_LETTER,
    )


def test_retry_and_replay_of_a_dead_letter(world, monkeypatch, controller, controller2):
    from django.test import TestCase

    item = dead_letter(world, "SC-Q-DL")
    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: calls.append(a))
    with TestCase.captureOnCommitCallbacks(execute=True):
        review.item_retry(item_id=item.pk, actor=controller)
    assert calls == [("sync.jobs.send_change", item.change_id)]
    with pytest.raises(review.ActionRefused, match="ctrl already retried"):
        review.item_retry(item_id=item.pk, actor=controller2)
    with TestCase.captureOnCommitCallbacks(execute=True):
        review.item_replay(item_id=item.pk, actor=controller2)
    assert calls[-1] == (
        "sync.jobs.run_flow",
        world.erp_conn.pk,
        "commitments",
        item.procore_id,
        "replay",
    )


def test_a_retried_dead_letter_reaches_the_erp(
    world, controller, django_capture_on_commit_callbacks
):
    item = dead_letter(world, "SC-Q-DL2")
    with django_capture_on_commit_callbacks(execute=True):
        review.item_retry(item_id=item.pk, actor=controller)
    item.refresh_from_db()
    assert item.status == ItemStatus.AUTO_RESOLVED
    assert len(qbo_pos(world, "SC-Q-DL2")) == 1


def test_link_a_suspected_duplicate(monkeypatch, controller, django_capture_on_commit_callbacks):
    from sync.models import Binding

    world = qbo_world(monkeypatch)
    pid = world.new_commitment("SC-Q-LNK")
    run(world, pid)
    binding = Binding.objects.get(procore_id=pid)
    binding.delete()
    run(world, pid)
    item = held_item(pid)
    assert item.reason_code == "SUSPECTED_DUPLICATE"
    with pytest.raises(review.ActionRefused, match="Choose the ERP record"):
        review.item_link(item_id=item.pk, actor=controller, erp_id="")
    with django_capture_on_commit_callbacks(execute=True):
        review.item_link(item_id=item.pk, actor=controller, erp_id=binding.erp_id)
    assert Binding.objects.get(procore_id=pid).erp_id == binding.erp_id
    assert len(qbo_pos(world, "SC-Q-LNK")) == 1


def test_bulk_approve_skips_what_a_control_holds_back(world, controller, controller2):
    pids = [world.new_commitment(f"SC-Q-B{n}") for n in range(3)]
    for pid in pids:
        run(world, pid)
    items = [held_item(pid) for pid in pids]
    review.item_reject(item_id=items[0].pk, actor=controller2, reason="no")
    result = items_bulk(action="approve", item_ids=[i.pk for i in items], actor=controller)
    assert result.done == 2 and sum(result.refused.values()) == 1
    assert "2 items approved" in result.message and "a colleague decided" in result.message
    with pytest.raises(review.ActionRefused, match="reason"):
        items_bulk(action="reject", item_ids=[items[1].pk], actor=controller)


def test_bulk_assign_and_reject(world, controller, controller2):
    pids = [world.new_commitment(f"SC-Q-C{n}") for n in range(2)]
    for pid in pids:
        run(world, pid)
    ids = [held_item(pid).pk for pid in pids]
    assert (
        items_bulk(action="assign", item_ids=ids, actor=controller, assignee=controller2).done == 2
    )
    assert set(ExceptionItem.objects.filter(pk__in=ids).values_list("assignee", flat=True)) == {
        controller2.pk
    }
    assert items_bulk(action="reject", item_ids=ids, actor=controller, reason="dup").done == 2


def test_inline_fix_adds_the_mapping_and_clears_every_sibling(monkeypatch, controller):
    world = qbo_world(monkeypatch, accounts=False)
    pids = [world.new_commitment(f"SC-Q-M{n}") for n in range(3)]
    for pid in pids:
        run(world, pid)
    items = [held_item(pid) for pid in pids]
    assert {i.reason_code for i in items} == {"UNMAPPED_ACCOUNT"}
    assert {i.blocked_table for i in items} == {"account_role"}
    result = item_fix_mapping(
        item_id=items[0].pk,
        actor=controller,
        values={"role": "accounts_payable", "account_id": world.eids["account:ap"]},
    )
    assert result.blocked == 3 and result.cleared == 3, result.message
    assert "3 cleared" in result.message
    row = AccountRoleMapping.objects.get(connection=world.erp_conn)
    assert MappingChange.objects.filter(row_id=row.pk, source=MappingChange.Source.INLINE).exists()
    for item in items:
        item.refresh_from_db()
        assert item.status == ItemStatus.AUTO_RESOLVED
        assert "mapping_added" in actions(item)
    for n in range(3):
        assert len(qbo_pos(world, f"SC-Q-M{n}")) == 1


def test_inline_fix_reports_items_now_waiting_for_approval(monkeypatch, controller):
    world = qbo_world(monkeypatch, accounts=False, approval_thresholds={"commitments": "3000"})
    small = world.new_commitment("SC-Q-S1", ("100.00", "200.00"))
    big = world.new_commitment("SC-Q-S2")
    run(world, small)
    run(world, big)
    result = item_fix_mapping(
        item_id=held_item(small).pk,
        actor=controller,
        values={"role": "accounts_payable", "account_id": world.eids["account:ap"]},
    )
    assert result.blocked == 2 and result.cleared == 1
    assert result.still_open == {"Above the approval threshold": 1}
    assert held_item(big).reason_code == "APPROVAL_THRESHOLD"


def test_inline_fix_refuses_an_account_the_erp_does_not_have(monkeypatch, controller):
    world = qbo_world(monkeypatch, accounts=False)
    pid = world.new_commitment("SC-Q-X1")
    run(world, pid)
    with pytest.raises(review.ActionRefused, match="no account with this id"):
        item_fix_mapping(
            item_id=held_item(pid).pk,
            actor=controller,
            values={"role": "accounts_payable", "account_id": "424242"},
        )
    assert not AccountRoleMapping.objects.exists()


def test_a_blocked_item_cannot_be_approved(monkeypatch, controller):
    world = qbo_world(monkeypatch, accounts=False)
    pid = world.new_commitment("SC-Q-X2")
    run(world, pid)
    with pytest.raises(review.ActionRefused, match="missing mapping first"):
        review.item_approve(item_id=held_item(pid).pk, actor=controller)
