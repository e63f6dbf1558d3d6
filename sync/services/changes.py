"""Change transitions: conditional UPDATEs whose row count proves the move happened."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from sync.dbbulk import update_many
from sync.models import Change, ChangeState

if TYPE_CHECKING:
    from datetime import datetime

    from sync.erp import Written


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


def changes_mark_sent(sent: list[tuple[Change, Written]], *, at: datetime) -> int:
    """``change_transition`` sending → sent for a group the writer settles together: one
    conditional UPDATE per change, run as a single ``executemany`` (built by the ORM one at a
    time, these UPDATEs were ~7 % of a run's CPU). Returns how many rows moved: a change no
    longer ``sending`` (the recovery job took it over) is left as it is. ``at``: sent_at."""
    now = timezone.now()
    rows = []
    for change, written in sent:
        change.state, change.updated_at, change.sent_at = ChangeState.SENT, now, at
        change.erp_id, change.last_error = written.erp_id, None
        change.result = {
            "erp_id": written.erp_id,
            "version": written.version,
            "number": written.number,
        }
        rows.append(
            (ChangeState.SENT, now, at, change.erp_id, change.result, None)
            + (change.pk, ChangeState.SENDING)
        )
    return update_many(
        Change,
        fields=("state", "updated_at", "sent_at", "erp_id", "result", "last_error"),
        where=("id", "state"),
        rows=rows,
    )


def _claim(changes: list[Change]) -> bool:
    """One conditional UPDATE moving ``changes`` to ``sending``; True when it moved them all."""
    now = timezone.now()
    sendable = Q(state__in=(ChangeState.PLANNED, ChangeState.APPROVED, ChangeState.FAILED)) | Q(
        state=ChangeState.SENDING, updated_at__lt=now - STALE_SENDING
    )
    ids = {c.pk for c in changes}
    if len(ids) != len(changes):  # one change twice: the row count could not prove both
        return False
    moved = Change.objects.filter(sendable, pk__in=ids).update(
        state=ChangeState.SENDING, attempts=F("attempts") + 1, updated_at=now
    )
    if moved != len(ids):
        return False
    for change in changes:  # what the UPDATE set, without reading the rows back
        change.state, change.updated_at = ChangeState.SENDING, now
        change.attempts = (change.attempts or 0) + 1
    return True


def change_claim(*, change: Change) -> bool:
    """Move to ``sending`` before the remote call, so two workers never send one Change."""
    return _claim([change])


def changes_claim(*, changes: list[Change]) -> list[Change]:
    """``change_claim`` for many, in one UPDATE when its row count shows it moved every one.
    Otherwise (another worker holds some) that UPDATE is rolled back and each is claimed on
    its own, so every claim is still proven by a row count; returns the claimed ones."""
    if len(changes) > 1:
        with transaction.atomic():
            if _claim(changes):
                return list(changes)
            transaction.set_rollback(True)  # undo the partial UPDATE, then one at a time
    return [c for c in changes if _claim([c])]
