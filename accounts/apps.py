from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    """Users, roles (Django groups) and the area permissions."""

    name = "accounts"

    def ready(self) -> None:
        post_migrate.connect(_sync_roles_after_migrate, dispatch_uid="accounts.sync_roles")


def _sync_roles_after_migrate(sender, using="default", apps=apps, **kwargs) -> None:
    """Re-apply the role mapping once per `migrate`, after every app created its permissions.

    post_migrate is sent once per app, in INSTALLED_APPS order, and each app's permissions are
    created by its own send; so only the last send sees them all.
    """
    from django.apps import apps as global_apps

    last = [config for config in global_apps.get_app_configs() if config.models_module][-1]
    if sender.label != last.label:
        return
    from accounts.services import roles_apply

    roles_apply(
        group_model=apps.get_model("auth", "Group"),
        permission_model=apps.get_model("auth", "Permission"),
        strict=False,
        using=using,
    )
