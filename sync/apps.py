from django.apps import AppConfig


class SyncConfig(AppConfig):
    """The sync engine: connections, bindings, changes, runs, jobs, webhooks, reconciliation."""

    name = "sync"

    def ready(self) -> None:
        from mappings import events
        from sync.jobs import on_mapping_added

        events.on_mapping_added(on_mapping_added)
