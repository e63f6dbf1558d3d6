import pytest
from django.contrib.auth import authenticate

from accounts import roles
from accounts.demo import demo_users_ensure

pytestmark = pytest.mark.django_db


def test_one_user_per_role_who_can_sign_in():
    users = demo_users_ensure()

    assert {u.role for u in users} == set(roles.ROLE_PERMISSIONS)
    for demo in users:
        user = authenticate(username=demo.username, password=demo.password)
        assert user is not None
        assert list(user.groups.values_list("name", flat=True)) == [demo.role]
        assert user.is_staff is (demo.role == roles.INTEGRATION_ADMIN)
        assert not user.is_superuser


def test_running_again_resets_passwords_without_duplicating_users():
    first = {u.username: u.password for u in demo_users_ensure()}
    second = {u.username: u.password for u in demo_users_ensure()}

    assert first.keys() == second.keys()
    assert all(first[name] != second[name] for name in first)
    assert all(authenticate(username=n, password=p) for n, p in second.items())
