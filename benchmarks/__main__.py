"""``python -m benchmarks [--quick] [--json out.json] [--only GROUP]``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import report
from .config import FULL, QUICK
from .servers import Pool, skipped
from .stats import Results
from .targets import targets
from .workloads import GROUPS, Context


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer runs (under a minute)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(GROUPS),
        metavar="NAME",
        help=f"run only this group (repeatable): {', '.join(GROUPS)}",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = QUICK if args.quick else FULL
    selected = [name for name in GROUPS if not args.only or name in args.only]
    results = Results()
    began = time.perf_counter()
    for note in skipped():
        print(f"({note})")
    with Pool() as pool:
        ctx = Context(config, pool, results)
        for name in selected:
            print(f"[{name}]", flush=True)
            pool.reset_all()
            start = time.perf_counter()
            GROUPS[name](ctx)
            print(f"[{name}: {time.perf_counter() - start:.0f} s]", flush=True)
    checks = [t for t in targets(config) if t.status(results) != "n/a" or not args.only]
    print()
    print(report.table(results))
    print()
    print(report.targets_section(results, checks))
    print(f"\n{time.perf_counter() - began:.0f} s")
    if args.json:
        report.write_json(args.json, results, checks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
