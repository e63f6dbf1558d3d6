"""``python -m sandboxes serve``: the three simulated systems on loopback, optionally seeded.

    python -m sandboxes serve --seed 42 --size demo --state var/sandboxes.json

Each system gets its own port (Procore 8701, NetSuite 8702, QuickBooks 8703 by default). With
``--state`` the state is loaded from the file when it exists (instead of seeding) and saved back
on exit, so a demo keeps its history across restarts.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from typing import Any

from .core import Sandbox
from .server import SandboxServer


def build(seed: int, rate_scale: float) -> dict[str, Sandbox]:
    from .netsuite import NetSuiteSandbox
    from .procore import ProcoreSandbox
    from .quickbooks import QuickBooksSandbox

    return {
        "procore": ProcoreSandbox(seed=seed, rate_scale=rate_scale),
        "netsuite": NetSuiteSandbox(seed=seed, rate_scale=rate_scale),
        "quickbooks": QuickBooksSandbox(seed=seed, rate_scale=rate_scale),
    }


def seed_all(boxes: dict[str, Sandbox], seed: int, size: str) -> dict[str, Any]:
    """Generate one company and load each system's share of it; returns the key -> id maps."""
    from importlib import import_module

    from .dataset.generate import generate

    company = generate(seed=seed, size=int(size) if size.isdigit() else size)
    ids = {}
    for name, box in boxes.items():
        loader = import_module(f"sandboxes.{name}.seed")
        ids[name] = loader.load(box, company)
    return {
        "company": company.name,
        "procore_company_id": company.procore_company_id,
        "planted": company.planted,
        "ids": ids,
    }


def serve(args: argparse.Namespace) -> int:
    boxes = build(args.seed, args.rate_scale)
    seeded: dict[str, Any] = {}
    if args.state and os.path.exists(args.state):
        with open(args.state, encoding="utf-8") as fh:
            saved = json.load(fh)
        for name, box in boxes.items():
            if name in saved:
                box.load_state(_reparse(saved[name]))
        seeded = saved.get("_seeded", {})
    elif args.size != "none":
        seeded = seed_all(boxes, args.seed, args.size)

    server = SandboxServer(host=args.host, webhook_interval=args.webhook_interval)
    ports = {"procore": args.procore_port, "netsuite": args.netsuite_port}
    ports["quickbooks"] = args.quickbooks_port
    urls = {name: server.add(box, ports[name]) for name, box in boxes.items()}
    server.start()
    print(json.dumps({"sandboxes": urls, "seed": args.seed, "size": args.size}), flush=True)
    if args.ids_file:
        with open(args.ids_file, "w", encoding="utf-8") as fh:
            json.dump({"urls": urls, **seeded}, fh, indent=2, default=str)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop()
    if args.state:
        _save(boxes, seeded, args.state)
    return 0


def _reparse(data: Any) -> Any:
    """State files hold JSON numbers; read them back as Decimal like the sandboxes do."""
    from .core import dumps, loads

    return loads(dumps(data))


def _save(boxes: dict[str, Sandbox], seeded: dict[str, Any], path: str) -> None:
    from .core import dumps

    state = {name: box.dump_state() for name, box in boxes.items()}
    state["_seeded"] = seeded
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(dumps(state))
    os.replace(tmp, path)  # never leave a half-written state file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandboxes")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="serve the Procore, NetSuite and QuickBooks sandboxes")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--procore-port", type=int, default=8701)
    run.add_argument("--netsuite-port", type=int, default=8702)
    run.add_argument("--quickbooks-port", type=int, default=8703)
    run.add_argument("--seed", type=int, default=42)
    run.add_argument("--size", default="demo", help="demo|small|medium|large|<projects>|none")
    run.add_argument("--rate-scale", type=float, default=1.0, help="shrink rate windows")
    run.add_argument("--state", help="load state from / save state to this JSON file")
    run.add_argument("--ids-file", help="write the URLs and seeded key -> id maps here")
    run.add_argument("--webhook-interval", type=float, default=1.0)
    args = parser.parse_args(argv)
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
