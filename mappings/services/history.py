"""History writes: one MappingChange per created, updated or deleted row."""

from __future__ import annotations

from django.utils import timezone

from mappings.models import MappingChange
from mappings.specs import TableSpec


def change_row(
    *,
    spec: TableSpec,
    connection_id: int,
    row_id: int,
    action: str,
    before: dict[str, str] | None,
    after: dict[str, str] | None,
    user,
    source: str,
    upload=None,
    at=None,
) -> MappingChange:
    """An unsaved history row (callers save one or bulk_create many)."""
    current = after if after is not None else before
    return MappingChange(
        connection_id=connection_id,
        table=spec.name,
        row_id=row_id,
        key={name: current[name] for name in spec.key},
        action=action,
        before=before,
        after=after,
        user=user if getattr(user, "pk", None) else None,
        source=source,
        upload=upload,
        at=at or timezone.now(),
    )
