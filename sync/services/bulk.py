"""Bulk decisions on a selection or a whole filtered view of the exception queue.

Each item goes through the same single-item service as a click on its page, so every item
is moved by its own conditional UPDATE, logged in its own timeline, and refused (with the
reason) when a colleague decided it first or a control forbids it. One item's refusal does
not stop the others.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sync.services.review import (
    ActionRefused,
    item_approve,
    item_assign,
    item_reject,
    item_retry,
)

BULK_ACTIONS = ("approve", "reject", "assign", "retry")
BULK_LIMIT = 5000  # one request; a bigger view is split by narrowing the filters


@dataclass
class BulkResult:
    action: str
    done: int = 0
    refused: Counter = field(default_factory=Counter)  # reason -> items

    @property
    def message(self) -> str:
        verbs = {"approve": "approved", "reject": "rejected", "assign": "assigned"}
        verb = verbs.get(self.action, "queued for retry")
        text = f"{self.done} item{'s' if self.done != 1 else ''} {verb}."
        if self.refused:
            n = sum(self.refused.values())
            why = "; ".join(f"{reason} ({count})" for reason, count in self.refused.most_common(3))
            text += f" {n} not: {why}"
        return text


def _reason_of(exc: ActionRefused) -> str:
    text = str(exc)
    if exc.taken_by:
        return "a colleague decided them first"
    return text


def items_bulk(
    *,
    action: str,
    item_ids: list[int],
    actor: Any,
    reason: str = "",
    assignee: Any = None,
) -> BulkResult:
    if action not in BULK_ACTIONS:
        raise ActionRefused(f"Unknown bulk action {action!r}.")
    if action == "reject" and not reason.strip():
        raise ActionRefused("Give a reason for rejecting; it is kept with every item.")
    if len(item_ids) > BULK_LIMIT:
        raise ActionRefused(
            f"{len(item_ids)} items is more than {BULK_LIMIT} at once; narrow the filters."
        )
    result = BulkResult(action)
    for item_id in item_ids:
        try:
            if action == "approve":
                item_approve(item_id=item_id, actor=actor, note="bulk approval")
            elif action == "reject":
                item_reject(item_id=item_id, actor=actor, reason=reason)
            elif action == "assign":
                item_assign(item_id=item_id, actor=actor, assignee=assignee, note="bulk assign")
            else:
                item_retry(item_id=item_id, actor=actor, note="bulk retry")
        except ActionRefused as exc:
            result.refused[_reason_of(exc)] += 1
            continue
        result.done += 1
    return result
