"""The exception queue: a reason chip sorted by amount reads its keyset page from an index."""

from django.db import migrations, models


def refresh_sqlite_statistics(apps, schema_editor):
    """SQLite plans with the statistics ANALYZE left in sqlite_stat1. A database analyzed
    before this index existed would hold statistics for every index of the table but this
    one, and the planner then prefers the unknown index even where it has to sort 100,000
    rows; analyzing the table again keeps the statistics whole. (Never analyzed: nothing to
    keep whole, and ANALYZE of a fresh, empty table would only mislead later.)"""
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
        if cur.fetchone() is not None:
            cur.execute("ANALYZE sync_exceptionitem")


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0004_queue_indexes_and_digest"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="exceptionitem",
            index=models.Index(
                fields=["status", "reason_code", "amount"], name="sync_item_reason_amount"
            ),
        ),
        migrations.RunPython(refresh_sqlite_statistics, migrations.RunPython.noop),
    ]
