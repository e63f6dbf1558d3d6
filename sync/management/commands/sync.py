"""``manage.py sync --connection NAME --object commitments [--record PROCORE_ID]``."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from sync.flows import FLOWS
from sync.models import Connection, Outcome
from sync.services.batches import sync_flow


class Command(BaseCommand):
    help = "Run one sync flow for an ERP connection (or one Procore record) and print the outcome."

    def add_arguments(self, parser):
        parser.add_argument("--connection", required=True, help="the ERP connection's name")
        parser.add_argument("--object", required=True, choices=sorted(FLOWS))
        parser.add_argument("--record", help="one Procore record id")

    def handle(self, *args, **options):
        try:
            connection = Connection.objects.get(name=options["connection"])
        except Connection.DoesNotExist:
            raise CommandError(f"no connection named {options['connection']!r}") from None
        # A whole flow: batches in this process, each with the ERP's concurrency in flight.
        run = sync_flow(
            connection_id=connection.pk,
            object_type=options["object"],
            procore_id=options.get("record"),
            trigger="command",
            inline=True,
        )
        counts = " ".join(f"{o.value}={getattr(run, o.value)}" for o in Outcome)
        self.stdout.write(
            f"run {run.pk} {run.object_type} on {connection.name}: {run.status} "
            f"total={run.total} {counts} api_calls={run.api_calls}"
        )
        if run.error:
            self.stdout.write(f"  {run.error}")
        if run.status == "failed":
            raise CommandError("the run failed")
