"""The QuickBooks section of ``benchmarks/connector_reads.py``: read N bills from the sandbox.

    .venv/bin/python -m benchmarks.connector_reads quickbooks

Bills (2 job-costed lines each) are seeded through the sandbox's Python API, then read with
``QuickBooksClient.iter_query("Bill")`` at QBO's largest page (MAXRESULTS 1000). ``minimum`` is
``ceil(N / 1000)``; QBO's query answer carries no total, so when N is a multiple of 1000 the
client needs one more (empty) page to know it is done — ``minimum_without_total`` says so.
The client runs without its limiter (10 requests/second would add real sleeping to the
timing; limits are tested in tests/connectors/test_quickbooks_client.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import httpx

PAGE = 1000


def _seed(sb: Any, realm: str, size: int) -> None:
    create = sb.create
    expense = create(realm, "Account", {"Name": "Job Materials", "AccountType": "Expense"})
    vendors = [create(realm, "Vendor", {"DisplayName": f"Sub {n:02d}"})["Id"] for n in range(20)]
    customer = create(realm, "Customer", {"DisplayName": "Owner"})["Id"]
    job = create(realm, "Customer", {"DisplayName": "Tower", "ParentRef": {"value": customer}})
    events, sb.events_enabled = sb.events_enabled, False  # no webhook bookkeeping while seeding
    for n in range(size):
        line = {
            "DetailType": "AccountBasedExpenseLineDetail",
            "AccountBasedExpenseLineDetail": {
                "AccountRef": {"value": expense["Id"]},
                "CustomerRef": {"value": job["Id"]},
            },
        }
        create(
            realm,
            "Bill",
            {
                "VendorRef": {"value": vendors[n % len(vendors)]},
                "DocNumber": f"B{n:06d}",
                "Line": [
                    {**line, "Amount": Decimal("1000.00"), "Description": "Labor"},
                    {**line, "Amount": Decimal("250.50"), "Description": "Material"},
                ],
            },
        )
    sb.events_enabled = events


def bench_quickbooks(sizes: Iterable[int], measure: Callable[..., dict[str, Any]]) -> dict:
    from connectors.limits import NoLimit
    from connectors.quickbooks import QuickBooksClient
    from connectors.tokens import MemoryTokenStore, with_expiry
    from sandboxes.quickbooks import (
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        DEMO_REALM_ID,
        QuickBooksSandbox,
    )

    runs = []
    for size in sizes:
        sb = QuickBooksSandbox(seed=1)
        _seed(sb, DEMO_REALM_ID, size)
        client = QuickBooksClient.from_settings(
            {
                "token_url": "https://sandbox.invalid/oauth2/v1/tokens/bearer",
                "api_base_url": "https://sandbox.invalid",
                "client_id": DEMO_CLIENT_ID,
                "client_secret": DEMO_CLIENT_SECRET,
                "realm_id": DEMO_REALM_ID,
            },
            token_store=MemoryTokenStore(with_expiry(sb.issue_token_for_tests(), sb.clock.time())),
            transport=httpx.MockTransport(sb.handle),
            limiter=NoLimit(),
            clock=sb.clock.time,
        )
        client.company_info()  # warm up outside the measured read
        run = measure(
            size,
            lambda c=client: c.iter_query("Bill"),
            lambda c=client: c.calls,
            math.ceil(size / PAGE),
        )
        run["minimum_without_total"] = math.ceil((size + 1) / PAGE)
        runs.append(run)
        client.close()
        del sb
    flat = runs[-1]["peak_kib"] <= 1.5 * runs[0]["peak_kib"] if len(runs) > 1 else None
    return {
        "documents": "bills with 2 job-costed lines each",
        "page_size": PAGE,
        "runs": runs,
        "memory_flat": flat,
    }
