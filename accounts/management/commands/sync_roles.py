from django.core.management.base import BaseCommand, CommandError

from accounts.services import UnknownPermissionError, roles_sync


class Command(BaseCommand):
    help = "Create the role groups and give each exactly the permissions in accounts/roles.py."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")

    def handle(self, *args, database, **options):
        try:
            report = roles_sync(strict=True, using=database)
        except UnknownPermissionError as exc:
            raise CommandError(str(exc)) from None
        for role in report.created:
            self.stdout.write(f"created group {role}")
        self.stdout.write(self.style.SUCCESS("roles in sync"))
