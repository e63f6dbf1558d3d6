"""Where a benchmark run's CPU goes, by package: our code, Django, the HTTP client, JSON...

Samples the run's processes with py-spy ``--gil`` (at each tick, the thread holding the GIL,
i.e. running Python) and charges each sample to the file of its innermost Python frame. Each
group's share of the samples times the CPU the run measured is its ms per record. Two
approximations, both said with the figures: the CPU spent outside the GIL (the kernel, SQLite
executing a statement, socket calls) is assumed to split like the rest; and a sampler falling
behind on a busy machine changes the number of samples, not the shares. (Sampling every
thread on a CPU instead, without ``--gil``, counted threads waiting on locks as busy.)
Benchmark-only and optional: ``pip install py-spy`` (a PyPI wheel with its own binary;
attaching needs ptrace, which root has), then ``--cpu-breakdown``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
OURS = {p.name for p in BASE_DIR.iterdir() if (p / "__init__.py").exists()} - {"tests"}
GROUPS = {  # first path component of the innermost frame's file -> group
    "django": "django",
    "asgiref": "django",
    "httpx": "http client",
    "httpcore": "http client",
    "h11": "http client",
    "anyio": "http client",
    "idna": "http client",
    "json": "json",
    "threading.py": "threads",
    "concurrent": "threads",
    "queue.py": "threads",
    "sqlite3": "database driver",
    "psycopg": "database driver",
    "psycopg2": "database driver",
    "redis": "redis client",
    "benchmarks": "benchmark harness",
}
FRAME = re.compile(r"\(([^:()]+)(?::\d+)?\)$")


def group_of(frame: str) -> str:
    match = FRAME.search(frame)
    first = (match.group(1) if match else frame).split("/")[0]
    if first in GROUPS:
        return GROUPS[first]
    return "ours" if first in OURS else "other"


def counts(raw: str) -> Counter[str]:
    """py-spy's raw output (``frame;frame;... count`` per line) -> samples per group."""
    per: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, n = line.rstrip().rpartition(" ")
        if stack and n.isdigit():
            per[group_of(stack.split(";")[-1])] += int(n)
    return per


class Sampler:
    """``with Sampler(pid, children=...) as s:`` samples ``pid`` (and its children) until the
    block ends; ``s.counts`` (samples per group) is read after it."""

    def __init__(self, pid: int, *, children: bool = False, rate: int = 250) -> None:
        self.pid, self.children, self.rate = pid, children, rate
        self.counts: Counter[str] = Counter()

    def __enter__(self) -> Sampler:
        exe = os.environ.get("BENCH_PYSPY") or shutil.which("py-spy")
        if not exe:
            raise SystemExit("--cpu-breakdown needs py-spy: pip install py-spy (or BENCH_PYSPY)")
        self.out = Path(tempfile.mkdtemp(prefix="erpbridge-bench-spy-")) / "raw.txt"
        command = [exe, "record", "--gil", "--nonblocking", "--format", "raw"]
        command += ["-r", str(self.rate), "-o", str(self.out), "--pid", str(self.pid)]
        if self.children:
            command.append("--subprocesses")
        self.process = subprocess.Popen(  # noqa: S603 - py-spy, our own arguments
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        return self

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        _out, err = self.process.communicate(timeout=120)
        if not self.out.exists():
            raise RuntimeError(f"py-spy wrote nothing: {err.decode(errors='replace')[-500:]}")
        self.counts = counts(self.out.read_text())


def breakdown(samplers: list[tuple[Sampler, float]], records: int) -> dict:
    """Our CPU ms per record by group: each run's measured CPU split by its samples' shares."""
    per: Counter[str] = Counter()
    for sampler, cpu_s in samplers:
        total = sum(sampler.counts.values())
        for group, n in sampler.counts.items():
            per[group] += n / total * cpu_s * 1000 / max(1, records)
    return {
        "samples": sum(sum(s.counts.values()) for s, _ in samplers),
        "ms_per_record": {g: round(ms, 2) for g, ms in per.most_common()},
    }
