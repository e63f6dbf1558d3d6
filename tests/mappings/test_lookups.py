"""The lookup contract the engine codes against: precedence, dates, misses, query counts."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from mappings import events
from mappings.lookups import CostTarget, MappingLookup, MappingMissing, ProjectTarget
from mappings.models import CostCodeMapping, MappingChange
from mappings.services import (
    account_role_mapping_create,
    cost_code_mapping_create,
    currency_mapping_create,
    project_mapping_create,
    vendor_mapping_create,
)

pytestmark = pytest.mark.django_db


def cost(connection, code, account, *, cost_type="", sub="", project="", start=None):
    return CostCodeMapping.objects.create(
        connection=connection,
        cost_code=code,
        cost_type=cost_type,
        subsidiary_id=sub,
        procore_project_id=project,
        effective_from=start,
        account_id=account,
    )


def test_cost_precedence_project_type_then_project_any_then_company_type_then_company_any(
    netsuite,
):
    cost(netsuite, "03-300", "A-company-any")
    lookup = lambda: MappingLookup(netsuite)  # noqa: E731
    args = {"cost_code": "03-300", "cost_type": "S", "subsidiary_id": "1"}
    assert lookup().cost(**args, procore_project_id="P1").account_id == "A-company-any"
    cost(netsuite, "03-300", "A-company-S", cost_type="S")
    assert lookup().cost(**args, procore_project_id="P1").account_id == "A-company-S"
    cost(netsuite, "03-300", "A-project-any", project="P1")
    assert lookup().cost(**args, procore_project_id="P1").account_id == "A-project-any"
    cost(netsuite, "03-300", "A-project-S", project="P1", cost_type="S")
    assert lookup().cost(**args, procore_project_id="P1") == CostTarget(
        item_id=None, account_id="A-project-S", class_id=None
    )
    # Another project and another cost type fall back to the company rows.
    assert lookup().cost(**args, procore_project_id="P2").account_id == "A-company-S"
    assert (
        lookup()
        .cost(cost_code="03-300", cost_type="M", subsidiary_id="1", procore_project_id="P2")
        .account_id
        == "A-company-any"
    )


def test_subsidiary_specific_rows_beat_rows_for_all_subsidiaries(netsuite):
    cost(netsuite, "03-300", "all")
    cost(netsuite, "03-300", "canada", sub="3")
    lookup = MappingLookup(netsuite)
    one = {"cost_code": "03-300", "cost_type": None, "procore_project_id": None}
    assert lookup.cost(**one, subsidiary_id="3").account_id == "canada"
    assert lookup.cost(**one, subsidiary_id="1").account_id == "all"
    assert lookup.cost(**one, subsidiary_id=None).account_id == "all"


def test_effective_dates_pick_the_latest_row_started_on_or_before_the_date(netsuite):
    cost(netsuite, "03-300", "old")
    cost(netsuite, "03-300", "fy2026", start=date(2026, 1, 1))
    cost(netsuite, "03-300", "fy2027", start=date(2027, 1, 1))
    lookup = MappingLookup(netsuite, on_date=date(2026, 6, 30))
    one = {
        "cost_code": "03-300",
        "cost_type": None,
        "subsidiary_id": None,
        "procore_project_id": None,
    }
    assert lookup.cost(**one).account_id == "fy2026"
    assert lookup.cost(**one, on_date=date(2025, 12, 31)).account_id == "old"
    assert lookup.cost(**one, on_date=date(2027, 1, 1)).account_id == "fy2027"


def test_without_a_date_a_lookup_maps_as_of_the_day_it_first_needed_one(netsuite):
    """A lookup (one per batch) reads today once: a batch running over midnight maps all its
    records as of one day; the next batch's lookup sees the new day."""
    cost(netsuite, "03-300", "fy2026")
    cost(netsuite, "03-300", "fy2027", start=date(2027, 1, 1))
    one = {
        "cost_code": "03-300",
        "cost_type": None,
        "subsidiary_id": None,
        "procore_project_id": None,
    }
    with time_machine.travel(datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), tick=False) as clock:
        lookup = MappingLookup(netsuite)
        assert lookup.cost(**one).account_id == "fy2026"
        clock.shift(timedelta(hours=1))  # past midnight, in the settings' zone (UTC) too
        assert lookup.cost(**one).account_id == "fy2026"
        assert MappingLookup(netsuite).cost(**one).account_id == "fy2027"


def test_a_row_starting_later_does_not_apply_before_its_date(netsuite):
    cost(netsuite, "03-300", "fy2027", start=date(2027, 1, 1))
    lookup = MappingLookup(netsuite)
    with pytest.raises(MappingMissing) as missing:
        lookup.cost(
            cost_code="03-300",
            cost_type="S",
            subsidiary_id="3",
            procore_project_id="P1",
            on_date=date(2026, 5, 1),
        )
    err = missing.value
    assert err.table == "cost_code"
    assert err.key == {"cost_code": "03-300", "cost_type": "S"}
    assert (err.subsidiary, err.project, err.reason_code) == ("3", "P1", "UNMAPPED_COST_CODE")
    assert "03-300" in str(err) and "subsidiary 3" in str(err)


