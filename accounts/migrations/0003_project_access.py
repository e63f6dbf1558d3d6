import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_create_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ProjectAccess",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "procore_project_id",
                    models.CharField(max_length=64, verbose_name="Procore project id"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="project_access",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "project access",
                "verbose_name_plural": "project access",
                "indexes": [
                    models.Index(
                        fields=["procore_project_id"], name="accounts_pr_procore_291f7c_idx"
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("user", "procore_project_id"),
                        name="accounts_project_access_unique",
                    )
                ],
            },
        ),
    ]
