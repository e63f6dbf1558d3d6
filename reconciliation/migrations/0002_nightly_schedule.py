"""The nightly reconciliation schedule, created by name (idempotent; ensure_schedules keeps
it in line and adds the per-connection polling schedules)."""

from datetime import UTC, datetime, time, timedelta

from django.db import migrations


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    now = datetime.now(UTC)
    at = datetime.combine(now.date(), time(2, 0), tzinfo=UTC)
    if at <= now:
        at += timedelta(days=1)
    Schedule.objects.get_or_create(
        name="reconciliation-nightly",
        defaults={
            "func": "reconciliation.jobs.reconcile_all",
            "schedule_type": "D",
            "repeats": -1,
            "next_run": at,
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="reconciliation-nightly").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reconciliation", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create, remove)]
