"""Fill the reference cache from a connection's own system, through its connector client.

NetSuite (SuiteQL, one paged query per list): subsidiaries, currencies, accounts, classes,
departments, locations, items, vendors (with every subsidiary they may transact with),
customers, jobs. QuickBooks (query API, inactive rows included): accounts, classes,
departments, items, vendors, customers and sub-customers ("job"). Procore: projects, vendors
(active and inactive), cost types, and the cost codes of every project, keyed by their full
code, with document counts (see `_procore`).

Each kind that was read completely replaces the cached kind (records gone from the system
disappear from the cache); a kind whose read fails keeps its previous copy and the error
propagates, so the job is recorded as failed and can be re-run (the refresh is idempotent).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from mappings.models import ReferenceRecord
from sync.models import Connection, Kind


@dataclass
class Ref:
    remote_id: str
    name: str = ""
    code: str = ""
    subsidiary_ids: list[str] = field(default_factory=list)
    currency: str = ""
    tax_id: str = ""
    active: bool = True
    document_count: int = 0
    raw: dict[str, Any] = field(default_factory=dict)


def _flag(value: Any) -> bool:
    return value in (True, "T", "t", "true", "True", 1)


def _ids(value: Any) -> list[str]:
    """A SuiteQL multi-select ("1, 3") or single id as a list of strings."""
    if value in (None, ""):
        return []
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _netsuite(client) -> Iterable[tuple[str, list[Ref]]]:
    def rows(sql: str) -> list[dict[str, Any]]:
        return list(client.suiteql(sql))

    yield (
        "subsidiary",
        [
            Ref(
                str(r["id"]),
                r.get("name") or "",
                active=not _flag(r.get("isinactive")),
                currency=str(r.get("currency") or ""),
            )
            for r in rows("SELECT id, name, currency, isinactive FROM subsidiary ORDER BY id")
        ],
    )
    yield (
        "currency",
        [
            Ref(
                str(r["id"]),
                r.get("name") or "",
                code=(r.get("symbol") or "").upper(),
                active=not _flag(r.get("isinactive")),
            )
            for r in rows("SELECT id, name, symbol, isinactive FROM currency ORDER BY id")
        ],
    )
    yield (
        "account",
        [
            Ref(
                str(r["id"]),
                r.get("fullname") or "",
                code=r.get("acctnumber") or "",
                subsidiary_ids=_ids(r.get("subsidiary")),
                active=not _flag(r.get("isinactive")),
                raw={"type": r.get("accttype")},
            )
            for r in rows(
                "SELECT id, acctnumber, fullname, accttype, isinactive, subsidiary "
                "FROM account ORDER BY id"
            )
        ],
    )
    for table, kind in (
        ("classification", "class"),
        ("department", "department"),
        ("location", "location"),
    ):
        yield (
            kind,
            [
                Ref(
                    str(r["id"]),
                    r.get("name") or "",
                    subsidiary_ids=_ids(r.get("subsidiary")),
                    active=not _flag(r.get("isinactive")),
                )
                for r in rows(f"SELECT id, name, isinactive, subsidiary FROM {table} ORDER BY id")  # noqa: S608
            ],
        )
    yield (
        "item",
        [
            Ref(
                str(r["id"]),
                r.get("displayname") or r.get("itemid") or "",
                code=r.get("itemid") or "",
                subsidiary_ids=_ids(r.get("subsidiary")),
                active=not _flag(r.get("isinactive")),
            )
            for r in rows(
                "SELECT id, itemid, displayname, isinactive, subsidiary FROM item ORDER BY id"
            )
        ],
    )
    vendor_subs: dict[str, list[str]] = defaultdict(list)
    for r in rows("SELECT id, entity, subsidiary FROM vendorsubsidiaryrelationship ORDER BY id"):
        vendor_subs[str(r["entity"])].append(str(r["subsidiary"]))
    vendors = []
    for r in rows(
        "SELECT id, entityid, companyname, subsidiary, currency, isinactive FROM vendor ORDER BY id"
    ):
        subs = vendor_subs.get(str(r["id"])) or _ids(r.get("subsidiary"))
        vendors.append(
            Ref(
                str(r["id"]),
                r.get("companyname") or r.get("entityid") or "",
                code=r.get("entityid") or "",
                subsidiary_ids=subs,
                active=not _flag(r.get("isinactive")),
            )
        )
    yield "vendor", vendors
    for table in ("customer", "job"):
        yield (
            table,
            [
                Ref(
                    str(r["id"]),
                    r.get("companyname") or r.get("entityid") or "",
                    code=r.get("entityid") or "",
                    subsidiary_ids=_ids(r.get("subsidiary")),
                    active=not _flag(r.get("isinactive")),
                    raw={"parent": r.get("parent")},
                )
                for r in rows(
                    f"SELECT id, entityid, companyname, parent, subsidiary, isinactive "  # noqa: S608
                    f"FROM {table} ORDER BY id"
                )
            ],
        )


def _quickbooks(client) -> Iterable[tuple[str, list[Ref]]]:
    def entities(name: str) -> list[Any]:
        return list(client.iter_entities(name, include_inactive=True))

    yield (
        "account",
        [
            Ref(
                a.id,
                a.fully_qualified_name or a.name,
                code=a.acct_num or "",
                active=a.active,
                currency=a.currency or "",
                raw={"type": a.account_type},
            )
            for a in entities("Account")
        ],
    )
    for entity, kind in (("Class", "class"), ("Department", "department"), ("Item", "item")):
        yield (
            kind,
            [
                Ref(e.id, e.fully_qualified_name or e.name, active=e.active)
                for e in entities(entity)
            ],
        )
    yield (
        "vendor",
        [
            Ref(
                v.id,
                v.name,
                code=v.acct_num or "",
                active=v.active,
                currency=v.currency or "",
                tax_id=str(v.raw.get("TaxIdentifier") or ""),
            )
            for v in entities("Vendor")
        ],
    )
    customers = entities("Customer")
    for kind, wanted in (("customer", False), ("job", True)):
        yield (
            kind,
            [
                Ref(
                    c.id,
                    c.fully_qualified_name or c.name,
                    active=c.active,
                    currency=c.currency or "",
                    raw={"parent": c.parent.value if c.parent else None},
                )
                for c in customers
                if bool(c.job and c.parent) == wanted
            ],
        )


def _procore(client) -> Iterable[tuple[str, list[Ref]]]:
    """Procore's side. Document counts: commitments (subcontracts and purchase orders, every
    status) per project and per vendor, and commitment SOV lines per cost code — what the
    sync would send to the ERP. Cost codes are per project in Procore; the cache keys them by
    full code (what the mapping tables use), listing the projects that have each."""
    projects = list(client.projects())
    per_project: Counter[str] = Counter()
    per_vendor: Counter[str] = Counter()
    per_code: Counter[str] = Counter()
    codes: dict[str, Ref] = {}
    for project in projects:
        if not project.active:
            continue
        code_of: dict[str, str] = {}
        for cc in client.cost_codes(project.id):
            full = cc.full_code or cc.code or ""
            if not full:
                continue
            code_of[cc.id] = full
            ref = codes.setdefault(full, Ref(full, cc.name, code=full, raw={"projects": []}))
            ref.raw["projects"].append(project.id)
        for commitment in client.commitments(project.id):
            per_project[project.id] += 1
            if commitment.vendor_id:
                per_vendor[commitment.vendor_id] += 1
            for line in commitment.lines:
                full = code_of.get(line.cost_code_id or "")
                if full:
                    per_code[full] += 1
    yield (
        "project",
        [
            Ref(
                p.id,
                p.name,
                code=p.project_number or "",
                active=p.active,
                document_count=per_project[p.id],
            )
            for p in projects
        ],
    )
    vendors = [*client.vendors(), *client.vendors(inactive=True)]
    yield (
        "vendor",
        [
            Ref(
                v.id,
                v.name,
                code=v.abbreviated_name or "",
                active=v.is_active,
                tax_id=str(v.raw.get("tax_id") or v.raw.get("tax_number") or ""),
                document_count=per_vendor[v.id],
            )
            for v in {v.id: v for v in vendors}.values()
        ],
    )
    yield "cost_type", [Ref(t.id, t.name, code=t.code or "") for t in client.line_item_types()]
    for full, ref in codes.items():
        ref.document_count = per_code[full]
    yield "cost_code", list(codes.values())


READERS = {Kind.NETSUITE: _netsuite, Kind.QUICKBOOKS: _quickbooks, Kind.PROCORE: _procore}


def _replace(connection: Connection, kind: str, refs: list[Ref]) -> int:
    now = timezone.now()
    with transaction.atomic():
        ReferenceRecord.objects.filter(connection=connection, kind=kind).delete()
        ReferenceRecord.objects.bulk_create(
            [
                ReferenceRecord(
                    connection=connection,
                    kind=kind,
                    remote_id=r.remote_id[:60],
                    name=r.name[:255],
                    code=r.code[:100],
                    subsidiary_ids=r.subsidiary_ids,
                    currency=(r.currency or "")[:3],
                    tax_id=r.tax_id[:40],
                    active=r.active,
                    document_count=r.document_count,
                    raw=r.raw,
                    refreshed_at=now,
                )
                for r in {r.remote_id: r for r in refs}.values()
            ],
            batch_size=1000,
        )
    return len(refs)


def reference_cache_refresh(*, connection_id: int, transport=None) -> dict[str, int]:
    """Read every reference list of the connection; returns {kind: records}."""
    from sync.clients import connection_client

    connection = Connection.objects.get(pk=connection_id)
    client = connection_client(connection, transport=transport)
    counts = {}
    for kind, refs in READERS[connection.kind](client):
        counts[kind] = _replace(connection, kind, refs)
    return counts
