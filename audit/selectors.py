"""Reads of the audit log: the filtered list and its CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db.models import QuerySet

from audit.models import AuditEntry

CSV_COLUMNS = (
    "at",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
    "note",
    "source",
    "request_id",
    "ip",
)
# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def audit_entries(
    *,
    actor: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    source: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.all()
    if actor:
        entries = entries.filter(actor_label=actor)
    if action:
        entries = entries.filter(action=action)
    if object_type:
        entries = entries.filter(object_type=object_type)
    if object_id:
        entries = entries.filter(object_id=object_id)
    if source:
        entries = entries.filter(source=source)
    if since is not None:
        entries = entries.filter(at__gte=since)
    if until is not None:
        entries = entries.filter(at__lt=until)
    return entries


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        text = value.isoformat()
    elif isinstance(value, dict | list):
        import json

        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def audit_csv_lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    """The CSV export, line by line (streamed: the log can be long)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    rows = entries.iterator(chunk_size=2000) if isinstance(entries, QuerySet) else entries
    for entry in rows:
        writer.writerow([_cell(getattr(entry, name)) for name in CSV_COLUMNS])
        yield flush()
