"""The real task queue configuration, end to end: a qcluster subprocess on a fresh SQLite
database takes a task from the ORM broker, runs it, and reports its heartbeat through the
shared cache so that /healthz sees it. Nothing is mocked; it takes a few seconds."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
KEY = "dGVzdC1vbmx5LWVycGJyaWRnZS1lbmNyeXB0aW9uLWs="

SCRIPT = textwrap.dedent(
    """
    import json, os, signal, subprocess, sys, time
    import django
    django.setup()
    from django.core.management import call_command
    from django_q.tasks import async_task, result
    from erpbridge.health import run_checks

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    before = run_checks()["checks"]["cluster"]["ok"]
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        task_id = async_task("math.sqrt", 16)
        value = result(task_id, wait=30000)
        deadline = time.monotonic() + 15
        while not run_checks()["ok"] and time.monotonic() < deadline:
            time.sleep(0.3)
        report = run_checks()
    finally:
        cluster.send_signal(signal.SIGTERM)
        stopped = cluster.wait(timeout=30)
    print(json.dumps({"before": before, "value": value, "report": report, "stopped": stopped}))
    """
)


def test_qcluster_runs_a_task_and_healthz_sees_it(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="erpbridge.settings",
        SECRET_KEY="smoke-test-secret-key",
        ERPBRIDGE_ENCRYPTION_KEY=KEY,
        ERPBRIDGE_DATA_DIR=str(tmp_path),
        ERPBRIDGE_Q_WORKERS="1",
    )

    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    assert outcome["before"] is False
    assert outcome["value"] == 4.0
    assert outcome["report"]["ok"] is True, outcome["report"]
    assert outcome["report"]["checks"]["cluster"]["clusters"] == 1
    assert outcome["stopped"] in (0, -signal.SIGTERM)
    assert (tmp_path / "erpbridge.sqlite3").exists()


@pytest.mark.django_db
def test_tasks_run_inline_in_tests():
    from django_q.tasks import async_task, result

    task_id = async_task("math.sqrt", 9)

    assert result(task_id) == 3.0
