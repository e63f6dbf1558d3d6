"""Procore keeps origin_id unique per company and object type; one Procore company can feed a
NetSuite and a QuickBooks connection whose ids overlap, so the ids we write are scoped."""

from __future__ import annotations

import pytest

from sync.context import origin_id_for
from sync.models import Connection, Kind

pytestmark = pytest.mark.django_db


def test_the_same_erp_id_in_two_erps_gives_two_origin_ids():
    ns = Connection.objects.create(
        name="NetSuite", kind=Kind.NETSUITE, settings={"account_id": "TSTDRV1"}
    )
    qbo = Connection.objects.create(
        name="QuickBooks", kind=Kind.QUICKBOOKS, settings={"realm_id": "9130"}
    )
    other_ns = Connection.objects.create(
        name="NetSuite EU", kind=Kind.NETSUITE, settings={"account_id": "TSTDRV2"}
    )
    ids = {origin_id_for(c, "1") for c in (ns, qbo, other_ns)}
    assert ids == {"netsuite:TSTDRV1:1", "quickbooks:9130:1", "netsuite:TSTDRV2:1"}


def test_a_connection_without_an_account_is_scoped_by_its_own_key():
    conn = Connection.objects.create(name="QuickBooks", kind=Kind.QUICKBOOKS, settings={})
    assert origin_id_for(conn, "42") == f"quickbooks:c{conn.pk}:42"
