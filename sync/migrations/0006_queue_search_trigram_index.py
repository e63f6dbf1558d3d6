"""The exception queue's free-text search on PostgreSQL: a trigram index (pg_trgm) over the
searched columns, so a search reads the matching rows instead of every row of the table.

The expression must stay exactly ``sync.queue_selectors.SEARCH_TEXT_SQL``. pg_trgm is a
trusted extension (PostgreSQL 13+): the database owner may create it. Where that is refused,
the search still works, reading the table as before; SQLite has no such index (see the
README)."""

import logging

from django.db import migrations, transaction

logger = logging.getLogger(__name__)

SEARCH_TEXT_SQL = (
    "UPPER(document_number || ' ' || project_name || ' ' || vendor_name || ' ' || procore_id"
    " || ' ' || procore_project_id || ' ' || vendor || ' ' || explanation)"
)
INDEX = "sync_item_search_trgm"


def create_index(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as exc:  # noqa: BLE001 - no privilege: search without the index
        logger.warning("pg_trgm is not available (%s); the queue search reads the table.", exc)
        return
    with connection.cursor() as cur:
        cur.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON sync_exceptionitem "  # noqa: S608
            f"USING gin (({SEARCH_TEXT_SQL}) gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cur:
            cur.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0005_queue_reason_amount_index"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
