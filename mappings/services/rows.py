"""Writes of single mapping rows (admin, exception queue, confirmed suggestions).

Every write validates the row in plain words (ValidationError naming the column), records a
MappingChange and, for creates and updates, tells the engine through `mappings.events`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audit.services import audit_record
from mappings import events
from mappings.models import MappingChange
from mappings.services.history import change_row
from mappings.specs import TABLES, TableSpec, to_text
from mappings.validation import ReferenceIndex, clean_cell, validate_row
from sync.models import Connection

Source = MappingChange.Source


def _as_row(spec: TableSpec, values: dict[str, Any]) -> dict[str, str]:
    row = {}
    for column in spec.columns:
        value = values.get(column.name)
        if column.kind == "list" and isinstance(value, list | tuple):
            value = to_text(column, value)
        if column.kind == "date" and isinstance(value, date):
            value = value.isoformat()
        row[column.name] = clean_cell(value)
        if column.kind == "currency":
            row[column.name] = row[column.name].upper()
    return row


def _require_erp(connection: Connection) -> None:
    if not connection.is_erp:
        raise ValidationError(
            f"{connection.name} is a {connection.get_kind_display()} connection; mappings "
            "belong to an ERP connection (NetSuite or QuickBooks)."
        )


def _validate(spec, connection, row, check_references: bool) -> None:
    index = ReferenceIndex.load(connection) if check_references else None
    errors = validate_row(spec, row, index)
    if errors:
        raise ValidationError(errors)


def _duplicate(spec: TableSpec, row: dict[str, str]) -> ValidationError:
    what = ", ".join(f"{name} {row[name]!r}" for name in spec.key if row[name])
    return ValidationError(f"A {spec.label.lower()} row for {what} already exists.")


def mapping_create(
    *,
    table: str,
    connection: Connection,
    values: dict[str, Any],
    user=None,
    source: str = Source.ADMIN,
    check_references: bool = True,
):
    spec = TABLES[table]
    _require_erp(connection)
    row = _as_row(spec, values)
    _validate(spec, connection, row, check_references)
    key_filter = spec.model_values({name: row[name] for name in spec.key})
    key_filter = {k: v for k, v in key_filter.items() if k in spec.key}
    if spec.model.objects.filter(connection=connection, **key_filter).exists():
        raise _duplicate(spec, row)
    extra = {"notes": values.get("notes", "")} if "notes" in values else {}
    try:
        with transaction.atomic():
            obj = spec.model.objects.create(
                connection=connection, **spec.model_values(row), **extra
            )
            change_row(
                spec=spec,
                connection_id=connection.pk,
                row_id=obj.pk,
                action=MappingChange.Action.CREATE,
                before=None,
                after=row,
                user=user,
                source=source,
            ).save()
            audit_record(actor=user, action="mapping.create", target=obj, after=row)
            events.mapping_added(connection.pk, spec.name, [events.event_key(spec.name, row)])
    except IntegrityError as exc:  # a concurrent create of the same key
        raise _duplicate(spec, row) from exc
    return obj


def mapping_update(
    *,
    obj,
    values: dict[str, Any],
    user=None,
    source: str = Source.ADMIN,
    check_references: bool = True,
):
    from mappings.specs import TABLE_OF_MODEL

    spec = TABLE_OF_MODEL[type(obj)]
    before = spec.row_of(type(obj).objects.get(pk=obj.pk))
    row = {**before, **_as_row(spec, {**before, **values})}
    _validate(spec, obj.connection, row, check_references)
    notes_changed = "notes" in values and values["notes"] != obj.notes
    notes_before = obj.notes
    if row == before and not notes_changed:
        return obj
    if spec.key_of(row) != spec.key_of(before):
        key_filter = {k: v for k, v in spec.model_values(row).items() if k in spec.key}
        clash = spec.model.objects.filter(connection_id=obj.connection_id, **key_filter)
        if clash.exclude(pk=obj.pk).exists():
            raise _duplicate(spec, row)
    with transaction.atomic():
        for name, value in spec.model_values(row).items():
            setattr(obj, name, value)
        if "notes" in values:
            obj.notes = values["notes"]
        obj.save()
        if row != before:
            change_row(
                spec=spec,
                connection_id=obj.connection_id,
                row_id=obj.pk,
                action=MappingChange.Action.UPDATE,
                before=before,
                after=row,
                user=user,
                source=source,
            ).save()
            events.mapping_added(obj.connection_id, spec.name, [events.event_key(spec.name, row)])
        audit_record(
            actor=user,
            action="mapping.update",
            target=obj,
            before={**before, "notes": notes_before} if notes_changed else before,
            after={**row, "notes": obj.notes} if notes_changed else row,
        )
    return obj


def mapping_delete(*, obj, user=None, source: str = Source.ADMIN, upload=None) -> None:
    from mappings.specs import TABLE_OF_MODEL

    spec = TABLE_OF_MODEL[type(obj)]
    with transaction.atomic():
        change_row(
            spec=spec,
            connection_id=obj.connection_id,
            row_id=obj.pk,
            action=MappingChange.Action.DELETE,
            before=spec.row_of(obj),
            after=None,
            user=user,
            source=source,
            upload=upload,
        ).save()
        audit_record(actor=user, action="mapping.delete", target=obj, before=spec.row_of(obj))
        obj.delete()


# The exception queue's inline fixes: one function per table, keyword-only.


def project_mapping_create(
    *,
    connection: Connection,
    procore_project_id: str,
    erp_customer_id: str,
    currency: str,
    erp_job_id: str | None = None,
    subsidiary_id: str | None = None,
    class_id: str | None = None,
    department_id: str | None = None,
    location_id: str | None = None,
    user=None,
    source: str = Source.INLINE,
):
    return mapping_create(
        table="project",
        connection=connection,
        user=user,
        source=source,
        values=locals_without(locals()),
    )


def cost_code_mapping_create(
    *,
    connection: Connection,
    cost_code: str,
    cost_type: str | None,
    subsidiary_id: str | None,
    item_id: str | None = None,
    account_id: str | None = None,
    class_id: str | None = None,
    procore_project_id: str | None = None,
    effective_from: date | None = None,
    user=None,
    source: str = Source.INLINE,
):
    return mapping_create(
        table="cost_code",
        connection=connection,
        user=user,
        source=source,
        values=locals_without(locals()),
    )


def vendor_mapping_create(
    *,
    connection: Connection,
    procore_vendor_id: str,
    erp_vendor_id: str,
    subsidiary_ids: list[str] | tuple[str, ...] = (),
    user=None,
    source: str = Source.INLINE,
):
    return mapping_create(
        table="vendor",
        connection=connection,
        user=user,
        source=source,
        values=locals_without(locals()),
    )


def account_role_mapping_create(
    *,
    connection: Connection,
    role: str,
    account_id: str,
    subsidiary_id: str | None = None,
    effective_from: date | None = None,
    user=None,
    source: str = Source.INLINE,
):
    return mapping_create(
        table="account_role",
        connection=connection,
        user=user,
        source=source,
        values=locals_without(locals()),
    )


def currency_mapping_create(
    *,
    connection: Connection,
    currency: str,
    erp_currency_id: str,
    user=None,
    source: str = Source.INLINE,
):
    return mapping_create(
        table="currency",
        connection=connection,
        user=user,
        source=source,
        values=locals_without(locals()),
    )


def locals_without(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: ("" if v is None else v)
        for k, v in values.items()
        if k not in ("connection", "user", "source")
    }


def vendor_suggestions_confirm(
    *, connection: Connection, pairs: list[tuple[str, str]], user=None
) -> list:
    """Create vendor mappings for confirmed (procore_vendor_id, erp_vendor_id) suggestions,
    with the ERP vendor's subsidiaries from the reference cache; all or nothing."""
    from mappings.models import ReferenceRecord

    subsidiaries = dict(
        ReferenceRecord.objects.filter(
            connection=connection, kind="vendor", remote_id__in=[erp for _p, erp in pairs]
        ).values_list("remote_id", "subsidiary_ids")
    )
    created = []
    with transaction.atomic():
        for procore_id, erp_id in pairs:
            created.append(
                vendor_mapping_create(
                    connection=connection,
                    procore_vendor_id=procore_id,
                    erp_vendor_id=erp_id,
                    subsidiary_ids=subsidiaries.get(erp_id) or [],
                    user=user,
                    source=Source.SUGGESTION,
                )
            )
    return created
