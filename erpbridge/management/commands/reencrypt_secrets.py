"""Re-encrypt every EncryptedTextField value with the newest ERPBRIDGE_ENCRYPTION_KEY."""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from erpbridge.fields import EncryptedTextField


class Command(BaseCommand):
    help = (
        "Re-encrypt stored secrets with the first key in ERPBRIDGE_ENCRYPTION_KEY. "
        "Run after putting a new key in front; then the old key can be removed."
    )

    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            names = [
                f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)
            ]
            if not names:
                continue
            count = 0
            manager = model._base_manager
            with transaction.atomic():
                for row in manager.values("pk", *names).iterator(chunk_size=500):
                    pk = row.pop("pk")
                    # Reading decrypted with any key; writing encrypts with the newest one.
                    manager.filter(pk=pk).update(**row)
                    count += 1
            self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted")
            total += count
        self.stdout.write(self.style.SUCCESS(f"{total} rows re-encrypted"))
