"""``python -m sandboxes.dataset --seed 42 --size demo``: print the dataset's summary as JSON."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date

from .generate import REFERENCE_DATE, SIZES, generate
from .summary import summary


def _size(text: str) -> str | int:
    if text.isdigit():
        return int(text)
    if text not in SIZES:
        raise argparse.ArgumentTypeError(f"use one of {', '.join(SIZES)} or a number of projects")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.dataset", description=__doc__)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--size", type=_size, default="demo", help="demo|small|medium|large|N")
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=REFERENCE_DATE,
        help="the date the data is anchored to (YYYY-MM-DD)",
    )
    parser.add_argument("--timing", action="store_true", help="add generation seconds")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    company = generate(args.seed, args.size, today=args.today)
    elapsed = time.perf_counter() - started
    out = summary(company)
    if args.timing:
        out["generation_seconds"] = round(elapsed, 3)
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
