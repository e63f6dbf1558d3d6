"""benchmarks/cpu_breakdown.py: py-spy's raw samples grouped by the package of their
innermost frame, and the measured CPU split by those shares."""

from __future__ import annotations

import pytest

from benchmarks.cpu_breakdown import Sampler, breakdown, counts, group_of

RAW = """\
process 1:"python";<module> (benchmarks/sync_throughput.py:535);plan_record (sync/engine.py:120) 30
process 1:"python";<module> (benchmarks/sync_throughput.py:1);execute (django/db/utils.py:79) 50
process 1:"python";Thread.run (threading.py:982);send (httpx/_client.py:900) 15
process 1:"python";Thread.run (threading.py:982);dumps (json/encoder.py:258) 5
garbage line without a count
"""


def test_frames_are_grouped_by_the_package_of_their_file():
    assert group_of("plan_record (sync/engine.py:120)") == "ours"
    assert group_of("NetSuiteClient.send (connectors/netsuite/client.py:88)") == "ours"
    assert group_of("execute (django/db/backends/utils.py:79)") == "django"
    assert group_of("_receive_event (h11/_connection.py:1)") == "http client"
    assert group_of("wait (threading.py:320)") == "threads"
    assert group_of("count (benchmarks/sync_throughput.py:208)") == "benchmark harness"
    assert group_of("served (tests/sync/served_world.py:10)") == "other"  # not the product


def test_counts_and_breakdown_split_the_measured_cpu_by_share():
    per = counts(RAW)
    assert per == {"ours": 30, "django": 50, "http client": 15, "json": 5}
    sampler = Sampler(pid=1)
    sampler.counts = per
    # 2 CPU seconds over 100 records: 20 ms per record, split 30/50/15/5.
    out = breakdown([(sampler, 2.0)], records=100)
    assert out["samples"] == 100
    assert out["ms_per_record"] == pytest.approx(
        {"django": 10.0, "ours": 6.0, "http client": 3.0, "json": 1.0}
    )
    assert list(out["ms_per_record"]) == ["django", "ours", "http client", "json"]
