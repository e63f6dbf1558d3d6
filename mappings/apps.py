from django.apps import AppConfig


class MappingsConfig(AppConfig):
    """Mapping tables (project, cost code, vendor, currency, account …) and their import."""

    name = "mappings"
