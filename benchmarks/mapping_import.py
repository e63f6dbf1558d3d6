"""Validate and apply 100,000 cost-code rows from CSV and from XLSX; prints JSON.

Run: .venv/bin/python benchmarks/mapping_import.py [rows]

Each format runs in its own subprocess on a fresh throwaway database (SQLite by default,
DATABASE_URL's test database when set), so its peak memory is its own: `peak_rss_mb` is the
process's maximum resident set size (ru_maxrss), Django and the file included. The reference
cache holds every cost code, cost type, item, account, class and subsidiary the rows name, so
every reference is checked. `validate_seconds` is the preview (read the file, validate every
row, compare with the table, keep the file); `apply_seconds` is the apply (validate again
inside the transaction, bulk-write the rows and one history row each).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("ERPBRIDGE_TEST_DB_DIR", tempfile.gettempdir())
SUBSIDIARIES = ["1", "2", "3", "4", "5"]


def rows(n: int):
    for i in range(n):
        c, sub = divmod(i, len(SUBSIDIARIES))
        code = f"{c // 1000:02d}-{c % 1000:03d}"
        yield [code, "S", SUBSIDIARIES[sub], "", "", f"{900 + c % 50}", f"{600 + c % 40}", "7"]


def run_one(fmt: str, n: int) -> dict:
    import django

    django.setup()
    from django.db import connection as db

    # Tables straight from the models (no migration graph): the figures are about the import.
    db.settings_dict.setdefault("TEST", {})["MIGRATE"] = False
    old_name = db.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        from django.utils import timezone

        from mappings import events
        from mappings.files import write_csv, write_xlsx
        from mappings.models import CostCodeMapping, MappingChange, ReferenceRecord
        from mappings.services import upload_apply, upload_preview
        from mappings.specs import COST_CODE
        from sync.models import Connection, Kind

        # The engine's re-evaluation of blocked items is its own work, measured elsewhere.
        events._callbacks.clear()
        events._batch_callbacks.clear()
        procore = Connection.objects.create(name="Procore", kind=Kind.PROCORE)
        erp = Connection.objects.create(
            name="NetSuite", kind=Kind.NETSUITE, procore_connection=procore
        )
        now = timezone.now()

        def ref(conn, kind, remote_id, code=""):
            return ReferenceRecord(
                connection=conn, kind=kind, remote_id=remote_id, code=code, refreshed_at=now
            )

        codes = sorted({r[0] for r in rows(n)})
        refs = [ref(procore, "cost_code", c, c) for c in codes]
        refs.append(ref(procore, "cost_type", "t1", "S"))
        refs += [ref(erp, "subsidiary", s) for s in SUBSIDIARIES]
        refs += [ref(erp, "item", str(900 + i)) for i in range(50)]
        refs += [ref(erp, "account", str(600 + i)) for i in range(40)]
        refs.append(ref(erp, "class", "7"))
        ReferenceRecord.objects.bulk_create(refs, batch_size=2000)
        header = list(COST_CODE.column_names)
        if fmt == "xlsx":
            content = write_xlsx(header, rows(n), "Cost codes")
        else:
            content = write_csv(header, rows(n))

        started, cpu = time.perf_counter(), time.process_time()
        upload = upload_preview(
            connection=erp, table="cost_code", filename=f"codes.{fmt}", content=content, user=None
        )
        validate_s, validate_cpu = time.perf_counter() - started, time.process_time() - cpu
        assert upload.counts["create"] == n and not upload.counts["error"], upload.preview
        started, cpu = time.perf_counter(), time.process_time()
        upload_apply(upload=upload, user=None)
        apply_s, apply_cpu = time.perf_counter() - started, time.process_time() - cpu
        assert CostCodeMapping.objects.filter(connection=erp).count() == n
        assert MappingChange.objects.filter(connection=erp).count() == n
        return {
            "file_bytes": len(content),
            "validate_seconds": round(validate_s, 2),
            "apply_seconds": round(apply_s, 2),
            "total_seconds": round(validate_s + apply_s, 2),
            # CPU time of this process: the fairer figure on a machine shared with other work.
            "validate_cpu_seconds": round(validate_cpu, 2),
            "apply_cpu_seconds": round(apply_cpu, 2),
            "total_cpu_seconds": round(validate_cpu + apply_cpu, 2),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    finally:
        db.creation.destroy_test_db(old_name, verbosity=0)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        print(json.dumps(run_one(sys.argv[2], int(sys.argv[3]))))
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    result: dict = {
        "rows": n,
        "database": "postgresql" if "postgres" in os.environ.get("DATABASE_URL", "") else "sqlite",
        "target": {"seconds": 20, "peak_mb": 300},
        "cpus": os.cpu_count(),
    }
    for fmt in ("csv", "xlsx"):
        out = subprocess.run(  # noqa: S603 - our own script, fixed arguments
            [sys.executable, __file__, "--one", fmt, str(n)],
            check=True,
            capture_output=True,
            text=True,
        )
        result[fmt] = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
