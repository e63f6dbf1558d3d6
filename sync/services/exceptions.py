"""The exception queue's writes: open, resolve, auto-resolve, approve, reject, retry, assign.

Every transition is a conditional UPDATE on the item's status (the row count proves it) and
appends an ExceptionEvent. The controller queue (exceptions_ui) calls these; so does the engine.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from sync.fingerprint import canonical
from sync.models import (
    ACTIVE_STATUSES,
    Change,
    ChangeState,
    ExceptionEvent,
    ExceptionItem,
    ItemStatus,
    Operation,
)
from sync.reasons import reason
from sync.services.changes import change_transition

FILTER_FIELDS = (
    "subsidiary",
    "procore_project_id",
    "project_name",
    "vendor",
    "vendor_name",
    "document_number",
    "currency",
)


def blocked_key(key: dict[str, Any]) -> str:
    """The one string form of a mapping key (what mappings.events reports)."""
    return json.dumps({k: v for k, v in key.items() if v not in (None, "")}, sort_keys=True)


def item_event(
    *,
    item: ExceptionItem,
    action: str,
    actor: Any = None,
    note: str = "",
    before: Any = None,
    after: Any = None,
) -> ExceptionEvent:
    return ExceptionEvent.objects.create(
        item=item,
        action=action,
        actor=actor,
        note=note,
        before=canonical(before),
        after=canonical(after),
    )


def _amount(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def item_open(
    *,
    change: Change,
    reason_code: str,
    explanation: str,
    details: dict[str, Any] | None = None,
    status: str = ItemStatus.OPEN,
) -> ExceptionItem:
    """The change's item, opened (or re-opened with the new reason) — one per change."""
    facts = change.context.get("facts", {}) if change.context else {}
    blocked = (details or {}).get("mapping") or {}
    fields: dict[str, Any] = {
        "connection_id": change.connection_id,
        "object_type": change.object_type,
        "procore_id": change.procore_id,
        "status": status,
        "reason_code": reason_code,
        "explanation": explanation,
        "fix": reason(reason_code).fix if reason_code in _codes() else "",
        "details": canonical(details or {}),
        "blocked_table": blocked.get("table", ""),
        "blocked_key": blocked_key(blocked.get("key") or {}) if blocked else "",
        "amount": _amount(facts.get("amount")),
        "resolved_at": None,
    }
    for name in FILTER_FIELDS:
        fields[name] = str(facts.get(name) or "")[:200]
    item = ExceptionItem.objects.filter(change=change).first()
    if item is None:
        item = ExceptionItem.objects.create(change=change, **fields)
        item_event(item=item, action="opened", note=explanation, after={"reason": reason_code})
        return item
    before = {"status": item.status, "reason": item.reason_code}
    ExceptionItem.objects.filter(pk=item.pk).update(**fields, updated_at=timezone.now())
    item.refresh_from_db()
    item_event(
        item=item,
        action="reopened",
        note=explanation,
        before=before,
        after={"status": item.status, "reason": reason_code},
    )
    return item


def _codes() -> set[str]:
    from sync.reasons import REASONS

    return set(REASONS)


def item_transition(
    *,
    item: ExceptionItem,
    to: str,
    from_statuses: tuple[str, ...] = ACTIVE_STATUSES,
    action: str,
    actor: Any = None,
    note: str = "",
) -> bool:
    now = timezone.now()
    fields: dict[str, Any] = {"status": to, "updated_at": now}
    if to in (ItemStatus.RESOLVED, ItemStatus.AUTO_RESOLVED, ItemStatus.REJECTED):
        fields.update(resolved_at=now, resolved_by=actor)
    moved = ExceptionItem.objects.filter(pk=item.pk, status__in=from_statuses).update(**fields) == 1
    if moved:
        item_event(
            item=item,
            action=action,
            actor=actor,
            note=note,
            before={"status": item.status},
            after={"status": to},
        )
        item.status = to
    return moved


