"""Read throughput of the connector clients against the sandboxes, in-process. Prints JSON.

    .venv/bin/python -m benchmarks.connector_reads            # every system registered below
    .venv/bin/python -m benchmarks.connector_reads procore    # one system

Each system contributes one function ``bench_<system>(sizes, measure) -> dict`` registered in
``SYSTEMS`` (the ERP ones live in ``benchmarks/<system>_reads.py``). For every size it
reports, for one full paged read of that many documents with their lines: ``requests`` made by
the client vs ``minimum`` the page size allows (issue 4 target: requests <= 1.05 x minimum),
``seconds`` (an untraced pass), and ``peak_kib`` (tracemalloc peak during a second, traced
pass, above what was allocated before it; the sandbox's per-request work is in-process and
counted too). Memory must be flat in the number of records: compare the sizes.

To add a system: write ``bench_<system>(sizes, measure)`` returning
``{"documents": "...", "runs": [measure(...), ...], "memory_flat": ...}`` and add it to
``SYSTEMS``.
"""

from __future__ import annotations

import importlib
import json
import math
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable
from typing import Any

import httpx

# Runs as a script too (python benchmarks/connector_reads.py): the repository on the path.
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))

DEFAULT_SIZES = (2_000, 10_000)


def measure(
    size: int, read: Callable[[], Iterable[Any]], requests: Callable[[], int], minimum: int
) -> dict[str, Any]:
    """Run ``read()`` twice: once timed (no tracing: tracemalloc slows Python ~10x), once under
    tracemalloc for the peak. Requests are counted on the timed pass."""
    before_requests = requests()
    started = time.perf_counter()
    records = lines = 0
    for item in read():
        records += 1
        lines += len(getattr(item, "lines", ()) or ())
    seconds = time.perf_counter() - started
    made = requests() - before_requests

    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    for _ in read():
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "records": size,
        "read": records,
        "lines": lines,
        "requests": made,
        "minimum": minimum,
        "ratio": round(made / minimum, 3) if minimum else None,
        "seconds": round(seconds, 3),
        "records_per_second": round(records / seconds) if seconds else None,
        "peak_kib": round((peak - base) / 1024, 1),
    }


# -- Procore ----------------------------------------------------------------------------------


def bench_procore(
    sizes: Iterable[int] = DEFAULT_SIZES,
    measure: Callable[..., dict[str, Any]] = measure,
    lines_per: int = 3,
    flat_page: int = 1000,
) -> dict[str, Any]:
    """Commitments (work order + purchase order contracts) with their SOV lines.

    Memory is compared at the same page fill: ``flat_page`` (1,000) gives full pages at both
    2,000 (1,000 WOC + 1,000 POC) and 10,000 records. The production page size (the client's
    default, 2,000) is measured at the largest size as well.
    """
    from connectors.procore import ProcoreClient
    from connectors.tokens import MemoryTokenStore
    from sandboxes.procore import ProcoreSandbox
    from sandboxes.procore.auth import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

    sizes = list(sizes)
    runs = []
    for size in sizes:
        # Limits high enough that the sandbox never throttles the benchmark (limits are tested
        # elsewhere); the client runs without a limiter for the same reason.
        sb = ProcoreSandbox(seed=1, hourly_limit=10**9, spike_limit=10**9)
        company = sb.add_company("Benchmark Builders")
        project = sb.create_project(company["id"], {"name": "Benchmark Tower"})
        wocs = size // 2
        for i in range(size):
            kind = "work_order_contracts" if i < wocs else "purchase_order_contracts"
            rec = sb.create_commitment(project, kind, {"title": f"C{i}"})
            for j in range(lines_per):
                sb.create_line(rec, {"description": f"L{j}", "amount": "100.00"}, person=True)
        pages = [flat_page] + ([None] if size == sizes[-1] else [])
        for per_page in pages:
            settings = {
                "auth_base_url": "https://sandbox.invalid",
                "api_base_url": "https://sandbox.invalid",
                "client_id": DEMO_CLIENT_ID,
                "client_secret": DEMO_CLIENT_SECRET,
                "company_id": str(company["id"]),
                "grant": "client_credentials",
                "per_page": per_page,
            }
            client = ProcoreClient.from_settings(
                settings,
                token_store=MemoryTokenStore(),
                transport=httpx.MockTransport(sb.handle),
                clock=sb.clock.time,
            )
            client.me()  # fetch the token outside the measured read
            size_of_page = client.page_size("/rest/v1.0/work_order_contracts")
            minimum = math.ceil(wocs / size_of_page) + math.ceil((size - wocs) / size_of_page)
            pid = str(project["id"])
            run = measure(
                size,
                lambda pid=pid, c=client: c.commitments(pid),
                lambda c=client: c.calls,
                minimum,
            )
            runs.append({"page_size": size_of_page, **run})
            client.close()
        del sb
    flat = [r for r in runs if r["page_size"] == flat_page]
    return {
        "documents": f"commitments (half WOC, half POC) with {lines_per} lines each",
        "lines_come_with": "the list's extended view (no request per commitment)",
        "runs": runs,
        "memory_flat": _flat(flat),
    }


def _flat(runs: list[dict[str, Any]]) -> bool | None:
    """Peak at the largest size within 1.5x the peak at the smallest (pages are the same)."""
    if len(runs) < 2:
        return None
    return runs[-1]["peak_kib"] <= 1.5 * runs[0]["peak_kib"]


# -- QuickBooks (benchmarks/quickbooks_reads.py) ----------------------------------------------


def bench_quickbooks(sizes: Iterable[int] = DEFAULT_SIZES) -> dict[str, Any]:
    """10,000 bills with their lines from the QuickBooks sandbox."""
    from benchmarks.quickbooks_reads import bench_quickbooks as bench

    return bench(sizes, measure)


# name -> "module:function"; imported lazily so one system's missing pieces never stop another.
SYSTEMS: dict[str, str] = {
    "procore": "benchmarks.connector_reads:bench_procore",
    "netsuite": "benchmarks.netsuite_reads:bench_netsuite",
    "quickbooks": "benchmarks.quickbooks_reads:bench_quickbooks",
}


def run(name: str, sizes: Iterable[int] = DEFAULT_SIZES) -> dict[str, Any]:
    module_name, _, function = SYSTEMS[name].partition(":")
    # A missing benchmark is an error, never a silent "skipped" figure.
    bench = getattr(importlib.import_module(module_name), function)
    return bench(list(sizes), measure)


def main(argv: list[str]) -> int:
    names = argv or list(SYSTEMS)
    unknown = [n for n in names if n not in SYSTEMS]
    if unknown:
        print(f"unknown system(s): {', '.join(unknown)}; known: {', '.join(SYSTEMS)}")
        return 2
    print(json.dumps({name: run(name) for name in names}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
