"""The product's schedules, created by name (``erpbridge.schedules.schedule_ensure``).

One polling schedule per ERP connection (``poll-<id>``, every ``poll_minutes`` of the
connection's settings, default 15), the nightly reconciliation and the recovery of writes a
dead worker left in ``sending`` (every 5 minutes; it also prunes the task history,
erpbridge/task_history.py). Run by
``manage.py ensure_schedules`` (and by the demo); a connection removed or disabled loses its
poll schedule. Running it twice leaves the same schedules.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone
from django_q.models import Schedule

from erpbridge.schedules import schedule_ensure
from sync.models import Connection, ConnectionStatus

POLL_PREFIX = "poll-"
DEFAULT_POLL_MINUTES = 15
NIGHTLY_AT = time(2, 0)  # UTC
RECONCILE_NIGHTLY = "reconciliation-nightly"
# Changes a dead worker left in "sending" (sync/services/recovery.py).
RECOVER_STALE = "recover-stale-changes"  # also ensured after every migrate (sync/apps.py)
RECOVER_MINUTES = 5


def _next_nightly(now: datetime) -> datetime:
    at = datetime.combine(now.date(), NIGHTLY_AT, tzinfo=now.tzinfo)
    return at if at > now else at + timedelta(days=1)


def schedules_ensure() -> list[str]:
    names = []
    erps = Connection.objects.filter(kind__in=("netsuite", "quickbooks")).exclude(
        status=ConnectionStatus.DISABLED
    )
    for conn in erps:
        if conn.procore_connection_id is None:
            continue
        minutes = int(conn.settings.get("poll_minutes") or DEFAULT_POLL_MINUTES)
        name = f"{POLL_PREFIX}{conn.pk}"
        schedule_ensure(
            name=name,
            func="sync.jobs_triggers.poll_connection",
            schedule_type=Schedule.MINUTES,
            minutes=minutes,
            args=str(conn.pk),
            repeats=-1,
        )
        names.append(name)
    Schedule.objects.filter(name__startswith=POLL_PREFIX).exclude(name__in=names).delete()
    existing = Schedule.objects.filter(name=RECONCILE_NIGHTLY).first()
    schedule_ensure(
        name=RECONCILE_NIGHTLY,
        func="reconciliation.jobs.reconcile_all",
        schedule_type=Schedule.DAILY,
        repeats=-1,
        # Keep the slot an admin may have moved; a new schedule starts at the next 02:00 UTC.
        next_run=existing.next_run if existing else _next_nightly(timezone.now()),
    )
    names.append(RECONCILE_NIGHTLY)
    names.append(recovery_schedule_ensure().name)
    return names


def recovery_schedule_ensure() -> Schedule:
    """Every few minutes, send again what dead workers left in ``sending``: it needs no
    connection, so it exists from the first ``migrate`` on (sync/apps.py)."""
    return schedule_ensure(
        name=RECOVER_STALE,
        func="sync.jobs.recover_stale_changes",
        schedule_type=Schedule.MINUTES,
        minutes=RECOVER_MINUTES,
        repeats=-1,
    )
