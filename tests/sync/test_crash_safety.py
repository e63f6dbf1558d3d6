"""Crash safety (issue #6): sync ~500 commitments through real ``qcluster`` processes while
workers are killed with SIGKILL at random moments, and once the whole cluster; restart; the
ERP holds exactly one document per commitment and every commitment is synced or in the queue.
Then the same with the ERP sandbox dropping the connection after committing writes.

How it runs:

* The sandboxes (demo company + N approved commitments) are served on loopback from threads
  of this process; the clusters are separate processes (``tests/sync/cluster_settings.py``)
  on this test's own database: pytest-django's SQLite file or PostgreSQL ``test_…`` database
  (``transaction=True``, so what the test writes is committed and visible to them).
* Each cluster runs in its own session: SIGKILL to one worker (django-q2's sentinel starts a
  new one; the task it held comes back after ``retry``), SIGKILL to the whole group (a lost
  host; a new cluster is started), and every group is killed in ``finally``.
* Kills happen when the number of bound commitments crosses random thresholds, not after
  sleeps: the test paces itself on the database, whatever the machine's load. Deadlines are
  generous and only bound a hung run; nothing asserts how long anything took.
* Short task timeouts (``ERPBRIDGE_Q_TIMEOUT``) make the product's own waits short: a killed
  task comes back after ``retry``, a Change left in ``sending`` by a dead worker may be sent
  again after ``STALE_SENDING`` (timeout + 30 s). After the kills, the recovery job
  (``sync.jobs.recover_stale_changes``, scheduled every few minutes in production) and one
  more batched run (what the next poll or a full resync does) finish the work.

``ERPBRIDGE_CRASH_COMMITMENTS`` (default 500) and ``ERPBRIDGE_CRASH_SEED`` override the size
and the kill moments; the seed is printed and part of every failure message.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection, transaction

from sandboxes.quickbooks import DEMO_REALM_ID
from sync.models import (
    ACTIVE_STATUSES,
    PENDING_STATES,
    Binding,
    Change,
    ChangeState,
    ExceptionItem,
    RunStatus,
    SyncRun,
)
from tests.sync.engine_support import WORLDS
from tests.sync.served_world import (
    add_commitments,
    connection_spec,
    load_spec,
    serve,
    unlimited_procore,
)

BASE_DIR = Path(__file__).resolve().parents[2]
COUNT = int(os.environ.get("ERPBRIDGE_CRASH_COMMITMENTS", "500"))
BATCH = 10  # records per task: a kill loses little
WORKERS = 2
Q_TIMEOUT, Q_RETRY = 30, 40  # seconds; STALE_SENDING in the cluster is Q_TIMEOUT + 30
WORKER_KILLS = 4  # plus one kill of the whole cluster, in the middle
STALL = Q_RETRY + 90  # no task finished for this long with tasks queued: the cluster is stuck
PHASE_DEADLINE = 600.0  # bounds a hung run only
DOCUMENTS = {
    "netsuite": ("purchaseOrder", "externalId"),
    "quickbooks": ("PurchaseOrder", "DocNumber"),
}
FAULTS = {"no_faults": {}, "commit_then_drop": {"commit_then_drop_rate": 0.25}}

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


# -- the world -------------------------------------------------------------------------------


def build_world(kind: str, count: int):
    """The sandboxes, served; the connections and mappings stored in the test database."""
    with transaction.atomic():  # the world's own in-process connections are not wanted here
        world = WORLDS[kind]()
        transaction.set_rollback(True)
    unlimited_procore(world)
    new = add_commitments(world, count, prefix="CR", lines=(2, 5))
    server, urls = serve(world)
    spec = connection_spec(world, urls)
    return world, server, urls, load_spec(spec), new


def erp_documents(urls: dict[str, str], kind: str) -> list[dict]:
    collection, _key = DOCUMENTS[kind]
    if kind == "quickbooks":  # the sandbox keeps each company's entities apart
        collection = f"{DEMO_REALM_ID}:{collection}"
    rows = httpx.get(f"{urls['erp']}/_sandbox/records/{collection}", timeout=120).json()
    return rows.get("items", rows) if isinstance(rows, dict) else rows


def doc_id(document: dict) -> str:
    return str(document.get("id") or document.get("Id"))


def commitment_of(world, kind: str):
    """The ERP document's key -> the Procore commitment id it was written for."""
    if kind == "netsuite":
        return lambda key: key.split("-commitment-", 1)[1] if "-commitment-" in key else None
    numbers = {
        str(rec.get("number") or rec["id"])[:21]: str(rec["id"])
        for rec in world.procore.store.all("commitments")
    }
    return numbers.get


