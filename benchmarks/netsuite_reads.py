"""The NetSuite section of ``benchmarks/connector_reads.py``: read N vendor bills from the sandbox.

    .venv/bin/python -m benchmarks.connector_reads netsuite

Bills (2 expense lines each) are seeded through the sandbox's books, then read with
``NetSuiteClient.transactions("vendorBill")``: SuiteQL in pages of 1,000 headers, each page
followed by one query for its ``transactionline`` rows (the mainline row, which carries the
subsidiary, plus the 2 lines: 3 rows per bill, so 3 line pages per header page). ``minimum``
is what paging allows for those rows: ``ceil(N / 1000)`` header pages plus
``ceil(3 * 1000 / 1000)`` line pages per full header page. The record service's way (a list
page of ids, then one expanded GET per bill: ``ceil(N / 1000) + N``) is reported beside it as
``record_reads_minimum``. The sandbox serves from a forked child on loopback (its SuiteQL
builds the whole table per query; in-process that would count in the client's memory), so
``seconds`` include real HTTP. The client runs without its concurrency limiter (one thread: it
never has more than one request in flight; limits are tested in
tests/connectors/test_netsuite_sandbox.py). The token is fetched before the measured read.
"""

from __future__ import annotations

import math
import os
import signal
import threading
from collections.abc import Callable, Iterable
from typing import Any

PAGE = 1000


def _seed(sb: Any, size: int) -> None:
    from sandboxes.netsuite.schema import RECORD_TYPES

    create = sb.books.create
    cur, _ = create(RECORD_TYPES["currency"], {"name": "USD", "symbol": "USD"})
    sub, _ = create(RECORD_TYPES["subsidiary"], {"name": "Parent", "currency": {"id": cur["id"]}})
    subs = {"items": [{"id": sub["id"]}]}
    ap, _ = create(
        RECORD_TYPES["account"],
        {"acctName": "AP", "acctType": {"id": "AcctPay"}, "subsidiary": subs},
    )
    exp, _ = create(
        RECORD_TYPES["account"],
        {"acctName": "Materials", "acctType": {"id": "Expense"}, "subsidiary": subs},
    )
    vendors = [
        create(
            RECORD_TYPES["vendor"], {"companyName": f"Sub {n:02d}", "subsidiary": {"id": sub["id"]}}
        )[0]["id"]
        for n in range(20)
    ]
    bill = RECORD_TYPES["vendorBill"]
    for n in range(size):
        create(
            bill,
            {
                "entity": {"id": vendors[n % len(vendors)]},
                "subsidiary": {"id": sub["id"]},
                "currency": {"id": cur["id"]},
                "account": {"id": ap["id"]},
                "tranId": f"B{n:06d}",
                "tranDate": "2025-01-03",
                "expense": {
                    "items": [
                        {"account": {"id": exp["id"]}, "amount": "1000.00", "memo": "Labor"},
                        {"account": {"id": exp["id"]}, "amount": "250.50", "memo": "Material"},
                    ]
                },
            },
            external_id=f"bench-{n}",
        )


def _minimum(size: int, rows_per_bill: int = 3) -> int:
    """Header pages plus line pages (mainline + 2 lines per bill), page by header page."""
    pages, last = divmod(size, PAGE)
    line_pages = pages * math.ceil(rows_per_bill * PAGE / PAGE)
    if last:
        line_pages += math.ceil(rows_per_bill * last / PAGE)
    return math.ceil(size / PAGE) + line_pages


def _serve_in_child(sb: Any) -> tuple[str, int]:
    """Serve the seeded sandbox on loopback from a forked child process.

    The sandbox's SuiteQL builds its whole table for every query (O(N) per request, where
    NetSuite has a database); in-process, that would be counted in the client's memory peak.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: serve until the parent kills it
        try:
            os.close(read_end)
            from sandboxes.server import SandboxServer

            server = SandboxServer()
            url = server.add(sb, 0)
            server.start()
            os.write(write_end, url.encode())
            os.close(write_end)
            threading.Event().wait()
        finally:
            os._exit(0)
    os.close(write_end)
    url = os.read(read_end, 500).decode()
    os.close(read_end)
    return url, pid


def bench_netsuite(sizes: Iterable[int], measure: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    from connectors.limits import NoLimit
    from connectors.netsuite import NetSuiteClient
    from connectors.tokens import MemoryTokenStore
    from sandboxes.netsuite import NetSuiteSandbox, keys

    runs = []
    for size in sizes:
        sb = NetSuiteSandbox(seed=1)
        with sb.lock:
            _seed(sb, size)
        url, child = _serve_in_child(sb)
        del sb  # the child holds the records now
        settings = {
            "account_id": keys.DEMO_ACCOUNT_ID,
            "base_url": url,
            "auth_method": "m2m",
            "client_id": keys.DEMO_CLIENT_ID,
            "certificate_id": keys.DEMO_CERTIFICATE_ID,
            "private_key_pem": keys.demo_private_key_pem(),
        }
        client = NetSuiteClient.from_settings(
            settings,
            token_store=MemoryTokenStore(),
            limiter=NoLimit(),
        )
        client.tokens.access_token()
        run = measure(
            size,
            lambda c=client: c.transactions("vendorBill", page_size=PAGE),
            lambda c=client: c.calls,
            _minimum(size),
        )
        runs.append(
            {"page_size": PAGE, **run, "record_reads_minimum": math.ceil(size / PAGE) + size}
        )
        client.close()
        os.kill(child, signal.SIGTERM)
        os.waitpid(child, 0)
    flat = None
    if len(runs) >= 2:
        flat = runs[-1]["peak_kib"] <= 1.5 * runs[0]["peak_kib"]
    return {
        "documents": "vendor bills with 2 expense lines each (typed, lines expanded)",
        "lines_come_with": "SuiteQL: a page of 1,000 headers, then its transactionline rows",
        "runs": runs,
        "memory_flat": flat,
    }
