"""Writes for roles and users (HackSoft style: `<entity>_<action>(*, …)`)."""

from dataclasses import dataclass, field

from django.db import models, transaction

from accounts.roles import ROLE_PERMISSIONS


class UnknownPermissionError(Exception):
    """The role mapping names a permission that does not exist."""


@dataclass
class RolesReport:
    created: list[str] = field(default_factory=list)
    missing: dict[str, list[str]] = field(default_factory=dict)


def roles_apply(
    *,
    group_model,
    permission_model,
    role_permissions: dict[str, frozenset[str]] = ROLE_PERMISSIONS,
    strict: bool = True,
    using: str = "default",
) -> RolesReport:
    """Make each role's group hold exactly its mapped permissions.

    Takes the model classes so a migration can pass its historical models. With `strict`,
    a permission name that matches nothing raises before anything is written; otherwise it
    is skipped and reported (a later app's migration may not have created it yet).
    """
    report = RolesReport()
    resolved: dict[str, list] = {}
    for role, names in role_permissions.items():
        found = _permissions(permission_model, names, using)
        missing = sorted(names - {f"{p.content_type.app_label}.{p.codename}" for p in found})
        if missing:
            report.missing[role] = missing
        resolved[role] = found
    if strict and report.missing:
        detail = "; ".join(f"{role}: {', '.join(names)}" for role, names in report.missing.items())
        raise UnknownPermissionError(f"Role mapping names unknown permissions ({detail}).")
    with transaction.atomic(using=using):
        for role, permissions in resolved.items():
            group, created = group_model.objects.using(using).get_or_create(name=role)
            if created:
                report.created.append(role)
            group.permissions.set(permissions)
    return report


def roles_sync(*, strict: bool = True, using: str = "default") -> RolesReport:
    from django.contrib.auth.models import Group, Permission

    return roles_apply(group_model=Group, permission_model=Permission, strict=strict, using=using)


def _permissions(permission_model, names: frozenset[str], using: str) -> list:
    query = models.Q()
    for name in names:
        app_label, _, codename = name.partition(".")
        query |= models.Q(content_type__app_label=app_label, codename=codename)
    if not names:
        return []
    return list(permission_model.objects.using(using).filter(query).select_related("content_type"))
