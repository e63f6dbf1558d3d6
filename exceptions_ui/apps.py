from django.apps import AppConfig


class ExceptionsUiConfig(AppConfig):
    """The controller's exception queue and the project managers' reports (views only)."""

    name = "exceptions_ui"
    verbose_name = "Exception queue"
