"""Server time of the PM reports for 500 projects / 50,000 commitments, on SQLite and
PostgreSQL.

    .venv/bin/python benchmarks/report_latency.py [--projects 500] [--per-project 100] [--runs 20]

For each database (SQLite in a temporary file; PostgreSQL when it answers on 127.0.0.1:5432,
in a scratch database created and dropped here) the schema is migrated and one finished
reconciliation run per ERP connection is built straight in the database with bulk_create:
500 projects (ProjectFigures + ProjectTotals, USD and CAD), 100 commitments each with one pay
application (DocumentFigures, their Bindings), 5 % of documents with a variance, half of those
with an open queue item. Django's test client (the full middleware stack) times, as a
controller (every project):

* ``portfolio``: the portfolio page (100 projects a page; totals per currency and charts
  over all 500; causes of the page's variances);
* ``portfolio_variances``: the same filtered to projects with variances;
* ``project``: one project page (100 commitments, vendors, causes, history);
* ``api_portfolio``, ``api_projects`` (100 rows a page), ``api_project``: the same figures
  from /api/v1/reconciliation/;
* ``xlsx_export``: the portfolio XLSX (Portfolio + Totals + 50,000-row Commitments sheets),
  with the memory it allocated at its peak (tracemalloc) and the process's peak RSS growth.

p50/p95 in milliseconds over ``--runs`` requests. Prints JSON. Targets: page p95 <= 300 ms,
export <= 15 s with memory bounded (flat in the number of rows: write-only workbook).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432/erpbridge_bench_reports"


def child(database_url: str, args) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(ROOT),
        "ALLOWED_HOSTS": "testserver",
    }
    env.pop("REDIS_URL", None)
    cmd = [
        sys.executable,
        __file__,
        "--child",
        "--projects",
        str(args.projects),
        "--per-project",
        str(args.per_project),
        "--runs",
        str(args.runs),
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT, check=False)  # noqa: S603
    if out.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def pg_answers() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def pg_database(action: str) -> None:
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute("DROP DATABASE IF EXISTS erpbridge_bench_reports WITH (FORCE)")
        if action == "create":
            conn.execute("CREATE DATABASE erpbridge_bench_reports")


# -- inside the child -----------------------------------------------------------------------


def seed(projects: int, per_project: int) -> str:
    import random
    from decimal import Decimal

    from django.utils import timezone

    from reconciliation.models import (
        DocumentFigures,
        ProjectFigures,
        ProjectTotals,
        ReconciliationRun,
        ReconStatus,
    )
    from sync.models import Binding, Connection, ExceptionItem, Kind

    rng = random.Random(9)
    now = timezone.now()
    procore = Connection.objects.create(name="Procore", kind=Kind.PROCORE)
    conns = [
        Connection.objects.create(name=name, kind=kind, procore_connection=procore)
        for name, kind in (("NetSuite", Kind.NETSUITE), ("QuickBooks", Kind.QUICKBOOKS))
    ]
    runs = {
        c.pk: ReconciliationRun.objects.create(
            connection=c, status=ReconStatus.SUCCEEDED, as_of=now, finished_at=now
        )
        for c in conns
    }
    cent = Decimal("0.01")
    first_project = ""
    for p in range(projects):
        conn = conns[p % 2]
        run = runs[conn.pk]
        pid = str(562949953421000 + p)
        first_project = first_project or pid
        currency = "CAD" if conn.kind == Kind.NETSUITE and p % 4 == 0 else "USD"
        docs, bindings, items = [], [], []
        for i in range(per_project):
            cid = str(10**15 + p * per_project + i)
            amount = Decimal(rng.randrange(10_000_00, 900_000_00)) * cent
            billed = (amount * Decimal(rng.randrange(0, 100)) / 100).quantize(cent)
            drift = rng.random() < 0.05
            erp = amount - Decimal("1250.00") if drift else amount
            common = {
                "run": run,
                "connection": conn,
                "procore_project_id": pid,
                "currency": currency,
                "commitment_id": cid,
                "vendor_id": str(9000 + i % 40),
                "vendor_name": f"Vendor {i % 40}",
                "erp_type": "purchaseOrder",
            }
            docs.append(
                DocumentFigures(
                    **common,
                    kind="commitment",
                    procore_id=cid,
                    number=f"SC-{p:03d}-{i:03d}",
                    title=f"Package {i}",
                    status="Approved",
                    erp_id=f"po{cid}",
                    erp_number=f"SC-{p:03d}-{i:03d}",
                    matched_by="binding",
                    committed_procore=amount,
                    committed_erp=erp,
                    has_variance=drift,
                )
            )
            docs.append(
                DocumentFigures(
                    **common,
                    kind="requisition",
                    procore_id=f"r{cid}",
                    number=f"INV-{i}",
                    status="approved",
                    erp_id=f"bill{cid}",
                    matched_by="binding",
                    billed_procore=billed,
                    billed_erp=billed,
                    paid_procore=billed * Decimal("0.9"),
                    paid_erp=billed * Decimal("0.9"),
                    retained_procore=(billed * Decimal("0.1")).quantize(cent),
                    retained_erp=(billed * Decimal("0.1")).quantize(cent),
                )
            )
            bindings.append(
                Binding(
                    connection=conn,
                    object_type="commitment",
                    procore_id=cid,
                    erp_type="purchaseOrder",
                    erp_id=f"po{cid}",
                )
            )
            if drift and i % 2:
                items.append(
                    ExceptionItem(
                        connection=conn,
                        object_type="commitment",
                        procore_id=cid,
                        reason_code="RECONCILIATION_DRIFT",
                        procore_project_id=pid,
                        project_name=f"Project {p}",
                        document_number=f"SC-{p:03d}-{i:03d}",
                        amount=Decimal("1250.00"),
                        currency=currency,
                    )
                )
        DocumentFigures.objects.bulk_create(docs)
        Binding.objects.bulk_create(bindings)
        ExceptionItem.objects.bulk_create(items)
        sums = {
            name: sum((getattr(d, name) for d in docs), Decimal(0))
            for name in (
                f"{f}_{s}"
                for f in ("committed", "billed", "paid", "retained")
                for s in ("procore", "erp")
            )
        }
        common = {
            "run": run,
            "connection": conn,
            "procore_project_id": pid,
            "project_name": f"Project {p}",
            "currency": currency,
            "as_of": now,
        }
        ProjectTotals.objects.create(**common, **sums)
        ProjectFigures.objects.create(
            **common,
            project_number=f"25-{p:03d}",
            subsidiary_id=str(1 + p % 2),
            active=p % 10 != 0,
            documents=len(docs),
            has_variance=sums["committed_procore"] != sums["committed_erp"],
            **sums,
        )
    return first_project


def calibration() -> float:
    """Milliseconds for a million-step Python loop: how fast (and how loaded) this machine
    is, to read the figures against (a typical laptop: ~40 ms)."""
    start = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i
    return round((time.perf_counter() - start) * 1000, 1)


def stats(times: list[float]) -> dict:
    times = sorted(times)
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(p95, 1)}


def measure(args) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from accounts import roles
    from tests.factories import UserFactory

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)  # the API's throttle counts live there
    print(f"migrated in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    t0 = time.perf_counter()
    project = seed(args.projects, args.per_project)
    seed_seconds = time.perf_counter() - t0
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    client = Client()
    client.force_login(UserFactory(username="bench", roles=[roles.CONTROLLER]))
    cases = {
        "portfolio": ("/queue/reports/", {}),
        "portfolio_variances": ("/queue/reports/", {"variances": "on"}),
        "project": (f"/queue/reports/projects/{project}/", {}),
        # The API reads the same selectors (api/views/reconciliation.py).
        "api_portfolio": ("/api/v1/reconciliation/portfolio/", {}),
        "api_projects": ("/api/v1/reconciliation/projects/", {"page_size": 100}),
        "api_project": (f"/api/v1/reconciliation/projects/{project}/", {}),
    }
    out: dict = {
        "database": connection.vendor,
        "projects": args.projects,
        "commitments": args.projects * args.per_project,
        "seed_seconds": round(seed_seconds, 1),
        "calibration_loop_ms": calibration(),
        "load_average": os.getloadavg()[0],
    }
    for name, (path, params) in cases.items():
        client.get(path, params)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            response = client.get(path, params)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (name, response.status_code)
        out[name] = stats(times)
        print(name, out[name], file=sys.stderr)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    response = client.get("/queue/reports/", {"format": "xlsx"})
    size = sum(len(chunk) for chunk in response.streaming_content)
    seconds = time.perf_counter() - start
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    response = client.get("/queue/reports/", {"format": "xlsx"})
    for _chunk in response.streaming_content:
        pass
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    import openpyxl

    book = openpyxl.load_workbook(
        io.BytesIO(b"".join(client.get("/queue/reports/", {"format": "xlsx"}).streaming_content)),
        read_only=True,
    )
    rows = sum(1 for _ in book["Commitments"].iter_rows(values_only=True))
    out["xlsx_export"] = {
        "seconds": round(seconds, 2),
        "bytes": size,
        "commitment_rows": rows - 1,
        "traced_peak_mb": round(peak / 2**20, 1),
        "rss_growth_mb": round((rss_after - rss_before) / 1024, 1),
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=500)
    parser.add_argument("--per-project", type=int, default=100)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args)))
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(child(f"sqlite:///{tmp}/bench.sqlite3", args))
    if pg_answers():
        pg_database("create")
        try:
            results.append(child(PG, args))
        finally:
            pg_database("drop")
    targets = {"page_p95_ms": 300, "xlsx_seconds": 15}
    print(json.dumps({"results": results, "targets": targets}, indent=2))


if __name__ == "__main__":
    main()
