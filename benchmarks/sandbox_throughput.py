"""Requests per second the sandboxes answer: in-process (MockTransport) and over loopback.

    python benchmarks/sandbox_throughput.py [--requests 3000]

Prints one JSON object. The sandboxes must never be the bottleneck of our own benchmarks: the
issue's bar is >= 2,000 simple requests/s in-process on this 2-core machine. The figure for a
bare ``httpx.MockTransport`` (a handler that does nothing) is printed beside it: it is the
ceiling httpx itself sets, so a loaded machine shows up in both numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable

import httpx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sandboxes.netsuite import NetSuiteSandbox  # noqa: E402
from sandboxes.procore import ProcoreSandbox  # noqa: E402
from sandboxes.quickbooks import DEMO_REALM_ID, QuickBooksSandbox  # noqa: E402
from sandboxes.server import SandboxServer  # noqa: E402

COMPANY = 4200


def procore() -> tuple[ProcoreSandbox, dict[str, str], str]:
    sb = ProcoreSandbox(seed=1, hourly_limit=10**9, spike_limit=10**9)
    sb.add_company("Summit Builders", COMPANY)
    project = sb.create_project(COMPANY, {"name": "Tower A", "project_number": "24-101"})
    headers = {
        "Authorization": f"Bearer {sb.issue_token_for_tests()}",
        "Procore-Company-Id": str(COMPANY),
    }
    return sb, headers, f"/rest/v1.0/projects/{project['id']}?company_id={COMPANY}"


def netsuite() -> tuple[NetSuiteSandbox, dict[str, str], str]:
    sb = NetSuiteSandbox(seed=1)
    headers = {"Authorization": f"Bearer {sb.issue_token_for_tests()}"}
    client = httpx.Client(base_url="https://x", transport=httpx.MockTransport(sb.handle))
    created = client.post(
        "/services/rest/record/v1/currency",
        headers=headers,
        json={"name": "Euro", "symbol": "EUR", "exchangeRate": 1.1},
    )
    location = created.headers.get("location", "")
    rid = location.rstrip("/").rsplit("/", 1)[-1] if location else "1"
    return sb, headers, f"/services/rest/record/v1/currency/{rid}"


def quickbooks() -> tuple[QuickBooksSandbox, dict[str, str], str]:
    sb = QuickBooksSandbox(seed=1, rate_scale=100_000)  # limits checked, never binding
    token = sb.issue_token_for_tests()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    return sb, headers, f"/v3/company/{DEMO_REALM_ID}/companyinfo/{DEMO_REALM_ID}"


def rate(client: httpx.Client, path: str, n: int) -> float:
    assert client.get(path).status_code == 200, client.get(path).text[:300]
    started = time.perf_counter()
    for _ in range(n):
        client.get(path)
    return round(n / (time.perf_counter() - started))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--loopback-requests", type=int, default=1000)
    args = parser.parse_args()

    bare = httpx.Client(
        base_url="https://x", transport=httpx.MockTransport(lambda r: httpx.Response(200, json={}))
    )
    result: dict[str, object] = {
        "machine": {"cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)},
        "bare_mock_transport_rps": rate(bare, "/", args.requests),
        "target_in_process_rps": 2000,
        "systems": {},
    }
    builders: dict[str, Callable] = {"procore": procore, "netsuite": netsuite}
    builders["quickbooks"] = quickbooks
    for name, build in builders.items():
        sb, headers, path = build()
        in_process = httpx.Client(
            base_url="https://x", headers=headers, transport=httpx.MockTransport(sb.handle)
        )
        server = SandboxServer()
        url = server.add(sb, 0)
        server.start()
        try:
            with httpx.Client(base_url=url, headers=headers) as loop:
                loopback = rate(loop, path, args.loopback_requests)
        finally:
            server.stop()
        result["systems"][name] = {  # type: ignore[index]
            "request": f"GET {path.split('?')[0]}",
            "in_process_rps": rate(in_process, path, args.requests),
            "loopback_rps": loopback,
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