# -- the clusters ----------------------------------------------------------------------------


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Clusters:
    """``qcluster`` processes on the test database, each the leader of its own session."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []
        self.events: list[str] = []
        self.kills = 0  # workers killed inside a task
        self.began = time.monotonic()
        self.progress: tuple[tuple[int, int], float] = ((-1, -1), time.monotonic())
        self.env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        self.env.update(
            DJANGO_SETTINGS_MODULE="tests.sync.cluster_settings",
            DATABASE_URL=database_url(),
            ERPBRIDGE_TEST_CACHE_PREFIX=settings.CACHES["default"].get("KEY_PREFIX", ""),
            ERPBRIDGE_Q_WORKERS=str(WORKERS),
            ERPBRIDGE_Q_TIMEOUT=str(Q_TIMEOUT),
            ERPBRIDGE_Q_RETRY=str(Q_RETRY),
            ERPBRIDGE_TEST_PARENT_PID=str(os.getpid()),  # the cluster dies with this process
            LOG_LEVEL="INFO",
        )
        if not os.environ.get("REDIS_URL"):
            self.env.pop("REDIS_URL", None)

    def note(self, event: str) -> None:
        self.events.append(f"{time.monotonic() - self.began:.0f}s {event}")

    @property
    def current(self) -> subprocess.Popen:
        return self.procs[-1]

    def start(self) -> subprocess.Popen:
        log = open(self.log_dir / f"qcluster-{len(self.procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", "qcluster"],
            cwd=BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.procs.append(proc)
        return proc

    def workers(self) -> list[int]:
        """The live worker pids of the current cluster, from its heartbeat (django-q2 Stat)."""
        from django_q.status import Stat

        proc = self.current
        for stat in Stat.get_all() or []:
            if stat.pid == proc.pid:
                return [pid for pid in stat.workers if _child_of(pid, stat.sentinel)]
        return []

    def kill_worker(self, rng: random.Random) -> int | None:
        """SIGKILL to a worker in the middle of a task (see ``_mid_task``); None when the
        broker holds no task any more, so no worker will be busy again: the work finished
        between crossing the threshold and catching a worker inside a task (a batch takes a
        fraction of a second, and tasks a dead cluster had reserved come back together
        after ``retry``)."""

        def busy() -> list[int] | str:
            pids = [pid for pid in self.workers() if _mid_task(pid)]
            if pids:
                return pids
            return "" if queued_tasks() else "idle"

        found = wait_for(busy, "a worker busy with a task", self, interval=0.05)
        if found == "idle":
            return None
        pid = rng.choice(found)
        os.kill(pid, signal.SIGKILL)
        return pid

    def check(self) -> None:
        """Replace a cluster that stopped taking work (what its supervisor would do): no task
        finished for ``STALL`` seconds while the broker holds tasks."""
        from django_q.models import OrmQ, Task

        mark = (Task.objects.count(), bound_all())
        now = time.monotonic()
        if mark != self.progress[0]:
            self.progress = (mark, now)
        elif now - self.progress[1] > STALL and OrmQ.objects.exists():
            self.note(f"replaced a stalled cluster at {mark[1]} bound")
            self.kill_all()
            self.start()
            self.progress = (mark, time.monotonic())

    def kill_all(self) -> None:
        """SIGKILL to the current cluster's whole process group: nothing gets to clean up."""
        proc = self.current
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)

    def stop(self) -> None:
        """SIGTERM to the current cluster (its tasks finish), then make sure of every group."""
        proc = self.current
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=60)

    def cleanup(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)

    def logs(self, tail: int = 3000) -> str:
        out = []
        for path in sorted(self.log_dir.glob("qcluster-*.log")):
            text = path.read_text(errors="replace")
            out.append(f"--- {path.name}\n{text[-tail:]}")
        return "\n".join(out)


# x86_64 system call numbers, for reading /proc/<pid>/task/<tid>/syscall.
READ, WRITE, FUTEX = 0, 1, 202


