"""The throughput benchmark runs end to end at a small size and reports what it measured.

It runs in its own processes against forked sandboxes; here always on SQLite, inline (its
PostgreSQL mode flushes the database DATABASE_URL names, which must not be a test's)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sync.services.batches import BATCH

BASE_DIR = Path(__file__).resolve().parents[2]


def bench(*args: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    out = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, "benchmarks/sync_throughput.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    [result] = json.loads(out.stdout)["results"]
    assert "error" not in result, result.get("error")
    return result


@pytest.mark.parametrize("kind", ["netsuite", "quickbooks"])
def test_commitments_only_run_reports_their_purchase_orders(kind):
    """--no-pay-apps: one run, commitments, and no Bill expected (it used to refuse the run
    because the requisitions' collection was empty)."""
    result = bench("--kind", kind, "--commitments", "12", "--no-pay-apps")
    assert result["erp"] == kind and result["mode"] == "inline"
    assert result["batch"] == BATCH  # the product's batch size unless --batch says otherwise
    assert result["commitments"] == 12 and result["pay_apps"] == 0
    assert [r["flow"] for r in result["runs"]] == ["commitments"]
    run = result["runs"][0]
    assert run["status"] == "succeeded"
    # The served world also holds the engine tests' records (some stop for a person).
    assert run["synced"] >= 12 and run["synced"] == result["synced"]
    assert result["duplicates"] == 0
    assert result["calls_vs_minimum"] >= 1.0
    assert result["share_of_ceiling"] > 0


def test_run_with_pay_apps_reports_both_flows():
    result = bench("--kind", "netsuite", "--commitments", "12")
    assert result["pay_apps"] > 0
    assert [r["flow"] for r in result["runs"]] == ["commitments", "requisitions"]
    assert all(r["status"] == "succeeded" for r in result["runs"])
    assert result["runs"][1]["synced"] > 0
    assert result["duplicates"] == 0


@pytest.mark.parametrize("entry", ["poll", "one-by-one"])
def test_the_other_ways_in_sync_the_same_records(entry):
    """--entry poll: the product's first poll of each flow; one-by-one: sync_run's loop."""
    result = bench("--kind", "netsuite", "--commitments", "12", "--entry", entry)
    assert result["entry"] == entry
    assert [r["flow"] for r in result["runs"]] == ["commitments", "requisitions"]
    assert all(r["status"] == "succeeded" for r in result["runs"]), result["runs"]
    assert result["runs"][0]["synced"] >= 12 and result["runs"][1]["synced"] > 0
    assert result["duplicates"] == 0
