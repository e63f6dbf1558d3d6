"""Fast inserts and updates for uploads: values adapted once per field, then COPY
(PostgreSQL) or `executemany` (SQLite, and updates).

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


def _adapter(field: models.Field) -> Callable[[Any], Any] | None:
    """How a value of this field goes to the database driver; None: as it is."""
    ops = db.ops
    if isinstance(field, models.JSONField):
        return lambda v: None if v is None else ops.adapt_json_value(v, field.encoder)
    if isinstance(field, models.DateTimeField):
        return _same_value_once(ops.adapt_datetimefield_value)
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    return None


def _same_value_once(adapt: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """An adapter that reuses its last answer for the very same object: every row of an
    upload carries one `now`, and adapting it again each row was measurable."""
    last: list[Any] = [object(), None]

    def adapted(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, adapt(value)
        return last[1]

    return adapted


def _columns(model, names: Sequence[str]) -> tuple[list[str], list[Callable | None]]:
    fields = [model._meta.get_field(name) for name in names]
    return [f.column for f in fields], [_adapter(f) for f in fields]


def _batches(rows: Iterable[Sequence[Any]], adapters: list[Callable | None]):
    # Only the columns that need it are adapted (most are text going through unchanged).
    adapted = [(at, adapt) for at, adapt in enumerate(adapters) if adapt is not None]
    width = len(adapters)
    batch = []
    for row in rows:
        values = list(row)
        if len(values) != width:
            raise ValueError(f"a row has {len(values)} values for {width} columns")
        for at, adapt in adapted:
            values[at] = adapt(values[at])
        batch.append(values)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def insert_rows(model, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    columns, adapters = _columns(model, names)
    quote = db.ops.quote_name
    table = quote(model._meta.db_table)
    column_list = ", ".join(quote(c) for c in columns)
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            # COPY streams the rows in one statement; psycopg formats them in C. An
            # executemany sent one INSERT per row and took most of a 100,000-row apply.
            with cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                for batch in _batches(rows, adapters):
                    for row in batch:
                        copy.write_row(row)
            return
        sql = (
            f"INSERT INTO {table} ({column_list}) "  # noqa: S608 - names from our models
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        for batch in _batches(rows, adapters):
            cursor.executemany(sql, batch)


def update_rows(model, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """rows: the values of `names`, then the primary key."""
    columns, adapters = _columns(model, names)
    quote = db.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            # COPY into a scratch table shaped like the real one, then one UPDATE ... FROM.
            scratch = quote(f"upload_{model._meta.db_table}")
            column_list = ", ".join(quote(c) for c in columns)
            cursor.execute(f"DROP TABLE IF EXISTS {scratch}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {scratch} AS "  # noqa: S608 - names from our models
                f"SELECT {column_list}, {pk} FROM {table} WITH NO DATA"
            )
            with cursor.cursor.copy(f"COPY {scratch} ({column_list}, {pk}) FROM STDIN") as copy:
                for batch in _batches(rows, [*adapters, None]):
                    for row in batch:
                        copy.write_row(row)
            assignments = ", ".join(f"{quote(c)} = u.{quote(c)}" for c in columns)
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM {scratch} AS u "  # noqa: S608
                f"WHERE {table}.{pk} = u.{pk}"
            )
            cursor.execute(f"DROP TABLE {scratch}")
            return
        sql = (
            f"UPDATE {table} SET "  # noqa: S608 - names from our models
            + ", ".join(f"{quote(c)} = %s" for c in columns)
            + f" WHERE {pk} = %s"
        )
        for batch in _batches(rows, [*adapters, None]):
            cursor.executemany(sql, batch)
