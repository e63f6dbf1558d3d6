from django.core.management.base import BaseCommand

from sync.schedules import schedules_ensure


class Command(BaseCommand):
    help = "Create or update the polling and nightly reconciliation schedules (idempotent)."

    def handle(self, *args, **options):
        for name in schedules_ensure():
            self.stdout.write(f"  schedule {name}")
