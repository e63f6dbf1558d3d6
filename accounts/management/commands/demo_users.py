from django.core.management.base import BaseCommand

from accounts.demo import demo_users_ensure


class Command(BaseCommand):
    help = "Create one demo user per role with a new random password, and print them."

    def handle(self, *args, **options):
        users = demo_users_ensure()
        self.stdout.write("Demo users (passwords are new on every run):")
        for user in users:
            self.stdout.write(
                f"  {user.role:<18} username: {user.username:<18} password: {user.password}"
            )
