"""Demo users, one per role. Used by `make demo` only."""

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from accounts import roles


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str


DEMO_USERNAMES = {
    roles.CONTROLLER: "controller",
    roles.PROJECT_MANAGER: "pm",
    roles.INTEGRATION_ADMIN: "integration-admin",
}


@transaction.atomic
def demo_users_ensure() -> list[DemoUser]:
    """Create (or reset) one user per role with a fresh random password."""
    user_model = get_user_model()
    created = []
    for role, username in DEMO_USERNAMES.items():
        password = secrets.token_urlsafe(12)
        user, _ = user_model.objects.get_or_create(username=username)
        user.set_password(password)
        user.is_active = True
        user.is_staff = role in roles.STAFF_ROLES
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        created.append(DemoUser(username, password, role))
    return created
