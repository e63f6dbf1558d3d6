from django.db import migrations, models
from django.db.models import F


def runs_before_this_were_fetched(apps, schema_editor):
    # A run recorded before this field existed is not waiting for its fetch any more.
    SyncRun = apps.get_model("sync", "SyncRun")
    SyncRun.objects.filter(fetched_at__isnull=True).update(fetched_at=F("started_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0007_run_progressed_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="syncrun",
            name="fetched_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(runs_before_this_were_fetched, migrations.RunPython.noop),
    ]
