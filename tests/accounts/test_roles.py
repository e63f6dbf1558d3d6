import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command

from accounts import roles
from accounts.services import UnknownPermissionError, roles_apply, roles_sync

pytestmark = pytest.mark.django_db

MAPPING_MODELS = ["projectmapping", "costcodemapping", "vendormapping"]
MAPPING_MODELS += ["accountrolemapping", "currencymapping"]
MAPPINGS_INLINE = {f"mappings.{a}_{m}" for m in MAPPING_MODELS for a in ("add", "view")}
MAPPINGS_INLINE |= {"mappings.view_mappingchange", "mappings.view_referencerecord"}
MAPPINGS_ALL = {f"mappings.{a}_{m}" for m in MAPPING_MODELS for a in ("change", "delete")}
MAPPINGS_ALL |= MAPPINGS_INLINE | {"mappings.view_mappingupload"}

SYNC_READ = {
    "sync.view_syncrun",
    "sync.view_syncrunrecord",
    "sync.view_binding",
    "sync.view_change",
}
EXPECTED = {
    "Controller": {
        "accounts.work_exception_queue",
        *MAPPINGS_INLINE,
        *SYNC_READ,
        "sync.view_exceptionitem",
        "sync.change_exceptionitem",
        "sync.view_exceptionevent",
    },
    "Project manager": {
        "accounts.view_reports",
        "sync.view_syncrun",
        "sync.view_binding",
        # The reconciliation runs and per-project totals the reports show.
        "reconciliation.view_reconciliationrun",
        "reconciliation.view_projecttotals",
    },
    "Integration admin": {
        "accounts.manage_connections",
        "accounts.manage_mappings",
        "django_q.view_schedule",
        "django_q.add_schedule",
        "django_q.change_schedule",
        "django_q.delete_schedule",
        "django_q.view_success",
        "django_q.view_failure",
        "sync.view_connection",
        "sync.change_connection",
        "sync.connect_connection",
        *MAPPINGS_ALL,
        *SYNC_READ,
        "sync.view_cursor",
        "sync.view_webhookdelivery",
        "reconciliation.view_reconciliationrun",
        "reconciliation.view_projecttotals",
        # Everything a controller can do in the exception queue (issue 8).
        "accounts.work_exception_queue",
        "sync.view_exceptionitem",
        "sync.change_exceptionitem",
        "sync.view_exceptionevent",
        # Which projects each PM follows.
        "accounts.add_projectaccess",
        "accounts.change_projectaccess",
        "accounts.delete_projectaccess",
        "accounts.view_projectaccess",
        # The audit log and API tokens.
        "audit.view_auditentry",
        "api.view_apitoken",
        "api.add_apitoken",
        "api.change_apitoken",
    },
}


def group_permissions(name: str) -> set[str]:
    group = Group.objects.get(name=name)
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def test_migrations_created_exactly_the_three_roles():
    assert set(Group.objects.values_list("name", flat=True)) == set(EXPECTED)


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_each_role_has_exactly_its_permissions(role):
    assert group_permissions(role) == EXPECTED[role]


def test_no_role_can_manage_users_or_groups():
    for role in EXPECTED:
        assert not {p for p in group_permissions(role) if p.startswith("auth.")}


def test_the_mapping_module_is_the_source_the_groups_follow():
    assert {role: set(perms) for role, perms in roles.ROLE_PERMISSIONS.items()} == EXPECTED


def test_members_get_the_permissions(controller, project_manager, integration_admin):
    assert controller.has_perm(roles.WORK_EXCEPTION_QUEUE)
    assert not controller.has_perm(roles.VIEW_REPORTS)
    assert project_manager.has_perm(roles.VIEW_REPORTS)
    assert not project_manager.has_perm(roles.MANAGE_MAPPINGS)
    assert integration_admin.has_perm(roles.MANAGE_CONNECTIONS)
    assert integration_admin.has_perm(roles.WORK_EXCEPTION_QUEUE)


def test_sync_is_idempotent_and_reverts_hand_edits():
    controller = Group.objects.get(name=roles.CONTROLLER)
    controller.permissions.add(Permission.objects.get(codename="delete_user"))
    Group.objects.filter(name=roles.PROJECT_MANAGER).delete()

    first = roles_sync()
    second = roles_sync()

    assert first.created == [roles.PROJECT_MANAGER]
    assert second.created == []
    assert Group.objects.filter(name__in=EXPECTED).count() == 3
    for role, perms in EXPECTED.items():
        assert group_permissions(role) == perms


def test_unknown_permission_in_strict_mode_writes_nothing():
    mapping = {"Controller": frozenset({"accounts.no_such_permission"})}

    with pytest.raises(UnknownPermissionError, match="accounts.no_such_permission"):
        roles_apply(group_model=Group, permission_model=Permission, role_permissions=mapping)

    assert group_permissions("Controller") == EXPECTED["Controller"]


def test_unknown_permission_in_lenient_mode_is_reported_and_skipped():
    mapping = {"Auditor": frozenset({"accounts.view_reports", "accounts.no_such_permission"})}

    report = roles_apply(
        group_model=Group, permission_model=Permission, role_permissions=mapping, strict=False
    )

    assert report.missing == {"Auditor": ["accounts.no_such_permission"]}
    assert group_permissions("Auditor") == {"accounts.view_reports"}


def test_sync_roles_command(monkeypatch):
    out = io.StringIO()
    call_command("sync_roles", stdout=out)
    assert "roles in sync" in out.getvalue()

    monkeypatch.setitem(roles.ROLE_PERMISSIONS, "Controller", frozenset({"x.nope"}))
    with pytest.raises(CommandError, match="x.nope"):
        call_command("sync_roles", stdout=io.StringIO())
