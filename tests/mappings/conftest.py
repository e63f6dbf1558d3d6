import pytest
from django.utils import timezone

from mappings.models import ReferenceRecord
from sync.models import Connection, Kind


@pytest.fixture
def procore(db) -> Connection:
    return Connection.objects.create(name="Procore", kind=Kind.PROCORE)


@pytest.fixture
def netsuite(procore) -> Connection:
    return Connection.objects.create(
        name="NetSuite", kind=Kind.NETSUITE, procore_connection=procore
    )


@pytest.fixture
def quickbooks(procore) -> Connection:
    return Connection.objects.create(
        name="QuickBooks", kind=Kind.QUICKBOOKS, procore_connection=procore
    )


def add_refs(connection, kind, *records, **common):
    """records: (remote_id, name) or (remote_id, name, {extra fields})."""
    now = timezone.now()
    ReferenceRecord.objects.bulk_create(
        ReferenceRecord(
            connection=connection,
            kind=kind,
            remote_id=str(rec[0]),
            name=rec[1],
            refreshed_at=now,
            **{**common, **(rec[2] if len(rec) > 2 else {})},
        )
        for rec in records
    )


@pytest.fixture
def references(netsuite, procore):
    """A small reference cache: NetSuite US (1) and CA (3) subsidiaries, Procore side."""
    add_refs(netsuite, "subsidiary", ("1", "Summit US", {"currency": "USD"}), ("3", "Summit CA"))
    add_refs(
        netsuite,
        "currency",
        ("1", "US Dollar", {"code": "USD"}),
        ("3", "Canadian Dollar", {"code": "CAD"}),
    )
    add_refs(
        netsuite,
        "account",
        ("600", "Subcontract costs", {"code": "5100", "subsidiary_ids": ["1", "3"]}),
        ("601", "Materials", {"code": "5200", "subsidiary_ids": ["1"]}),
        ("602", "Old costs", {"code": "5999", "active": False}),
        ("111", "Accounts payable", {"code": "2000"}),
    )
    add_refs(netsuite, "item", ("900", "Concrete"), ("901", "Framing"))
    add_refs(netsuite, "class", ("7", "Commercial"))
    add_refs(netsuite, "department", ("8", "Field"))
    add_refs(netsuite, "location", ("9", "Denver"))
    add_refs(netsuite, "customer", ("500", "Acme Dev"))
    add_refs(netsuite, "job", ("501", "Acme Tower"))
    add_refs(netsuite, "vendor", ("700", "Star Framing, LLC", {"subsidiary_ids": ["1"]}))
    add_refs(procore, "project", ("1001", "Tower A", {"code": "24-101"}))
    add_refs(
        procore,
        "cost_code",
        ("c1", "Concrete", {"code": "03-300"}),
        ("c2", "Framing", {"code": "06-100"}),
    )
    add_refs(
        procore,
        "cost_type",
        ("t1", "Subcontract", {"code": "S"}),
        ("t2", "Material", {"code": "M"}),
    )
    add_refs(procore, "vendor", ("4001", "Star Framing"))
    return netsuite
