"""A pytest plugin for this suite: under ``CI=true`` a skipped test fails the run.

CI installs every real component (skopeo, docker-registry, ...) and every test dependency, so there a skip means one
is missing, and the run would go green without testing what it names. Outside CI a skip stays a skip, with its
reason. The one skip CI accepts is a table row that skips by its own design (``Case.skip``, raised from
``OCIRegistry.run``).
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

ALLOWED = ("pytest_ociregistry/registry.py",)
"""Where the skips that CI accepts are raised from."""


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _fail_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    if not (_in_ci() and report.skipped) or hasattr(report, "wasxfail"):
        return
    where, reason = "", str(report.longrepr)
    if isinstance(report.longrepr, tuple):
        where, reason = str(report.longrepr[0]), str(report.longrepr[2])
    if where.endswith(ALLOWED):
        return
    report.outcome = "failed"
    report.longrepr = f"CI=true: a skip fails the run (a missing component or test dependency?): {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    _fail_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, None]:
    outcome = yield
    _fail_skip(outcome.get_result())
