"""The exception queue (issue 8): two indexes for its keyset pages, and the daily digest."""

from datetime import datetime, time, timedelta

from django.db import migrations, models
from django.utils import timezone

DIGEST = "exception-queue-digest"
DIGEST_AT = time(7, 0)  # UTC, before the working day in the Americas


def schedule_digest(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    now = timezone.now()
    first = datetime.combine(now.date(), DIGEST_AT, tzinfo=now.tzinfo)
    if first <= now:
        first += timedelta(days=1)
    Schedule.objects.using(schema_editor.connection.alias).get_or_create(
        name=DIGEST,
        defaults={
            "func": "sync.jobs.send_queue_digest",
            "schedule_type": "D",
            "repeats": -1,
            "next_run": first,
        },
    )


def unschedule_digest(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).filter(name=DIGEST).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0003_webhook_deliveries"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="exceptionitem",
            index=models.Index(
                fields=["status", "reason_code", "opened_at"], name="sync_item_reason_age"
            ),
        ),
        migrations.AddIndex(
            model_name="exceptionitem",
            index=models.Index(fields=["status", "amount"], name="sync_item_status_amount"),
        ),
        migrations.RunPython(schedule_digest, unschedule_digest),
    ]
