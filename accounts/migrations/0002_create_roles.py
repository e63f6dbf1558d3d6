"""Create the role groups (Controller, Project manager, Integration admin)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from accounts.services import roles_apply


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations (post_migrate); create the ones
    # that exist so far now, so the groups get them on this first pass.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
        app_config.models_module = None
    roles_apply(
        group_model=apps.get_model("auth", "Group"),
        permission_model=apps.get_model("auth", "Permission"),
        strict=False,
        using=schema_editor.connection.alias,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
