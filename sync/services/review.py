"""What a person does to an exception item, with the controls controllers expect.

Built on the queue transitions of ``sync.services.exceptions`` (conditional UPDATEs that
log an ExceptionEvent). Added here:

* the *loser of a race* is told who acted first (``ActionRefused`` carries the name, the
  action and the time) and nothing is written twice: every move is an UPDATE … WHERE
  status = what the person saw, and only the row count decides;
* segregation of duties (``Policies.segregation_of_duties``): whoever edited the proposed
  write may not approve it;
* two approvals above ``Policies.second_approval_above``: the first moves the item to
  *awaiting second approval*, the second (another person) approves the change;
* approved and retried changes are sent by a job (``sync.jobs.send_change``) once the
  decision is committed; a replay re-runs the record from Procore (``sync.jobs.run_flow``);
* payload edits stored as a diff (``path``, ``before``, ``after``) in the timeline;
* assignment that does not silently undo a colleague's, comments with @mentions by email.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from sync.config import policies
from sync.models import (
    ACTIVE_STATUSES,
    ChangeState,
    ExceptionEvent,
    ExceptionItem,
    ItemStatus,
    Operation,
)
from sync.reasons import REASONS
from sync.services.changes import change_transition
from sync.services.exceptions import item_event, item_transition

DECIDABLE = (ItemStatus.OPEN, ItemStatus.AWAITING_SECOND_APPROVAL)
LINKABLE_REASONS = ("SUSPECTED_DUPLICATE", "UNKNOWN_VENDOR")
# Events that are decisions (the ones a late colleague is told about).
DECISIONS = (
    "approved",
    "first_approval",
    "rejected",
    "linked",
    "retry_requested",
    "replay_requested",
    "auto_resolved",
    "reopened",
    "payload_edited",
)
VERBS = {
    "approved": "approved",
    "first_approval": "gave the first approval for",
    "rejected": "rejected",
    "linked": "linked",
    "retry_requested": "retried",
    "replay_requested": "replayed",
    "auto_resolved": "resolved (automatically)",
    "reopened": "re-opened",
    "payload_edited": "edited",
    "assigned": "assigned",
}


class ActionRefused(Exception):
    """The action did not happen; ``str(exc)`` says why in plain words."""

    def __init__(self, message: str, *, taken_by: str = "") -> None:
        super().__init__(message)
        self.taken_by = taken_by


@dataclass
class ReviewResult:
    item: ExceptionItem
    message: str
    sent: bool = False  # a send job was queued


def _name(user: Any) -> str:
    if user is None:
        return "erpbridge"
    return user.get_full_name() or user.get_username()


def _taken(item: ExceptionItem, actions: tuple[str, ...] = DECISIONS) -> ActionRefused:
    """The refusal for the loser of a race: who did what, when (from the timeline)."""
    event = (
        ExceptionEvent.objects.filter(item_id=item.pk, action__in=actions)
        .select_related("actor")
        .order_by("-at", "-pk")
        .first()
    )
    fresh = ExceptionItem.objects.filter(pk=item.pk).values_list("status", flat=True).first()
    label = ItemStatus(fresh).label.lower() if fresh else "gone"
    if event is None:
        return ActionRefused(f"This item is now {label}; nothing was changed.")
    who = _name(event.actor)
    when = timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S %Z")
    verb = VERBS.get(event.action, event.action.replace("_", " "))
    return ActionRefused(
        f"{who} already {verb} this item at {when}; it is now {label}. Nothing was changed.",
        taken_by=who,
    )


def _audit(actor, action: str, item: ExceptionItem, to: str, note: str = "", **extra) -> None:
    """The decision in the audit log (the item's own timeline has it too)."""
    audit_record(
        actor=actor,
        action=action,
        target=item,
        after={"status": to, "change": item.change_id, **extra},
        note=note,
    )


def _load(item_id: int) -> ExceptionItem:
    return ExceptionItem.objects.select_related("change", "connection").get(pk=item_id)


def enqueue_send(change_id: int) -> None:
    """Queue the write after the decision commits (the job re-reads the change's state)."""
    from django_q.tasks import async_task

    transaction.on_commit(lambda: async_task("sync.jobs.send_change", change_id))


def enqueue_replay(connection_id: int, object_type: str, procore_id: str) -> None:
    from django_q.tasks import async_task

    from sync.flows import BY_BINDING_TYPE

    flow = BY_BINDING_TYPE[object_type]
    transaction.on_commit(
        lambda: async_task("sync.jobs.run_flow", connection_id, flow.name, procore_id, "replay")
    )


def edited_by(item: ExceptionItem, user: Any) -> bool:
    return ExceptionEvent.objects.filter(
        item_id=item.pk, action="payload_edited", actor_id=user.pk
    ).exists()


def needs_second_approval(item: ExceptionItem) -> bool:
    limit = policies(item.connection).second_approval_above
    return limit is not None and item.amount is not None and item.amount > limit


def first_approver(item: ExceptionItem) -> Any:
    event = (
        ExceptionEvent.objects.filter(item_id=item.pk, action="first_approval")
        .select_related("actor")
        .order_by("-at", "-pk")
        .first()
    )
    return event.actor if event else None


def approve_refusal(item: ExceptionItem, user: Any) -> str:
    """Why ``user`` may not approve ``item`` now ('' when they may); shown beside the button."""
    if item.change_id is None or item.change is None:
        return "There is no proposed write to approve."
    if item.blocked_table:
        return "Add the missing mapping first; the item is then re-checked by itself."
    if item.status not in DECIDABLE or item.change.state != ChangeState.HELD:
        return "Only an item waiting for a decision can be approved."
    if policies(item.connection).segregation_of_duties and edited_by(item, user):
        return (
            "You edited this item's proposed write, so another controller must approve it "
            "(segregation of duties)."
        )
    if item.status == ItemStatus.AWAITING_SECOND_APPROVAL:
        first = first_approver(item)
        if first is not None and first.pk == user.pk:
            return "You gave the first approval; a second controller must give the other."
    return ""


def item_approve(*, item_id: int, actor: Any, note: str = "") -> ReviewResult:
    item = _load(item_id)
    if item.status not in DECIDABLE:
        raise _taken(item)
    refusal = approve_refusal(item, actor)
    if refusal:
        if item.change is not None and item.change.state != ChangeState.HELD:
            raise _taken(item)
        raise ActionRefused(refusal)
    if needs_second_approval(item) and item.status == ItemStatus.OPEN:
        with transaction.atomic():
            moved = item_transition(
                item=item,
                to=ItemStatus.AWAITING_SECOND_APPROVAL,
                from_statuses=(ItemStatus.OPEN,),
                action="first_approval",
                actor=actor,
                note=note,
            )
            if moved:
                _audit(actor, "exception.first_approval", item, ItemStatus.OPEN, note)
        if not moved:
            raise _taken(item)
        limit = policies(item.connection).second_approval_above
        return ReviewResult(
            item,
            f"First approval recorded. {item.amount} {item.currency} is above {limit}: "
            "a second controller must approve it too.",
        )
    change = item.change
    fields: dict[str, Any] = {}
    if item.reason_code == "ERP_EDITED" and (item.details or {}).get("erp_version"):
        # Overwrite the ERP copy *as seen*: a later hand edit is caught again.
        fields["expected_version"] = item.details["erp_version"]
    with transaction.atomic():
        moved = change_transition(
            change=change, to=ChangeState.APPROVED, from_states=(ChangeState.HELD,), **fields
        )
        if moved:
            moved = item_transition(
                item=item,
                to=ItemStatus.RESOLVED,
                from_statuses=(item.status,),
                action="approved",
                actor=actor,
                note=note,
            )
            if not moved:  # the item moved under us: undo the change's move with the rest
                transaction.set_rollback(True)
        if moved:
            _audit(actor, "exception.approve", item, ItemStatus.RESOLVED, note)
            enqueue_send(change.pk)
    if not moved:
        raise _taken(item)
    return ReviewResult(item, "Approved: the write is on its way to the ERP.", sent=True)


def item_reject(*, item_id: int, actor: Any, reason: str) -> ReviewResult:
    reason = (reason or "").strip()
    if not reason:
        raise ActionRefused("Give a reason for rejecting; it is kept with the item.")
    item = _load(item_id)
    if item.status not in ACTIVE_STATUSES:
        raise _taken(item)
    with transaction.atomic():
        if item.change is not None:
            moved = change_transition(
                change=item.change,
                to=ChangeState.REJECTED,
                from_states=(ChangeState.HELD, ChangeState.FAILED),
            )
        else:
            moved = True
        if moved:
            moved = item_transition(
                item=item,
                to=ItemStatus.REJECTED,
                from_statuses=(item.status,),
                action="rejected",
                actor=actor,
                note=reason,
            )
            if not moved:
                transaction.set_rollback(True)
        if moved:
            _audit(actor, "exception.reject", item, ItemStatus.REJECTED, reason)
    if not moved:
        raise _taken(item)
    return ReviewResult(item, "Rejected. Nothing will be written to the ERP for this version.")


def item_link(*, item_id: int, actor: Any, erp_id: str, note: str = "") -> ReviewResult:
    erp_id = (erp_id or "").strip()
    if not erp_id:
        raise ActionRefused("Choose the ERP record to link to.")
    item = _load(item_id)
    if item.reason_code not in LINKABLE_REASONS or item.blocked_table:
        raise ActionRefused("Only a suspected duplicate or an unknown vendor can be linked.")
    if item.status not in DECIDABLE:
        raise _taken(item)
    with transaction.atomic():
        moved = change_transition(
            change=item.change,
            to=ChangeState.APPROVED,
            from_states=(ChangeState.HELD,),
            operation=Operation.LINK,
            erp_id=erp_id,
        )
        if moved:
            moved = item_transition(
                item=item,
                to=ItemStatus.RESOLVED,
                from_statuses=(item.status,),
                action="linked",
                actor=actor,
                note=note or f"Linked to ERP record {erp_id} instead of creating one.",
            )
            if not moved:
                transaction.set_rollback(True)
        if moved:
            _audit(actor, "exception.link", item, ItemStatus.RESOLVED, note, erp_id=erp_id)
            enqueue_send(item.change_id)
    if not moved:
        raise _taken(item)
    return ReviewResult(item, f"Linked to ERP record {erp_id}; nothing new is created.", True)


def item_retry(*, item_id: int, actor: Any, note: str = "") -> ReviewResult:
    """A dead letter's write, sent again as it was (idempotent: it cannot duplicate)."""
    item = _load(item_id)
    if item.status != ItemStatus.DEAD_LETTER or item.change is None:
        raise (
            _taken(item)
            if item.status != ItemStatus.DEAD_LETTER
            else ActionRefused("There is no write to retry.")
        )
    with transaction.atomic():
        moved = change_transition(
            change=item.change, to=ChangeState.APPROVED, from_states=(ChangeState.FAILED,)
        )
        if moved:
            item_event(item=item, action="retry_requested", actor=actor, note=note)
            _audit(actor, "exception.retry", item, item.status, note)
            enqueue_send(item.change_id)
    if not moved:
        raise _taken(item)
    return ReviewResult(item, "Retry queued: the write is sent again.", sent=True)


def item_replay(*, item_id: int, actor: Any, note: str = "") -> ReviewResult:
    """Re-run the record from Procore with today's mappings (after fixing a cause)."""
    item = _load(item_id)
    if item.status not in ACTIVE_STATUSES:
        raise _taken(item)
    with transaction.atomic():
        # Claim the replay on the item's row so two clicks queue one run.
        moved = (
            ExceptionItem.objects.filter(
                pk=item.pk, status=item.status, updated_at=item.updated_at
            ).update(updated_at=timezone.now())
            == 1
        )
        if moved:
            item_event(item=item, action="replay_requested", actor=actor, note=note)
            _audit(actor, "exception.replay", item, item.status, note)
            enqueue_replay(item.connection_id, item.object_type, item.procore_id)
    if not moved:
        raise _taken(item)
    return ReviewResult(item, "Replay queued: the record is read from Procore again.")


def item_assign(
    *, item_id: int, actor: Any, assignee: Any, expected: Any = "any", note: str = ""
) -> ReviewResult:
    """Assign (or unassign with ``assignee=None``). ``expected`` is the assignee the person
    saw: if a colleague changed it meanwhile, nothing is overwritten."""
    item = _load(item_id)
    rows = ExceptionItem.objects.filter(pk=item.pk)
    if expected != "any":
        rows = rows.filter(assignee_id=getattr(expected, "pk", expected))
    before = item.assignee_id
    with transaction.atomic():
        moved = rows.update(assignee=assignee, updated_at=timezone.now()) == 1
        if moved:
            item_event(
                item=item,
                action="assigned",
                actor=actor,
                note=note or (f"Assigned to {_name(assignee)}" if assignee else "Unassigned"),
                before={"assignee": before},
                after={"assignee": getattr(assignee, "pk", None)},
            )
            audit_record(
                actor=actor,
                action="exception.assign",
                target=item,
                before={"assignee": before},
                after={"assignee": getattr(assignee, "pk", None)},
            )
    if not moved:
        raise _taken(item, ("assigned",))
    item.assignee = assignee
    return ReviewResult(
        item, f"Assigned to {_name(assignee)}." if assignee else "No one is assigned now."
    )


MENTION = re.compile(r"(?<![\w@])@([\w.+-]+)")


def mentioned_users(text: str) -> list[Any]:
    names = {m.rstrip(".") for m in MENTION.findall(text or "")}
    if not names:
        return []
    users = get_user_model().objects.filter(is_active=True, username__in=names)
    return sorted(users, key=lambda u: u.username)


def item_comment(
    *, item_id: int, actor: Any, text: str, reply_to: int | None = None, item_url: str = ""
) -> ExceptionEvent:
    text = (text or "").strip()
    if not text:
        raise ActionRefused("Write something to comment.")
    item = ExceptionItem.objects.get(pk=item_id)
    if (
        reply_to is not None
        and not ExceptionEvent.objects.filter(
            pk=reply_to, item_id=item.pk, action="commented"
        ).exists()
    ):
        reply_to = None
    mentions = [u for u in mentioned_users(text) if u.pk != getattr(actor, "pk", None)]
    event = item_event(
        item=item,
        action="commented",
        actor=actor,
        note=text,
        before={"reply_to": reply_to} if reply_to else None,
        after={"mentions": [u.username for u in mentions]} if mentions else None,
    )
    for user in mentions:
        if not user.email:
            continue
        transaction.on_commit(
            lambda user=user: send_mail(
                subject=f"[erpbridge] {_name(actor)} mentioned you on {_title(item)}",
                message=f"{_name(actor)} wrote:\n\n{text}\n\n{item_url}".strip() + "\n",
                from_email=None,
                recipient_list=[user.email],
                fail_silently=True,
            )
        )
    return event


def _title(item: ExceptionItem) -> str:
    what = REASONS[item.reason_code].title if item.reason_code in REASONS else item.reason_code
    doc = item.document_number or f"{item.object_type} {item.procore_id}"
    return f"{doc} ({what})"