def test_misses_name_table_key_and_reason(netsuite):
    lookup = MappingLookup(netsuite)
    cases = [
        (
            lambda: lookup.project("1001"),
            "project",
            {"procore_project_id": "1001"},
            "UNMAPPED_PROJECT",
        ),
        (lambda: lookup.vendor("4001"), "vendor", {"procore_vendor_id": "4001"}, "UNKNOWN_VENDOR"),
        (
            lambda: lookup.account("retention_payable", subsidiary_id="1"),
            "account_role",
            {"role": "retention_payable"},
            "UNMAPPED_ACCOUNT",
        ),
        (lambda: lookup.currency("eur"), "currency", {"currency": "EUR"}, "UNMAPPED_CURRENCY"),
    ]
    for call, table, key, reason in cases:
        with pytest.raises(MappingMissing) as missing:
            call()
        assert (missing.value.table, missing.value.key, missing.value.reason_code) == (
            table,
            key,
            reason,
        )


def test_targets_from_inline_services_and_one_query_per_table(netsuite, django_assert_num_queries):
    project_mapping_create(
        connection=netsuite,
        procore_project_id="1001",
        erp_customer_id="500",
        erp_job_id="501",
        subsidiary_id="1",
        currency="usd",
        class_id="7",
    )
    vendor_mapping_create(
        connection=netsuite,
        procore_vendor_id="4001",
        erp_vendor_id="700",
        subsidiary_ids=["1", "3"],
    )
    account_role_mapping_create(connection=netsuite, role="accounts_payable", account_id="111")
    currency_mapping_create(connection=netsuite, currency="CAD", erp_currency_id="3")
    for i in range(50):
        cost_code_mapping_create(
            connection=netsuite,
            cost_code=f"01-{i:03}",
            cost_type=None,
            subsidiary_id=None,
            item_id="900",
        )
    lookup = MappingLookup(netsuite)
    with django_assert_num_queries(6):  # five tables + the currency reference cache
        for _ in range(3):
            assert lookup.project("1001") == ProjectTarget(
                erp_customer_id="500",
                erp_job_id="501",
                subsidiary_id="1",
                currency="USD",
                class_id="7",
                department_id=None,
                location_id=None,
            )
            for i in range(50):
                lookup.cost(
                    cost_code=f"01-{i:03}",
                    cost_type="S",
                    subsidiary_id="1",
                    procore_project_id="1001",
                )
            assert lookup.vendor("4001").subsidiary_ids == ("1", "3")
            assert lookup.account("accounts_payable", subsidiary_id="3") == "111"
            assert lookup.currency("cad") == "3"
    assert MappingChange.objects.filter(source="inline", action="create").count() == 54


def test_quickbooks_currency_falls_back_to_the_iso_code(quickbooks):
    assert MappingLookup(quickbooks).currency("usd") == "USD"


def test_inline_create_validates_in_plain_words_and_refuses_duplicates(references):
    with pytest.raises(ValidationError) as bad:
        cost_code_mapping_create(
            connection=references,
            cost_code="03-300",
            cost_type="S",
            subsidiary_id="3",
            account_id="601",
        )
    assert "not available in subsidiary 3" in " ".join(bad.value.messages)
    cost_code_mapping_create(
        connection=references,
        cost_code="03-300",
        cost_type="S",
        subsidiary_id="1",
        account_id="601",
    )
    with pytest.raises(ValidationError) as dup:
        cost_code_mapping_create(
            connection=references,
            cost_code="03-300",
            cost_type="S",
            subsidiary_id="1",
            item_id="900",
        )
    assert "already exists" in dup.value.messages[0]


def test_mapping_added_callbacks_run_after_commit(netsuite, django_capture_on_commit_callbacks):
    seen = []

    def callback(connection_id, table, key):
        seen.append((connection_id, table, key))

    def broken(connection_id, table, key):
        raise RuntimeError("engine bug")

    events.on_mapping_added(broken)
    events.on_mapping_added(callback)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            cost_code_mapping_create(
                connection=netsuite,
                cost_code="03-300",
                cost_type="S",
                subsidiary_id="1",
                item_id="900",
            )
            assert seen == []
    finally:
        events.remove_callback(callback)
        events.remove_callback(broken)
    assert seen == [(netsuite.pk, "cost_code", {"cost_code": "03-300", "cost_type": "S"})]


def test_batch_callbacks_get_every_distinct_key_once(netsuite, django_capture_on_commit_callbacks):
    batches = []

    def batch(connection_id, table, keys):
        batches.append((table, keys))

    events.on_mappings_added(batch)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            events.mapping_added(netsuite.pk, "vendor", [{"procore_vendor_id": "1"}] * 3)
    finally:
        events.remove_callback(batch)
    assert batches == [("vendor", [{"procore_vendor_id": "1"}])]
