"""Flow leases: one run per connection and flow at a time (see sync.models.lock)."""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta

from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone

from sync.models import FlowLock
from sync.services.changes import task_timeout

# A run in a task dies with its task (killed at the task timeout, or with its worker): its
# lease must run out before the queue hands the task out again (`retry` > timeout), or the
# redelivered run finds the flow still locked and does nothing. Live runs renew as they go.
LEASE = timedelta(seconds=min(10 * 60, max(task_timeout(), 5)))


def lock_acquire(*, connection_id: int, flow: str, lease: timedelta = LEASE) -> str | None:
    """A holder token when the lease was free (or expired), else ``None``."""
    # A concurrent run may create the row between our get and create: either row will do.
    with contextlib.suppress(IntegrityError):
        FlowLock.objects.get_or_create(connection_id=connection_id, flow=flow)
    token = uuid.uuid4().hex
    now = timezone.now()
    free = Q(holder="") | Q(expires_at__lt=now) | Q(expires_at__isnull=True)
    taken = (
        FlowLock.objects.filter(free, connection_id=connection_id, flow=flow).update(
            holder=token, expires_at=now + lease
        )
        == 1
    )
    return token if taken else None


def lock_renew(*, connection_id: int, flow: str, token: str, lease: timedelta = LEASE) -> bool:
    return (
        FlowLock.objects.filter(connection_id=connection_id, flow=flow, holder=token).update(
            expires_at=timezone.now() + lease
        )
        == 1
    )


def lock_release(*, connection_id: int, flow: str, token: str) -> bool:
    return (
        FlowLock.objects.filter(connection_id=connection_id, flow=flow, holder=token).update(
            holder="", expires_at=None
        )
        == 1
    )
