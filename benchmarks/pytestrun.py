"""The fixture's cost as a user's test run sees it: pytest, in a subprocess, runs ``tests`` tests that use
``oci_registry`` (empty, and each pushing a 3-layer image with ``push_image``) and the same tests without the fixture
(empty, and each building the same image). Only pytest's test loop is timed (a hook in the run's ``conftest.py``),
not its start-up or collection; the overhead per test is the difference over the number of tests."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from .servers import OURS
from .stats import Stat

if TYPE_CHECKING:
    from .workloads import Context

PYTEST = "pytest"
"""The rows of the runs without the fixture."""

CONFTEST = '''\
import os
import time

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session):
    start = time.perf_counter()
    try:
        return (yield)
    finally:
        with open(os.environ["BENCH_LOOP_SECONDS"], "w") as out:
            out.write(repr(time.perf_counter() - start))
'''

HEADER = '''\
import pytest

from pytest_ociregistry import content

LAYERS = [b"layer one", b"layer two", b"layer three"]


@pytest.mark.parametrize("i", range({tests}))
'''

BODIES = {
    "empty": "def test_it(i):\n    pass\n",
    "empty.fixture": "def test_it(i, oci_registry):\n    pass\n",
    "image": "def test_it(i):\n    content.image(LAYERS)\n",
    "image.fixture": "def test_it(i, oci_registry):\n    oci_registry.push_image('bench/image', 'v1', LAYERS)\n",
}
"""Each variant's test; ``X.fixture`` is ``X`` with the fixture."""


def loop_seconds(work: Path, variant: str) -> float:
    """Seconds pytest's test loop takes over ``variant``'s tests (every one must pass)."""
    timing = work / f"{variant}.seconds"
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "-p", "no:xdist",
            f"test_{variant.replace('.', '_')}.py"]
    env = dict(os.environ, BENCH_LOOP_SECONDS=str(timing))
    result = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"pytest over the {variant} tests failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return float(timing.read_text())


def pytest_run(ctx: Context) -> None:
    cfg = ctx.config
    tests = cfg.pytest_tests
    with tempfile.TemporaryDirectory(prefix="bench-pytest-") as tmp:
        work = Path(tmp)
        (work / "pytest.ini").write_text("[pytest]\n")  # not the project's configuration
        (work / "conftest.py").write_text(CONFTEST)
        for variant, body in BODIES.items():
            (work / f"test_{variant.replace('.', '_')}.py").write_text(HEADER.format(tests=tests) + body)
        seconds: dict[str, list[float]] = {variant: [] for variant in BODIES}
        for _ in range(cfg.pytest_reps):  # interleaved, so that a noisy moment hits every variant alike
            for variant in BODIES:
                seconds[variant].append(loop_seconds(work, variant))
    for base in ("empty", "image"):
        plain, with_fixture = seconds[base], seconds[f"{base}.fixture"]
        ctx.add(f"{PYTEST}.{base}.{tests}", PYTEST, Stat(tuple(s / tests * 1e3 for s in plain)), "ms/test",
                higher=False, note="per test, without the fixture")
        overhead = Stat(tuple((f - p) / tests * 1e3 for f, p in zip(with_fixture, plain)))
        what = "an empty test" if base == "empty" else "a test pushing a 3-layer image with push_image"
        ctx.add(f"{PYTEST}.{base}.{tests}.overhead", OURS, overhead, "ms/test", higher=False,
                note=f"oci_registry's cost per test, {what}")
