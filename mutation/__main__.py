"""Run the mutants: ``python -m mutation [--module NAME ...] [-k TEXT ...] [--list] [--timeout SECONDS]``.

Exit status 0 when every mutant is killed or listed as equivalent (and every equivalent one survives), 1 otherwise:
a mutant the tests do not kill, one whose source no longer matches (the code moved on: update the list), or a
baseline that fails unmutated.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .mutants import MODULE_TESTS, MUTANTS, Mutant

ROOT = Path(__file__).resolve().parent.parent
SKIP = shutil.ignore_patterns(".git", ".tox", "__pycache__", "*.egg-info", ".mypy_cache", ".ruff_cache",
                              ".pytest_cache", ".hypothesis", "benchmarks")


@dataclass
class Outcome:
    mutant: Mutant
    verdict: str
    """``killed``, ``survived``, ``equivalent`` (survived, as listed), ``stale`` (the source no longer matches),
    ``error`` (a mutant that does not compile, or pytest could not run)."""
    seconds: float = 0.0
    detail: str = ""


def pytest_command(tests: tuple[str, ...]) -> list[str]:
    return [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
            "-p", "no:xdist", "--no-header", "-o", "addopts=", *tests]


def run_tests(copy: Path, tests: tuple[str, ...], timeout: float) -> tuple[int | None, str]:
    """Run ``tests`` in the scratch copy (which shadows the installed package); the exit status (None: timed out)
    and the tail of the output."""
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("CI", None)
    try:
        done = subprocess.run(pytest_command(tests), cwd=copy, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None, ""
    return done.returncode, (done.stdout + done.stderr)[-1500:]


def try_mutant(copy: Path, mutant: Mutant, timeout: float) -> Outcome:
    path = copy / "pytest_ociregistry" / f"{mutant.module}.py"
    source = path.read_text()
    if source.count(mutant.original) != 1:
        return Outcome(mutant, "stale", detail=f"found {source.count(mutant.original)} times in {mutant.module}.py")
    mutated = source.replace(mutant.original, mutant.mutated)
    try:
        compile(mutated, str(path), "exec")
    except SyntaxError as e:
        return Outcome(mutant, "error", detail=f"does not compile: {e}")
    path.write_text(mutated)
    start = time.monotonic()
    try:
        status, output = run_tests(copy, mutant.tests or MODULE_TESTS[mutant.module], timeout)
    finally:
        path.write_text(source)
    seconds = time.monotonic() - start
    if status is None or status in (1, 2):  # failed, timed out, or could no longer be collected
        verdict = "killed" if mutant.equivalent is None else "error"
        detail = "timed out" if status is None else _first_failure(output)
        if mutant.equivalent is not None:
            detail = f"listed as equivalent, but killed: {detail}"
        return Outcome(mutant, verdict, seconds, detail)
    if status == 0:
        return Outcome(mutant, "survived" if mutant.equivalent is None else "equivalent", seconds)
    return Outcome(mutant, "error", seconds, f"pytest exited {status}: {output}")


def _first_failure(output: str) -> str:
    failed = [line for line in output.splitlines() if line.startswith(("FAILED", "ERROR"))]
    return failed[0] if failed else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mutation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", action="append", help="only this module's mutants (repeatable)")
    parser.add_argument("-k", dest="texts", action="append", help="only mutants whose name contains TEXT (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant's tests (default 300)")
    args = parser.parse_args(argv)
    mutants = [m for m in MUTANTS if (not args.module or m.module in args.module) and
               (not args.texts or any(text in m.name for text in args.texts))]
    if args.list:
        for m in mutants:
            print(f"{m.module:10} {m.name}{'  (equivalent: ' + m.equivalent + ')' if m.equivalent else ''}")
        return 0
    with tempfile.TemporaryDirectory(prefix="mutation-") as scratch:
        copy = Path(scratch) / "project"
        shutil.copytree(ROOT, copy, ignore=SKIP)
        imported = subprocess.run([sys.executable, "-c", "import pytest_ociregistry; print(pytest_ociregistry.__file__)"],
                                  cwd=copy, env={**os.environ, "PYTHONPATH": str(copy)}, capture_output=True, text=True,
                                  check=True).stdout.strip()
        if not imported.startswith(str(copy)):
            print(f"the scratch copy does not shadow the installed package (it imports {imported})")
            return 1
        for module in dict.fromkeys(m.module for m in mutants):
            status, output = run_tests(copy, MODULE_TESTS[module], args.timeout)
            if status != 0:
                print(f"baseline: the {module} tests fail unmutated (exit {status}):\n{output}")
                return 1
        outcomes = []
        for i, mutant in enumerate(mutants, 1):
            outcome = try_mutant(copy, mutant, args.timeout)
            outcomes.append(outcome)
            print(f"[{i}/{len(mutants)}] {outcome.verdict:10} {mutant.module}:{mutant.name} "
                  f"({outcome.seconds:.0f} s) {outcome.detail}", flush=True)
    return report(outcomes)


def report(outcomes: list[Outcome]) -> int:
    print("\nmodule      mutants  killed  equivalent  survived  other  killed %")
    for module in dict.fromkeys(o.mutant.module for o in outcomes):
        counts = Counter(o.verdict for o in outcomes if o.mutant.module == module)
        total = sum(counts.values())
        other = total - counts["killed"] - counts["equivalent"] - counts["survived"]
        print(f"{module:10} {total:8} {counts['killed']:7} {counts['equivalent']:11} {counts['survived']:9} "
              f"{other:6} {100 * counts['killed'] / total:8.1f}")
    counts = Counter(o.verdict for o in outcomes)
    total = len(outcomes)
    print(f"{'all':10} {total:8} {counts['killed']:7} {counts['equivalent']:11} {counts['survived']:9} "
          f"{total - counts['killed'] - counts['equivalent'] - counts['survived']:6} "
          f"{100 * counts['killed'] / max(total, 1):8.1f}")
    bad = [o for o in outcomes if o.verdict not in ("killed", "equivalent")]
    for o in bad:
        print(f"  {o.verdict}: {o.mutant.module}:{o.mutant.name} {o.detail}")
    for o in outcomes:
        if o.verdict == "equivalent":
            print(f"  equivalent: {o.mutant.module}:{o.mutant.name}: {o.mutant.equivalent}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
