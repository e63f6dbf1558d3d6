from django.apps import AppConfig


class ErpbridgeConfig(AppConfig):
    """The project package as an app: system checks, management commands, shared templates."""

    name = "erpbridge"
    verbose_name = "erpbridge"

    def ready(self) -> None:
        from django.contrib import admin

        from erpbridge import checks  # noqa: F401  (registers the system checks)
        from erpbridge.security import ThrottledAdminAuthenticationForm

        # The admin's sign-in page is throttled like the site's.
        admin.site.login_form = ThrottledAdminAuthenticationForm
