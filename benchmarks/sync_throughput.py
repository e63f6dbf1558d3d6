"""Sync throughput: N commitments (about 5 lines each) and their pay apps (one approved
requisition each) from the Procore sandbox into each ERP sandbox through the engine, with the
ERP's real limits time-scaled; prints JSON.

    .venv/bin/python benchmarks/sync_throughput.py [--kind netsuite|quickbooks|both]
        [--commitments 5000] [--rate-scale 20] [--workers 0] [--batch N]
        [--erp-latency-ms N] [--procore-latency-ms 300] [--no-pay-apps] [--cpu-breakdown]
        [--entry batched|poll|one-by-one]
    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python \
        benchmarks/sync_throughput.py --workers 4

The sandboxes run in a forked child, served on loopback, so ``time.process_time()`` of this
process counts only our code (engine, connectors, ORM); with ``--workers N`` the sync runs in
a ``qcluster`` of N workers (``sync.jobs.run_flow_batched``, one task per batch) and our CPU is
the cluster's: every process of it, read from /proc before and after each run. The cluster
is started and warmed up once, before the runs, as a long-lived production cluster is; the
CPU its start took is reported apart (``cluster_start_cpu_s``). The runs: ``commitments``, then
``requisitions`` (the pay apps' bills link to the POs the first run bound). ``BENCH_QUERIES=1``
prints an inline run's statements by count and by time.

Time scaling: QuickBooks' windows (500/min, 10/s per realm) shrink by ``--rate-scale``, in the
sandbox and in our limiters (inline: scaled in-memory limiters; in the cluster: the product's
Redis or database limiters with scaled windows, ``benchmarks/cluster_settings.py``). NetSuite
has no window, only 15 requests in flight per account, so what scales is the time a request
takes: each sandbox answers after the real service's typical latency divided by the scale
(defaults, our estimates of the real services: NetSuite 1,000 ms per REST record request,
QuickBooks 400 ms, Procore 300 ms). Without it the "remote" would be as fast as the sandbox's
CPU on this machine, and 15 in flight would say nothing.

Figures per ERP (both runs together; per run under ``runs``): ``writes_per_s`` (ERP documents
written per second) against ``ceiling_writes_per_s`` (QuickBooks: the scaled 500/minute and
10/second windows and 10 in flight over the mean request time, if every request were a write;
NetSuite: 15 in flight over the mean request time the ERP sandbox measured, if every request
were a write); ``calls_per_record`` (Procore + ERP requests the sandboxes received, token grants
included) against ``minimum_calls_per_record`` (per record written: one ERP write and one origin
write-back; plus each distinct Procore page read once, and the token grants);
``cpu_ms_per_record`` (our process; the cluster's with ``--workers``); ``db_queries_per_record``
(inline runs); ``duplicates`` (ERP documents sharing an externalId/DocNumber). With
``--cpu-breakdown`` (needs py-spy), ``cpu_breakdown`` splits ``cpu_ms_per_record`` by where the
samples' innermost frames were: our modules, Django, the HTTP client, JSON, threads...
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import nullcontext
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
KEY = "dGVzdC1vbmx5LWVycGJyaWRnZS1lbmNyeXB0aW9uLWs="
QBO_PER_MINUTE = 500
QBO_PER_SECOND = 10
QBO_CONCURRENCY = 10
NS_CONCURRENCY = 15
REAL_LATENCY_MS = {"netsuite": 1000.0, "quickbooks": 400.0}
FLOWS = ("commitments", "requisitions")
DOCUMENTS = {  # the ERP collections the runs write, and the field naming a document once
    "netsuite": (("purchaseOrder", "externalId"), ("vendorBill", "externalId")),
    "quickbooks": (("PurchaseOrder", "DocNumber"), ("Bill", "DocNumber")),
}


def instrument(sandbox) -> None:
    """Count what the sandbox serves and time it (benchmark-only; the sandbox is untouched):
    ``GET /_bench/stats`` answers the counts, ``?reset=1`` starts them again."""
    import httpx

    lock = threading.Lock()
    inner = sandbox.handle

    def fresh():
        return {"calls": 0, "tokens": 0, "seconds": 0.0, "gets": Counter(), "writes": 0}

    stats = fresh()

    def handle(request):
        path = request.url.path
        if path == "/_bench/stats":
            with lock:
                body = {
                    **stats,
                    "distinct_gets": len(stats["gets"]),
                    "gets": sum(stats["gets"].values()),
                }
                if request.url.params.get("reset"):
                    stats.clear()
                    stats.update(fresh())
            return httpx.Response(200, json=body)
        if path.startswith("/_sandbox/"):
            return inner(request)
        started = time.perf_counter()
        try:
            return inner(request)
        finally:
            took = time.perf_counter() - started
            with lock:
                if "token" in path:
                    stats["tokens"] += 1
                else:
                    stats["calls"] += 1
                    stats["seconds"] += took
                    if request.method == "GET":
                        stats["gets"][str(request.url)] += 1
                    elif "query" not in path and "suiteql" not in path:
                        stats["writes"] += 1

    sandbox.handle = handle


def serve_world(kind: str, args, spec_path: Path) -> int:
    """Fork a child that builds and serves the sandboxes; it writes the spec, then serves."""
    pid = os.fork()
    if pid:
        deadline = time.monotonic() + 1800
        while not spec_path.exists() and time.monotonic() < deadline:
            if os.waitpid(pid, os.WNOHANG)[0]:
                raise RuntimeError("the sandbox process died (its error is above)")
            time.sleep(0.2)
        return pid
    try:  # the child: its own in-memory database only to build the world
        os.environ.update(
            DJANGO_SETTINGS_MODULE="tests.settings",
            DATABASE_URL=f"sqlite:///{spec_path.parent}/world.sqlite3",
        )
        os.environ.pop("REDIS_URL", None)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from tests.sync.documents_support import prepare
        from tests.sync.engine_support import WORLDS
        from tests.sync.served_world import (
            add_commitments,
            add_pay_apps,
            connection_spec,
            serve,
            unlimited_procore,
        )

        rate_scale = args.rate_scale
        world = prepare(WORLDS[kind]())  # + the account roles the bills need
        unlimited_procore(world)
        if kind == "quickbooks":  # the test world runs unlimited (scale 1000): real, scaled
            world.erp.rate_scale = rate_scale
            for window in ("per_minute", "per_second", "batch_app_window", "batch_realm_window"):
                if getattr(world.erp, window, None) is not None:
                    getattr(world.erp, window).scale = rate_scale
        erp_latency = args.erp_latency_ms
        if erp_latency is None:
            erp_latency = REAL_LATENCY_MS[kind]
        world.erp.faults.latency_ms = erp_latency / rate_scale
        world.procore.faults.latency_ms = args.procore_latency_ms / rate_scale
        new = add_commitments(world, args.commitments, lines=(4, 6))
        pay_apps = [] if args.no_pay_apps else add_pay_apps(world, new)
        instrument(world.erp)
        instrument(world.procore)
        _server, urls = serve(world)
        spec = connection_spec(world, urls)
        spec["commitments"] = new
        spec["pay_apps"] = pay_apps
        tmp = spec_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(spec))
        tmp.rename(spec_path)
        threading.Event().wait()
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        os._exit(0)


_CLIENTS: dict = {}
PLACEHOLDERS = re.compile(r"%s(, %s)*")


ENTRIES = ("batched", "poll", "one-by-one")


def _start_inline(entry: str, conn, object_type: str, batch: int, client):
    from sync.polling import poll_flow
    from sync.services.batches import sync_batch, sync_fan_out
    from sync.services.runs import sync_run

    if entry == "poll":  # given clients, its batches run in this process
        return poll_flow(connection_id=conn.pk, object_type=object_type, clients=client)
    if entry == "one-by-one":
        return sync_run(
            connection_id=conn.pk, object_type=object_type, trigger="benchmark", clients=client
        )

    def enqueue(run_id, flow, sources):
        sync_batch(run_id=run_id, object_type=flow, sources=sources, clients=client)

    return sync_fan_out(
        connection_id=conn.pk,
        object_type=object_type,
        trigger="benchmark",
        batch=batch,
        enqueue=enqueue,
        clients=client,
    )


def run_inline(conn, object_type: str, scale: float, batch: int | None, entry: str = "batched"):
    """The run (``--entry``: the batched run ``run_flow_batched`` queues, a poll, or record
    after record), its batches run in this process."""
    from django.db import connection as db

    from sync.clients import connection_client
    from sync.services.batches import BATCH

    if "limits" not in _CLIENTS:
        from benchmarks.scaled_limits import ScaledLimits
        from connectors.limits import MemoryLimits

        _CLIENTS["limits"] = ScaledLimits(MemoryLimits(), scale)

    def client(c):  # one client per connection, as one worker keeps them
        if c.pk not in _CLIENTS:
            _CLIENTS[c.pk] = connection_client(c, limits=_CLIENTS["limits"])
        return _CLIENTS[c.pk]

    queries, seconds = Counter(), Counter()
    timed = bool(os.environ.get("BENCH_QUERIES"))  # timing is extra CPU in the measured run

    def count(execute, sql, params, many, context):
        queries[" ".join(sql.split()[:6])] += 1
        if not timed:
            return execute(sql, params, many, context)
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:  # per statement, its placeholder lists folded: "IN (?)", "VALUES (?), (?)"
            seconds[PLACEHOLDERS.sub("?", sql)[:300]] += time.perf_counter() - started

    cpu, wall = time.process_time(), time.perf_counter()
    profile = None
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    with db.execute_wrapper(count):
        run = _start_inline(entry, conn, object_type, batch or BATCH, client)
    run.refresh_from_db()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if profile is not None:
        profile.disable()
        profile.dump_stats(f"{os.environ['BENCH_PROFILE']}.{object_type}")
    if timed:
        for sql, n in queries.most_common(25):
            print(f"{n:7d} {sql}", file=sys.stderr)
        # Wall time, so a statement waiting for the GIL after SQLite returns counts too; a
        # statement that grows with the tables (a scan) stands out as the run gets longer.
        for sql, took in seconds.most_common(12):
            print(f"{took:7.2f}s {sql}", file=sys.stderr)
    return run, wall, cpu, sum(queries.values())


def tree_cpu(root: int) -> float:
    """CPU seconds (user + system) of ``root`` and its descendants, read from /proc: each live
    process's own, plus what the ones it has reaped used (a recycled worker's)."""
    tick = os.sysconf("SC_CLK_TCK")
    parent, used = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, ...
        parent[int(entry)] = int(fields[1])
        used[int(entry)] = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parent.items() if ppid in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(used.get(pid, 0) for pid in tree) / tick


class Cluster:
    """One ``qcluster`` for all the runs of an ERP, started and warmed up before the first:
    a production cluster is long-lived, so its start (Python and Django imports in every
    process, about 1-2 CPU seconds each) is reported apart, not charged to the records."""

    def __init__(self, workers: int, env: dict) -> None:
        self.workers, self.env = workers, env

    def __enter__(self) -> Cluster:
        from django_q.models import Task
        from django_q.tasks import async_task

        self.process = subprocess.Popen(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", "qcluster"],
            cwd=BASE_DIR,
            env={**self.env, "ERPBRIDGE_Q_WORKERS": str(self.workers)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Warm up: one small task per worker (the recovery job: finds nothing here) and wait
        # for them, so the first run does not wait for the cluster to boot.
        for _ in range(self.workers):
            async_task("sync.jobs.recover_stale_changes")
        deadline = time.monotonic() + 120
        while Task.objects.filter(func="sync.jobs.recover_stale_changes").count() < self.workers:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the qcluster did not start")
            time.sleep(0.1)
        self.start_cpu = tree_cpu(self.process.pid)
        return self

    def cpu(self) -> float:
        return tree_cpu(self.process.pid)

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=120)


def run_cluster(conn, object_type: str, cluster: Cluster, batch: int | None, entry: str):
    from django_q.tasks import async_task

    from sync.models import RunStatus, SyncRun

    before = cluster.cpu()
    wall = time.perf_counter()
    if entry == "poll":  # the product's poll of this flow, as its schedule queues it
        async_task("sync.jobs_triggers.continue_flows", conn.pk, [object_type], "poll")
    else:
        async_task("sync.jobs.run_flow_batched", conn.pk, object_type, "benchmark", batch)
    trigger = "poll" if entry == "poll" else "benchmark"
    run = None
    while run is None or run.status == RunStatus.RUNNING:
        time.sleep(0.05)
        run = (
            SyncRun.objects.filter(trigger=trigger, object_type=object_type).order_by("-pk").first()
        )
    wall = time.perf_counter() - wall
    return run, wall, cluster.cpu() - before, None


def _stats(url: str) -> dict:
    import httpx

    return httpx.get(f"{url}/_bench/stats", params={"reset": "1"}, timeout=60).json()


def _figures(kind: str, args, runs: list[dict]) -> dict:
    records = max(1, sum(r["records"] for r in runs))
    synced = sum(r["synced"] for r in runs)
    wall = sum(r["seconds"] for r in runs)
    calls = sum(r["calls"] for r in runs)
    minimum = sum(r["minimum_calls"] for r in runs)
    erp_calls = sum(r["erp_calls"] for r in runs)
    erp_seconds = sum(r["erp_seconds"] for r in runs)
    latency = erp_seconds / max(1, erp_calls)  # the mean time the ERP took per request
    if kind == "quickbooks":
        scaled = args.rate_scale
        ceiling = min(
            QBO_PER_MINUTE * scaled / 60, QBO_PER_SECOND * scaled, QBO_CONCURRENCY / latency
        )
    else:
        ceiling = NS_CONCURRENCY / latency
    out = {
        "records": sum(r["records"] for r in runs),
        "synced": synced,
        "queued": sum(r["queued"] for r in runs),
        "failed": sum(r["failed"] for r in runs),
        "seconds": round(wall, 2),
        "erp_request_ms": round(latency * 1000, 1),
        "writes_per_s": round(synced / wall, 1),
        "ceiling_writes_per_s": round(ceiling, 1),
        "share_of_ceiling": round(synced / wall / ceiling, 3),
        "calls_per_record": round(calls / records, 2),
        "minimum_calls_per_record": round(minimum / records, 2),
        "calls_vs_minimum": round(calls / max(1, minimum), 2),
        "cpu_ms_per_record": round(sum(r["cpu"] for r in runs) * 1000 / records, 2),
    }
    queries = [r["db_queries"] for r in runs if r["db_queries"] is not None]
    if queries:
        out["db_queries_per_record"] = round(sum(queries) / records, 1)
    sampled = [(r["sampler"], r["cpu"]) for r in runs if r["sampler"] is not None]
    if sampled:
        from benchmarks.cpu_breakdown import breakdown

        out["cpu_breakdown"] = breakdown(sampled, records)
    return out


def _documents(kind: str, erp_url: str, collection: str) -> list[dict]:
    import httpx

    from sandboxes.quickbooks import DEMO_REALM_ID

    # QuickBooks keeps its entities per company: "<realm>:PurchaseOrder".
    stored = f"{DEMO_REALM_ID}:{collection}" if kind == "quickbooks" else collection
    rows = httpx.get(f"{erp_url}/_sandbox/records/{stored}", timeout=120).json()
    return rows.get("items", rows) if isinstance(rows, dict) else rows


def run_one(conn, flow: str, args, cluster: Cluster | None, erp_url: str, procore_url: str):
    sampler = None
    if args.cpu_breakdown:
        from benchmarks.cpu_breakdown import Sampler

        pid = cluster.process.pid if cluster is not None else os.getpid()
        sampler = Sampler(pid, children=cluster is not None)
    with sampler or nullcontext():
        if cluster is not None:
            run, wall, cpu, queries = run_cluster(conn, flow, cluster, args.batch, args.entry)
        else:
            run, wall, cpu, queries = run_inline(
                conn, flow, args.rate_scale, args.batch, args.entry
            )
    erp, procore = _stats(erp_url), _stats(procore_url)
    return {
        "flow": flow,
        "status": run.status,
        "records": run.total,
        "synced": run.synced,
        "queued": run.queued,
        "failed": run.failed,
        "seconds": wall,
        "cpu": cpu,
        "db_queries": queries,
        "sampler": sampler,
        "calls": erp["calls"] + erp["tokens"] + procore["calls"] + procore["tokens"],
        "minimum_calls": 2 * run.synced
        + procore["distinct_gets"]
        + erp["tokens"]
        + procore["tokens"],
        "erp_calls": erp["calls"],
        "erp_seconds": erp["seconds"],
        "detail": {"erp": erp, "procore": procore, "error": run.error[:300]},
    }


def measure(kind: str, args, env: dict) -> dict:

    child, spec_path = args.child, args.spec_path
    try:
        spec = json.loads(spec_path.read_text())
        from tests.sync.served_world import load_spec

        conn = load_spec(spec)
        erp_url = spec["erp"]["settings"].get("base_url") or spec["erp"]["settings"]["api_base_url"]
        procore_url = spec["procore"]["settings"]["api_base_url"]
        _stats(erp_url), _stats(procore_url)  # the world's building is not the run's
        seeded = {
            c: {str(r.get("id") or r.get("Id")) for r in _documents(kind, erp_url, c)}
            for c, _key in DOCUMENTS[kind]
        }
        runs = []
        # The cluster's rate windows shrink with the latency (benchmarks/cluster_settings.py).
        scaled = {
            **env,
            "DJANGO_SETTINGS_MODULE": "benchmarks.cluster_settings",
            "ERPBRIDGE_BENCH_RATE_SCALE": str(args.rate_scale),
        }
        cluster = Cluster(args.workers, scaled) if args.workers else None
        flows = FLOWS if spec["pay_apps"] else FLOWS[:1]
        with cluster or nullcontext():
            for flow in flows:
                runs.append(run_one(conn, flow, args, cluster, erp_url, procore_url))
        documents = {}
        # The collections the flows that ran write (DOCUMENTS is in FLOWS' order): without
        # pay apps, no Bill is expected, and none counted.
        for collection, _key in DOCUMENTS[kind][: len(flows)]:
            # Only what the runs wrote: the seeded books hold look-alikes on purpose.
            rows = [
                r
                for r in _documents(kind, erp_url, collection)
                if str(r.get("id") or r.get("Id")) not in seeded[collection]
            ]
            if not rows:  # a wrong collection name would report zero duplicates: refuse
                raise RuntimeError(f"the runs wrote no {collection} in the {kind} sandbox")
            documents[collection] = rows
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
    from sync.services.batches import BATCH

    duplicates = 0
    keys = dict(DOCUMENTS[kind])
    for collection, rows in documents.items():
        counts = Counter(r.get(keys[collection]) for r in rows if r.get(keys[collection]))
        duplicates += sum(n - 1 for n in counts.values() if n > 1)
    return {
        "erp": kind,
        "mode": f"qcluster x{args.workers}" if args.workers else "inline",
        "database": env.get("DATABASE_URL", "sqlite").split(":")[0],
        "commitments": len(spec["commitments"]),
        "pay_apps": len(spec["pay_apps"]),
        "rate_scale": args.rate_scale,
        "batch": args.batch or BATCH,
        "entry": args.entry,
        **({"cluster_start_cpu_s": round(cluster.start_cpu, 2)} if cluster else {}),
        **_figures(kind, args, runs),
        "duplicates": duplicates,
        "runs": [
            {
                "flow": r["flow"],
                "status": r["status"],
                **_figures(kind, args, [r]),
                "erp_requests": {k: r["detail"]["erp"][k] for k in ("calls", "writes", "gets")},
                "procore_requests": {
                    k: r["detail"]["procore"][k]
                    for k in ("calls", "writes", "gets", "distinct_gets")
                },
                **({"error": r["detail"]["error"]} if r["detail"]["error"] else {}),
            }
            for r in runs
        ],
    }


def arguments(argv: list[str]):
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", default="both", choices=("netsuite", "quickbooks", "both"))
    parser.add_argument("--commitments", type=int, default=5000)
    parser.add_argument("--rate-scale", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=0)
    # Records per batch task; default: the product's (sync.services.batches.BATCH).
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--erp-latency-ms", type=float, default=None)
    parser.add_argument("--procore-latency-ms", type=float, default=300.0)
    parser.add_argument("--no-pay-apps", action="store_true")
    # Which way in: the batched run itself (default); the product's poll of the flow (a first
    # poll: one full pass, in batches); or record after record (sync_run's loop, how a first
    # poll and a full resync ran before 2026-12-04; inline only).
    parser.add_argument("--entry", default="batched", choices=ENTRIES)
    # Split our CPU per record by package with py-spy (benchmarks/cpu_breakdown.py).
    parser.add_argument("--cpu-breakdown", action="store_true")
    args = parser.parse_args(argv)
    if args.entry == "one-by-one" and args.workers:
        parser.error("--entry one-by-one runs in this process: leave out --workers")
    return args


def main() -> None:
    args = arguments(sys.argv[1:])
    data = Path(tempfile.mkdtemp(prefix="erpbridge-bench-db-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "erpbridge.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "benchmark-secret-key"),
        "ERPBRIDGE_ENCRYPTION_KEY": os.environ.get("ERPBRIDGE_ENCRYPTION_KEY", KEY),
        "ERPBRIDGE_DATA_DIR": str(data),
        "LOG_LEVEL": "ERROR",
    }
    kinds = ["netsuite", "quickbooks"] if args.kind == "both" else [args.kind]
    results = []
    for kind in kinds:
        # A fresh database per ERP: run each in its own process.
        data = Path(tempfile.mkdtemp(prefix=f"erpbridge-bench-{kind}-"))
        out = subprocess.run(  # noqa: S603 - this script, with our own arguments
            [sys.executable, __file__, "--one", kind, *sys.argv[1:]],
            env={**env, "ERPBRIDGE_DATA_DIR": str(data)},
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            results.append({"erp": kind, "error": out.stderr[-2000:]})
        else:
            sys.stderr.write(out.stderr)  # BENCH_QUERIES' breakdown, warnings
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(json.dumps({"benchmark": "sync_throughput", "results": results}, indent=2))


def one(kind: str) -> None:
    args = arguments(sys.argv[3:])
    env = dict(os.environ)
    # The sandboxes' child is forked before Django is set up here: it sets up its own.
    args.spec_path = Path(tempfile.mkdtemp(prefix="erpbridge-bench-")) / "spec.json"
    args.child = serve_world(kind, args, args.spec_path)
    import django

    django.setup()
    from django.core.management import call_command

    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    print(json.dumps(measure(kind, args, env)))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        one(sys.argv[2])
    else:
        main()
