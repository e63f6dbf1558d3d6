"""Change transitions: conditional UPDATEs whose row count proves the move happened."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import F, Q
from django.utils import timezone

from sync.models import Change, ChangeState


def task_timeout() -> int:
    """Seconds a task may run before the cluster kills it (ERPBRIDGE_Q_TIMEOUT)."""
    from django.conf import settings

    return int((getattr(settings, "Q_CLUSTER", None) or {}).get("timeout") or 600)


# A change left in "sending" longer than this belongs to a worker that died mid-call; it may
# be claimed again (the write is idempotent: NetSuite eid upsert, QBO requestid + lookup).
# No live task sends for longer than the task timeout (the cluster kills it then), so the
# wait after a crash is that timeout plus a margin, at most the former fixed 15 minutes.
STALE_SENDING = timedelta(seconds=min(15 * 60, task_timeout() + 30))


def change_transition(
    *, change: Change, to: str, from_states: tuple[str, ...], **fields: Any
) -> bool:
    now = timezone.now()
    moved = (
        Change.objects.filter(pk=change.pk, state__in=from_states).update(
            state=to, updated_at=now, **fields
        )
        == 1
    )
    if moved:
        change.state = to
        for name, value in fields.items():
            setattr(change, name, value)
    return moved


def change_claim(*, change: Change) -> bool:
    """Move to ``sending`` before the remote call, so two workers never send one Change."""
    now = timezone.now()
    sendable = Q(state__in=(ChangeState.PLANNED, ChangeState.APPROVED, ChangeState.FAILED)) | Q(
        state=ChangeState.SENDING, updated_at__lt=now - STALE_SENDING
    )
    claimed = (
        Change.objects.filter(sendable, pk=change.pk).update(
            state=ChangeState.SENDING, attempts=F("attempts") + 1, updated_at=now
        )
        == 1
    )
    if claimed:  # what the UPDATE set, without reading the row back
        change.state, change.updated_at = ChangeState.SENDING, now
        change.attempts = (change.attempts or 0) + 1
    return claimed
