"""Reads: table rows for export, history, coverage and vendor match suggestions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher

from django.db.models import QuerySet

from mappings import files
from mappings.models import (
    CostCodeMapping,
    MappingChange,
    ProjectMapping,
    ReferenceRecord,
    VendorMapping,
)
from mappings.specs import TABLES
from sync.models import Connection, Kind


def erp_connections() -> QuerySet[Connection]:
    return Connection.objects.filter(kind__in=[Kind.NETSUITE, Kind.QUICKBOOKS]).select_related(
        "procore_connection"
    )


def table_rows(*, connection: Connection, table: str) -> Iterator[list[str]]:
    spec = TABLES[table]
    queryset = spec.model.objects.filter(connection=connection).order_by(*spec.key, "pk")
    for obj in queryset.iterator(chunk_size=2000):
        row = spec.row_of(obj)
        yield [row[name] for name in spec.column_names]


def table_export(*, connection: Connection, table: str, file_format: str) -> tuple[str, bytes]:
    """(filename, bytes) of the table as CSV or XLSX; re-imports with no changes."""
    spec = TABLES[table]
    rows = table_rows(connection=connection, table=table)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", connection.name).strip("-").lower() or "connection"
    name = f"{slug}-{spec.name}-mappings.{file_format}"
    if file_format == "xlsx":
        return name, files.write_xlsx(list(spec.column_names), rows, spec.label)
    return name, files.write_csv(list(spec.column_names), rows)


def table_template(*, table: str, file_format: str) -> tuple[str, bytes]:
    spec = TABLES[table]
    name = f"{spec.name}-mappings-template.{file_format}"
    if file_format == "xlsx":
        return name, files.write_xlsx(list(spec.column_names), [], spec.label)
    return name, files.write_csv(list(spec.column_names), [])


def history(
    *, connection: Connection | None = None, table: str | None = None, row_id: int | None = None
) -> QuerySet[MappingChange]:
    changes = MappingChange.objects.select_related("user", "upload", "connection")
    if connection is not None:
        changes = changes.filter(connection=connection)
    if table:
        changes = changes.filter(table=table)
    if row_id is not None:
        changes = changes.filter(row_id=row_id)
    return changes


# Coverage


@dataclass(frozen=True)
class Gap:
    kind: str  # project | cost_code | vendor
    remote_id: str
    code: str
    name: str
    documents: int


def coverage(*, connection: Connection) -> dict[str, list[Gap]]:
    """Procore projects, vendors and cost codes in use (on at least one commitment, per the
    last Procore reference refresh) that this ERP connection has no mapping for; most-used
    first. A cost code counts as mapped when any row (company or project level) names it."""
    gaps: dict[str, list[Gap]] = {"project": [], "vendor": [], "cost_code": []}
    if not connection.procore_connection_id:
        return gaps
    mapped = {
        "project": set(
            ProjectMapping.objects.filter(connection=connection).values_list(
                "procore_project_id", flat=True
            )
        ),
        "vendor": set(
            VendorMapping.objects.filter(connection=connection).values_list(
                "procore_vendor_id", flat=True
            )
        ),
        "cost_code": set(
            CostCodeMapping.objects.filter(connection=connection).values_list(
                "cost_code", flat=True
            )
        ),
    }
    records = ReferenceRecord.objects.filter(
        connection_id=connection.procore_connection_id,
        kind__in=list(gaps),
        document_count__gt=0,
    ).order_by("-document_count", "code", "name")
    for rec in records:
        key = rec.code if rec.kind == "cost_code" else rec.remote_id
        if key not in mapped[rec.kind]:
            gaps[rec.kind].append(
                Gap(rec.kind, rec.remote_id, rec.code, rec.name, rec.document_count)
            )
    return gaps


# Vendor match suggestions

_SUFFIXES = re.compile(
    r"\b(llc|l\.l\.c|inc|incorporated|corp|corporation|co|company|ltd|limited|lp|llp|plc|"
    r"pllc|the)\b\.?"
)


def normalise_name(name: str) -> str:
    text = name.lower().replace("&", " and ")
    text = _SUFFIXES.sub(" ", text)
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


@dataclass(frozen=True)
class VendorSuggestion:
    procore_vendor_id: str
    procore_name: str
    erp_vendor_id: str
    erp_name: str
    reason: str  # "tax id" | "same name" | "close name"
    score: float
    subsidiary_ids: tuple[str, ...]
    documents: int


CLOSE_NAME = 0.85


def vendor_suggestions(*, connection: Connection) -> list[VendorSuggestion]:
    """For every active Procore vendor without a mapping: the best ERP vendor candidate by
    tax id, then exact normalised name, then close name (similarity ≥ 0.85)."""
    if not connection.procore_connection_id:
        return []
    mapped = set(
        VendorMapping.objects.filter(connection=connection).values_list(
            "procore_vendor_id", flat=True
        )
    )
    erp = list(ReferenceRecord.objects.filter(connection=connection, kind="vendor", active=True))
    by_tax = {_digits(v.tax_id): v for v in erp if len(_digits(v.tax_id)) >= 6}
    by_name: dict[str, ReferenceRecord] = {}
    for v in erp:
        by_name.setdefault(normalise_name(v.name), v)
    suggestions = []
    procore = ReferenceRecord.objects.filter(
        connection_id=connection.procore_connection_id, kind="vendor", active=True
    ).order_by("-document_count", "name")
    for pv in procore:
        if pv.remote_id in mapped:
            continue
        match, reason, score = None, "", 0.0
        tax = _digits(pv.tax_id)
        if len(tax) >= 6 and tax in by_tax:
            match, reason, score = by_tax[tax], "tax id", 1.0
        elif (norm := normalise_name(pv.name)) and norm in by_name:
            match, reason, score = by_name[norm], "same name", 1.0
        elif norm:
            for name, candidate in by_name.items():
                ratio = SequenceMatcher(None, norm, name).ratio()
                if ratio >= CLOSE_NAME and ratio > score:
                    match, reason, score = candidate, "close name", ratio
        if match is not None:
            suggestions.append(
                VendorSuggestion(
                    procore_vendor_id=pv.remote_id,
                    procore_name=pv.name,
                    erp_vendor_id=match.remote_id,
                    erp_name=match.name,
                    reason=reason,
                    score=round(score, 2),
                    subsidiary_ids=tuple(match.subsidiary_ids),
                    documents=pv.document_count,
                )
            )
    return suggestions
