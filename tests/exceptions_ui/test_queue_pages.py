"""The queue's keyset pages on their own: every item exactly once in the sort's order, whatever
the page size, with equal ages, items without an amount and tabs of two statuses; and a page
that costs the same number of queries whatever its size or depth."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from sync.models import Connection, ExceptionItem, ItemStatus, Kind
from sync.queue_selectors import SORTS, QueueFilters, queue_page
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def controller(db):
    return UserFactory(username="pages-ctrl", roles=[roles.CONTROLLER])


def make_items(n: int, *, statuses=(ItemStatus.OPEN,)) -> list[ExceptionItem]:
    """n items: every third one without an amount, amounts and ages repeating (ties)."""
    procore = Connection.objects.create(name="Procore", kind=Kind.PROCORE)
    erp = Connection.objects.create(name="ERP", kind=Kind.QUICKBOOKS, procore_connection=procore)
    ExceptionItem.objects.bulk_create(
        ExceptionItem(
            connection=erp,
            object_type="commitment",
            procore_id=str(1000 + i),
            status=statuses[i % len(statuses)],
            reason_code="APPROVAL_THRESHOLD" if i % 2 else "UNKNOWN_VENDOR",
            document_number=f"SC-{i:04d}",
            amount=None if i % 3 == 0 else Decimal(100 * (i % 4)),
            currency="USD",
        )
        for i in range(n)
    )
    now = timezone.now()
    items = list(ExceptionItem.objects.order_by("pk"))
    for i, item in enumerate(items):
        item.opened_at = now - timedelta(hours=i % 5)  # five distinct ages, many ties
    ExceptionItem.objects.bulk_update(items, ["opened_at"])
    return list(ExceptionItem.objects.order_by("pk"))


def expected_order(items, sort):
    if sort == "amount_desc":
        key = lambda i: (i.amount is not None, i.amount or 0, i.pk)  # noqa: E731
        return [i.pk for i in sorted(items, key=key, reverse=True)]
    if sort == "amount_asc":
        return [i.pk for i in sorted(items, key=lambda i: (i.amount is None, i.amount or 0, i.pk))]
    key = lambda i: (i.opened_at, i.pk)  # noqa: E731
    return [i.pk for i in sorted(items, key=key, reverse=sort == "newest")]


def walk(user, **filters) -> list[int]:
    seen, after = [], ""
    for _ in range(100):
        page = queue_page(user, QueueFilters(after=after, **filters))
        seen += [item.pk for item in page.items]
        if not page.next_cursor:
            return seen
        after = page.next_cursor
    raise AssertionError("the pages never end")


@pytest.mark.parametrize("sort", list(SORTS))
@pytest.mark.parametrize("per_page", [1, 4, 7])
def test_pages_give_every_item_once_in_order(controller, sort, per_page):
    items = make_items(23)
    assert walk(controller, sort=sort, per_page=per_page) == expected_order(items, sort)


@pytest.mark.parametrize("sort", list(SORTS))
def test_a_tab_of_two_statuses_pages_through_both(controller, sort):
    items = make_items(17, statuses=(ItemStatus.RESOLVED, ItemStatus.AUTO_RESOLVED))
    assert walk(controller, tab="resolved", sort=sort, per_page=3) == expected_order(items, sort)
    one = [i for i in items if i.status == ItemStatus.AUTO_RESOLVED]
    assert walk(
        controller, tab="resolved", status=ItemStatus.AUTO_RESOLVED, sort=sort, per_page=3
    ) == expected_order(one, sort)


def test_pages_keep_the_filters(controller):
    items = make_items(20)
    wanted = [i for i in items if i.reason_code == "UNKNOWN_VENDOR"]
    got = walk(controller, reason="UNKNOWN_VENDOR", sort="amount_desc", per_page=3)
    assert got == expected_order(wanted, "amount_desc")


@pytest.mark.parametrize("sort", ["oldest", "amount_desc"])
def test_a_broken_cursor_starts_again(controller, sort):
    make_items(5)
    first = [i.pk for i in queue_page(controller, QueueFilters(sort=sort, per_page=2)).items]
    # "not-a-number|3", "2024-13-45T00:00:00|3" (a date that is no date), garbage, "|"
    for after in ("bm90LWEtbnVtYmVyfDM", "MjAyNC0xMy00NVQwMDowMDowMHwz", "!!!", "fA"):
        page = queue_page(controller, QueueFilters(sort=sort, per_page=2, after=after))
        assert [i.pk for i in page.items] == first


def queries(client, **params) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("exceptions_ui:queue"), params)
    assert response.status_code == 200
    return len(ctx.captured_queries), " ".join(q["sql"] for q in ctx.captured_queries)


@pytest.mark.parametrize("sort", ["oldest", "amount_desc"])
@pytest.mark.parametrize("counted", [True, False], ids=["counts-cached", "counts-recounted"])
def test_a_page_costs_the_same_queries_whatever_its_size_or_depth(
    client, controller, sort, counted
):
    make_items(230)
    client.force_login(controller)
    url = reverse("exceptions_ui:queue")
    deep = client.get(url, {"sort": sort, "per_page": 25})
    for _ in range(4):  # a few pages down
        deep = client.get(url + "?" + deep.context["next_query"])
    after = deep.context["page"].next_cursor
    assert after
    counts = {}
    for per_page in (25, 100, 200):
        for depth, extra in (("first", {}), ("deep", {"after": after})):
            if counted:
                client.get(url, {"sort": sort, "per_page": per_page, **extra})
            else:
                cache.clear()
            n, sql = queries(client, sort=sort, per_page=per_page, **extra)
            counts[(per_page, depth)] = n
            # A list row never loads the item's JSON details or the connection's secrets.
            assert '"details"' not in sql and "secrets_encrypted" not in sql
    assert len(set(counts.values())) == 1, counts


def test_search_matches_each_column_and_nothing_across_columns(controller):
    make_items(6)
    ExceptionItem.objects.filter(document_number="SC-0001").update(
        project_name="Harbor_Tower 100%", vendor_name="Acme Steel", explanation="Over budget"
    )
    ExceptionItem.objects.filter(document_number="SC-0002").update(project_name="HarborXTower")

    def found(q):
        page = queue_page(controller, QueueFilters(q=q, per_page=50))
        return sorted(i.document_number for i in page.items), page.total

    assert found("sc-0001") == (["SC-0001"], 1)
    assert found("acme") == (["SC-0001"], 1)
    assert found("OVER BUDG") == (["SC-0001"], 1)
    assert found("harbor_tower") == (["SC-0001"], 1)  # "_" is a character, not a wildcard
    assert found("100%") == (["SC-0001"], 1)
    assert found("1002") == (["SC-0002"], 1)  # a Procore id: equal, not contained
    assert found("Tower 1001") == ([], 0)
    assert found("SC-0001 Harbor") == ([], 0)  # never across two columns


def test_a_bad_parameter_falls_back_alone_and_keeps_the_other_filters(client, controller):
    make_items(6)
    client.force_login(controller)
    response = client.get(
        reverse("exceptions_ui:queue"),
        {"reason": "UNKNOWN_VENDOR", "sort": "amount_desc", "per_page": "7"},
    )
    f = response.context["f"]
    assert (f.reason, f.sort, f.per_page) == ("UNKNOWN_VENDOR", "amount_desc", 50)
    shown = {row["item"].reason_code for row in response.context["rows"]}
    assert shown == {"UNKNOWN_VENDOR"}
