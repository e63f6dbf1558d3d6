"""The reference cache filled from the seeded NetSuite, QuickBooks and Procore sandboxes."""

import pytest

from mappings.models import ReferenceRecord
from mappings.services.reference import reference_cache_refresh
from tests.mappings.sandboxes import (
    company,
    netsuite_connection,
    procore_connection,
    quickbooks_connection,
)

pytestmark = pytest.mark.django_db


def cached(connection, kind):
    return ReferenceRecord.objects.filter(connection=connection, kind=kind)


def test_netsuite_reference_cache_holds_the_seeded_lists():
    conn, transport, ids = netsuite_connection()
    counts = reference_cache_refresh(connection_id=conn.pk, transport=transport)
    data = company()
    assert counts["subsidiary"] == len(data.subsidiaries)
    assert {"subsidiary", "currency", "account", "class", "item", "vendor", "customer"} <= {
        k for k, n in counts.items() if n
    }
    assert set(cached(conn, "currency").values_list("code", flat=True)) >= {
        s.currency for s in data.subsidiaries
    }
    first_account = data.accounts[0]
    account = cached(conn, "account").get(remote_id=ids[f"account:{first_account.key}"])
    assert (account.code, account.active) == (first_account.number, True)
    assert len(account.subsidiary_ids) == len(data.subsidiaries)
    vendor_keys = [k for k in ids if k.startswith("vendor:")]
    assert cached(conn, "vendor").count() >= len(vendor_keys) > 0
    # Refreshing again replaces, never duplicates.
    again = reference_cache_refresh(connection_id=conn.pk, transport=transport)
    assert again == counts
    assert cached(conn, "account").count() == counts["account"]


def test_quickbooks_reference_cache_holds_accounts_classes_items_vendors_customers():
    conn, transport, ids = quickbooks_connection()
    counts = reference_cache_refresh(connection_id=conn.pk, transport=transport)
    for kind in ("account", "class", "item", "vendor", "customer"):
        assert counts[kind] > 0, kind
    some_vendor = next(v for k, v in ids.items() if k.startswith("vendor:"))
    assert cached(conn, "vendor").filter(remote_id=some_vendor).exists()
    assert "subsidiary" not in counts


def test_procore_reference_cache_counts_commitments_per_project_vendor_and_cost_code():
    conn, transport, _ids = procore_connection()
    counts = reference_cache_refresh(connection_id=conn.pk, transport=transport)
    assert counts["project"] > 0 and counts["cost_code"] > 0 and counts["cost_type"] > 0
    projects = cached(conn, "project")
    assert sum(projects.values_list("document_count", flat=True)) > 0
    assert cached(conn, "vendor").filter(document_count__gt=0).exists()
    assert cached(conn, "cost_code").filter(document_count__gt=0).exists()
    assert set(cached(conn, "cost_type").values_list("code", flat=True)) == {
        t.code for t in company().cost_types
    }
