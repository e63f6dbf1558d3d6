from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.signals import post_migrate


class SyncConfig(AppConfig):
    """The sync engine: connections, bindings, changes, runs, jobs, webhooks, reconciliation."""

    name = "sync"

    def ready(self) -> None:
        from mappings import events
        from sync.jobs import on_mapping_added

        events.on_mapping_added(on_mapping_added)
        post_migrate.connect(_ensure_recovery, sender=self, dispatch_uid="sync.recovery_schedule")


def _ensure_recovery(sender, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """After every ``migrate`` (and test flush): the schedule that recovers writes a dead
    worker left in ``sending`` (sync/services/recovery.py), without waiting for an admin to
    run ``ensure_schedules``."""
    from django_q.models import Schedule

    from sync.schedules import RECOVER_STALE, recovery_schedule_ensure

    if using != DEFAULT_DB_ALIAS:
        return
    if Schedule._meta.db_table not in connections[using].introspection.table_names():
        return  # a partial migrate that has not reached django_q yet
    if not Schedule.objects.filter(name=RECOVER_STALE).exists():  # keep an admin's edits
        recovery_schedule_ensure()
