"""System checks that `manage.py check` (and every command) runs."""

from django.conf import settings
from django.core.checks import Warning, register

from erpbridge.config import INSECURE_DEV_ENCRYPTION_KEY, INSECURE_DEV_SECRET_KEY


@register()
def insecure_development_keys(app_configs, **kwargs):
    warnings = []
    if settings.SECRET_KEY == INSECURE_DEV_SECRET_KEY:
        warnings.append(
            Warning(
                "SECRET_KEY is unset, so the built-in development key is in use.",
                hint="Set SECRET_KEY before exposing this server to anyone.",
                id="erpbridge.W001",
            )
        )
    if INSECURE_DEV_ENCRYPTION_KEY in settings.ERPBRIDGE_ENCRYPTION_KEYS:
        warnings.append(
            Warning(
                "ERPBRIDGE_ENCRYPTION_KEY is unset, so stored credentials are encrypted with "
                "the built-in development key.",
                hint="Set ERPBRIDGE_ENCRYPTION_KEY before storing real credentials.",
                id="erpbridge.W002",
            )
        )
    return warnings
