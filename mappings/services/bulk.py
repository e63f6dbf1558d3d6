"""Fast inserts and updates for uploads: `executemany` with values adapted once per field.

Django's bulk_create/bulk_update build a model instance and prepare every field of every row
through the ORM; for 100,000 rows plus their history that alone took several times the
20-second budget. Here each field's database adapter is chosen once and rows go out as plain
tuples in batches. Only used inside the upload's transaction, on tables this app owns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection as db
from django.db import models

BATCH = 5000


def _adapter(field: models.Field) -> Callable[[Any], Any]:
    ops = db.ops
    if isinstance(field, models.JSONField):
        return lambda v: None if v is None else ops.adapt_json_value(v, field.encoder)
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    return lambda v: v


def _columns(model, names: Sequence[str]) -> tuple[list[str], list[Callable]]:
    fields = [model._meta.get_field(name) for name in names]
    return [f.column for f in fields], [_adapter(f) for f in fields]


def _batches(rows: Iterable[Sequence[Any]], adapters: list[Callable]):
    batch = []
    for row in rows:
        batch.append([adapt(value) for adapt, value in zip(adapters, row, strict=True)])
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def insert_rows(model, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    columns, adapters = _columns(model, names)
    quote = db.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608 - names from our models
        f"({', '.join(quote(c) for c in columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    )
    with db.cursor() as cursor:
        for batch in _batches(rows, adapters):
            cursor.executemany(sql, batch)


def update_rows(model, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """rows: the values of `names`, then the primary key."""
    columns, adapters = _columns(model, names)
    quote = db.ops.quote_name
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET "  # noqa: S608 - names from our models
        + ", ".join(f"{quote(c)} = %s" for c in columns)
        + f" WHERE {quote(model._meta.pk.column)} = %s"
    )
    with db.cursor() as cursor:
        for batch in _batches(rows, [*adapters, lambda v: v]):
            cursor.executemany(sql, batch)