def _mid_task(pid: int) -> bool:
    """Whether worker ``pid`` is running a task rather than waiting for one.

    A worker waiting for a task sits in ``read()`` on the cluster's task pipe holding the
    queue's read lock, and one handing in a result writes to the result pipe under its write
    lock; SIGKILL at either moment leaves the lock taken for good and the whole cluster stops
    taking tasks (django-q2 issue #23, "when the next-in-line worker dies, the entire cluster
    stops processing tasks"). That is a liveness bug of the task queue, not what this test is
    about, so kills go to workers that are inside a task: no thread of theirs on a pipe, the
    main thread not parked on a lock."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    main = None
    for tid in threads:
        try:
            call = Path(f"/proc/{pid}/task/{tid}/syscall").read_text().split()
        except OSError:
            return False
        if not call:
            return False
        if call[0] == "running":
            nr = -1
        else:
            nr = int(call[0])
            if nr in (READ, WRITE) and len(call) > 1 and _is_pipe(pid, int(call[1], 16)):
                return False
        if tid == str(pid):
            main = nr
    return main is not None and main != FUTEX


def _is_pipe(pid: int, fd: int) -> bool:
    try:
        return os.readlink(f"/proc/{pid}/fd/{fd}").startswith("pipe:")
    except OSError:
        return True  # cannot tell: assume the worst


def _child_of(pid: int, parent: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0] not in ("Z", "X") and int(fields[1]) == parent


# -- waiting on the database -----------------------------------------------------------------


class Timeout(AssertionError):
    pass


def wait_for(
    probe,
    what: str,
    clusters: Clusters | None = None,
    deadline: float = PHASE_DEADLINE,
    interval: float = 0.5,
):
    """Poll ``probe`` every ``interval`` seconds until it returns something truthy; fail with
    the state after ``deadline`` seconds (a hung run, not a slow one: the deadline is far
    above any run)."""
    end = time.monotonic() + deadline
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > end:
            raise Timeout(
                f"gave up waiting for {what}\n{state()}\n{clusters.logs() if clusters else ''}"
            )
        if clusters is not None:
            if clusters.current.poll() is not None:
                raise AssertionError(f"the cluster exited waiting for {what}\n{clusters.logs()}")
            clusters.check()
        time.sleep(interval)


def queued_tasks() -> int:
    from django_q.models import OrmQ

    return OrmQ.objects.count()


def bound(conn) -> int:
    return Binding.objects.filter(connection=conn, object_type="commitment").count()


def bound_all() -> int:
    return Binding.objects.count()


@contextlib.contextmanager
def cleanup_on_sigterm():
    """SIGTERM (a CI timeout) raises here, so the ``finally`` that kills the clusters runs."""

    def stop(signum, frame):
        raise SystemExit(f"stopped by signal {signum}")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def state() -> str:
    changes = Counter(Change.objects.values_list("state", flat=True))
    runs = list(SyncRun.objects.values_list("pk", "trigger", "status", "total", "done"))
    return f"changes={dict(changes)} tasks_in_broker={queued_tasks()} runs={runs}"


def enqueue(func: str, *args) -> None:
    """Into the broker, for the cluster (the test settings run tasks inline otherwise)."""
    from django_q.tasks import async_task

    async_task(func, *args, q_options={"sync": False})


# -- the test --------------------------------------------------------------------------------


def drive(clusters: Clusters, conn, rng: random.Random) -> tuple[SyncRun, int]:
    """Run, kill, restart, recover, run again; returns the final run and the recovery rounds."""
    # Random moments (bound commitments), all in the first two thirds of the work, so the
    # last kill's leftovers (a Change in "sending") age past STALE_SENDING as the rest runs.
    marks = sorted(rng.sample(range(int(COUNT * 0.05), int(COUNT * 0.65)), WORKER_KILLS + 1))
    whole = WORKER_KILLS // 2  # this kill takes the whole cluster
    clusters.start()
    enqueue("sync.jobs.run_flow_batched", conn.pk, "commitments", "crash-test", BATCH)
    for n, mark in enumerate(marks):
        at = wait_for(lambda m=mark: (b := bound(conn)) >= m and b, f"{mark} bound", clusters)
        if n == whole:
            clusters.kill_all()
            clusters.note(f"killed the whole cluster at {at} bound")
            clusters.start()
        else:
            pid = clusters.kill_worker(rng)
            if pid is None:
                clusters.note(f"no task left to kill at {bound(conn)} bound")
            else:
                clusters.kills += 1
                clusters.note(f"killed worker {pid} at {bound(conn)} bound")

    # Everything queued, and every killed task once the broker hands it out again, finishes.
    wait_for(lambda: queued_tasks() == 0, "the broker to drain", clusters)
    clusters.note(f"drained at {bound(conn)} bound")
    # The recovery job sends what dead workers left in "sending", once that is stale.
    rounds = 0

    def recovered() -> bool:
        nonlocal rounds
        if not Change.objects.filter(state=ChangeState.SENDING).exists():
            return True
        if queued_tasks() == 0:
            rounds += 1
            enqueue("sync.jobs.recover_stale_changes")
        time.sleep(2)
        return False

    wait_for(recovered, "no change left in sending", clusters)
    clusters.note(f"recovered at {bound(conn)} bound")
    # The next run (a poll, a full resync) finds the work done and writes nothing twice.
    enqueue("sync.jobs.run_flow_batched", conn.pk, "commitments", "crash-final", BATCH)
    final = wait_for(
        lambda: (
            queued_tasks() == 0
            and SyncRun.objects.filter(trigger="crash-final")
            .exclude(status=RunStatus.RUNNING)
            .first()
        ),
        "the final run",
        clusters,
    )
    clusters.note("final run done")
    clusters.stop()
    return final, rounds


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("kind", ["netsuite", "quickbooks"])
def test_sigkilled_workers_leave_one_erp_document_per_commitment(kind, fault, tmp_path):
    seed = int(os.environ.get("ERPBRIDGE_CRASH_SEED") or random.SystemRandom().randrange(10**6))
    print(f"crash test: {kind} {fault} commitments={COUNT} seed={seed}")
    from django_q.models import Schedule

    Schedule.objects.all().delete()  # the migrations' daily jobs have no business here
    world, server, urls, conn, new = build_world(kind, COUNT)
    clusters = Clusters(tmp_path)
    with cleanup_on_sigterm():
        try:
            before = {doc_id(d) for d in erp_documents(urls, kind)}
            if FAULTS[fault]:
                httpx.post(f"{urls['erp']}/_sandbox/faults", json=FAULTS[fault], timeout=30)
            started = time.monotonic()
            final, rounds = drive(clusters, conn, random.Random(seed))
            seconds = round(time.monotonic() - started)
            documents = erp_documents(urls, kind)
        finally:
            clusters.cleanup()
            server.stop()
    events = clusters.events

    context = f"seed={seed} events={events} recovery_rounds={rounds}\n{state()}"
    # The first kills come early (from 5 % of the work on), with most batches still queued,
    # so at least one worker dies inside a task; later ones may find the work already done.
    assert clusters.kills >= 1, f"no worker was killed inside a task\n{context}"
    assert final.status == RunStatus.SUCCEEDED, f"{final.error}\n{context}"

    # The ERP: one document per commitment key among what the run wrote.
    _collection, key_field = DOCUMENTS[kind]
    written = [d for d in documents if doc_id(d) not in before]
    keys = Counter(str(d.get(key_field) or "") for d in written)
    duplicates = {k: n for k, n in keys.items() if n > 1}
    assert not duplicates, f"duplicate ERP documents {duplicates}\n{context}"
    owner = commitment_of(world, kind)
    docs_of = {owner(str(d.get(key_field) or "")): doc_id(d) for d in written}
    assert None not in docs_of, f"an ERP document that is no commitment's\n{context}"

    # Every commitment: bound to that one document, or waiting in the queue.
    bindings = dict(
        Binding.objects.filter(connection=conn, object_type="commitment").values_list(
            "procore_id", "erp_id"
        )
    )
    queued = set(
        Change.objects.filter(
            connection=conn, object_type="commitment", state__in=PENDING_STATES
        ).values_list("procore_id", flat=True)
    ) | set(
        ExceptionItem.objects.filter(
            connection=conn, object_type="commitment", status__in=ACTIVE_STATUSES
        ).values_list("procore_id", flat=True)
    )
    for pid, doc in docs_of.items():
        assert bindings.get(pid) == doc or pid in queued, f"{pid}: ERP {doc} unbound\n{context}"
    lost = [pid for pid in new if pid not in bindings and pid not in queued]
    assert not lost, f"{len(lost)} commitments neither synced nor queued: {lost[:10]}\n{context}"
    for pid in new:
        if pid in bindings:
            assert docs_of.get(pid) == bindings[pid], f"{pid} bound to a missing doc\n{context}"
    # The new commitments are clean (mapped vendor and codes, unique numbers): a crash may
    # leave one only in the transient dead letter queue, never rejected or held.
    reasons = Counter(
        ExceptionItem.objects.filter(
            connection=conn, procore_id__in=new, status__in=ACTIVE_STATUSES
        ).values_list("reason_code", flat=True)
    )
    assert set(reasons) <= {"RETRIES_EXHAUSTED"}, f"{dict(reasons)}\n{context}"
    if not FAULTS[fault]:
        assert all(pid in bindings for pid in new), f"{dict(reasons)}\n{context}"
    # Nothing in flight is left behind after the recovery pass.
    assert not Change.objects.filter(state=ChangeState.SENDING).exists(), context
    print(
        f"crash test done: {kind} {fault} bound={len(bindings)} queued={len(queued)} "
        f"reclaimed={Change.objects.filter(attempts__gt=1).count()} seconds={seconds} {context}"
    )