def items_auto_resolve(
    *, connection_id: int, object_type: str, procore_id: str, note: str, exclude_change=None
) -> int:
    """Close every active item of the record: a later run brought it in line by itself."""
    items = ExceptionItem.objects.filter(
        connection_id=connection_id,
        object_type=object_type,
        procore_id=procore_id,
        status__in=ACTIVE_STATUSES,
    )
    if exclude_change is not None:
        items = items.exclude(change_id=exclude_change)
    closed = 0
    for item in items:
        closed += item_transition(
            item=item, to=ItemStatus.AUTO_RESOLVED, action="auto_resolved", note=note
        )
    return closed


# -- what a controller does ---------------------------------------------------------------


def change_approve(*, change: Change, actor: Any = None, note: str = "") -> bool:
    """Approve a held change; it is sent by the next writer pass (``sync.jobs.send_change``).

    For ERP_EDITED the approval means "overwrite the ERP copy as it is now": the write then
    expects the ERP version seen when the conflict was found, so a further hand edit made
    after that is caught again rather than overwritten.
    """
    item = ExceptionItem.objects.filter(change=change).first()
    fields: dict[str, Any] = {}
    if item is not None and item.reason_code == "ERP_EDITED":
        seen = (item.details or {}).get("erp_version")
        if seen:
            fields["expected_version"] = seen
    with transaction.atomic():
        moved = change_transition(
            change=change, to=ChangeState.APPROVED, from_states=(ChangeState.HELD,), **fields
        )
        if moved and item is not None:
            item_transition(
                item=item, to=ItemStatus.RESOLVED, action="approved", actor=actor, note=note
            )
    return moved


def change_link(*, change: Change, erp_id: str, actor: Any = None, note: str = "") -> bool:
    """Link instead of create (SUSPECTED_DUPLICATE, UNKNOWN_VENDOR): bind to ``erp_id``."""
    with transaction.atomic():
        moved = change_transition(
            change=change,
            to=ChangeState.APPROVED,
            from_states=(ChangeState.HELD,),
            operation=Operation.LINK,
            erp_id=str(erp_id),
        )
        item = ExceptionItem.objects.filter(change=change).first()
        if moved and item is not None:
            item_transition(
                item=item,
                to=ItemStatus.RESOLVED,
                action="linked",
                actor=actor,
                note=note or f"linked to ERP record {erp_id}",
            )
    return moved


def change_reject(*, change: Change, actor: Any = None, note: str = "") -> bool:
    with transaction.atomic():
        moved = change_transition(
            change=change,
            to=ChangeState.REJECTED,
            from_states=(ChangeState.HELD, ChangeState.FAILED, ChangeState.APPROVED),
        )
        item = ExceptionItem.objects.filter(change=change).first()
        if moved and item is not None:
            item_transition(
                item=item, to=ItemStatus.REJECTED, action="rejected", actor=actor, note=note
            )
    return moved


def change_retry(*, change: Change, actor: Any = None, note: str = "") -> bool:
    """Replay a dead letter: back to approved; the item closes when the write succeeds."""
    moved = change_transition(
        change=change, to=ChangeState.APPROVED, from_states=(ChangeState.FAILED,)
    )
    item = ExceptionItem.objects.filter(change=change).first()
    if moved and item is not None:
        item_event(item=item, action="retry_requested", actor=actor, note=note)
    return moved


def item_assign(*, item: ExceptionItem, assignee: Any, actor: Any = None) -> None:
    before = item.assignee_id
    ExceptionItem.objects.filter(pk=item.pk).update(assignee=assignee, updated_at=timezone.now())
    item.assignee = assignee
    item_event(
        item=item,
        action="assigned",
        actor=actor,
        before={"assignee": before},
        after={"assignee": getattr(assignee, "pk", None)},
    )


def item_comment(*, item: ExceptionItem, actor: Any, note: str) -> ExceptionEvent:
    return item_event(item=item, action="commented", actor=actor, note=note)
