"""One UPDATE statement run for many rows (``executemany``), for the writer's hot path.

The ORM builds and compiles a query per ``.update()``, and ``bulk_update`` a CASE per field
and row: settling a group of written changes that way was the largest share of a sync run's
CPU after the HTTP calls. Here the statement is built once from the model's own field
definitions and each row's values are prepared by those fields (JSON, aware datetimes), so
it behaves the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from django.db import connections, models


def update_many(
    model: type[models.Model],
    *,
    fields: tuple[str, ...],
    where: tuple[str, ...],
    rows: list[tuple[Any, ...]],
) -> int:
    """``UPDATE <table> SET f1 = %s, … WHERE w1 = %s AND …`` once per row; each row gives the
    ``fields`` values then the ``where`` values. Returns the rows updated in all."""
    if not rows:
        return 0
    db = connections[model.objects.db]
    quote = db.ops.quote_name
    columns = [model._meta.get_field(name) for name in (*fields, *where)]

    def names(part: list[models.Field]) -> list[str]:
        return [f"{quote(field.column)} = %s" for field in part]

    assignments = ", ".join(names(columns[: len(fields)]))
    conditions = " AND ".join(names(columns[len(fields) :]))
    # Identifiers come from the model's own meta, quoted; every value is a parameter.
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {conditions}"  # noqa: S608
    params = [
        [field.get_db_prep_save(value, db) for field, value in zip(columns, row, strict=True)]
        for row in rows
    ]
    with db.cursor() as cursor:
        cursor.executemany(sql, params)
        return cursor.rowcount
