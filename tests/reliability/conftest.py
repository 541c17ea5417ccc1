"""Fixtures the reliability tests share: each module's figures (a summary line at its end, each test's own
with ``pytest -s``) and the registry's logged errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from reliability_support import (
    FIGURE_KEYS,
    FIGURES,
    SCALE,
    Errors,
    format_figures,
)


@pytest.fixture(scope="module", autouse=True)
def _summary(request: pytest.FixtureRequest) -> Iterator[None]:
    """Write the module's figures at its end (shown even without ``-s``)."""
    before = FIGURES.snapshot()
    yield
    counts = FIGURES.snapshot()
    counts.subtract(before)
    line = f"{request.module.__name__} (OCI_STRESS_SCALE={SCALE}): {format_figures(counts)}"
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:  # pragma: no cover
        print(line)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_line(line)


@pytest.fixture(autouse=True)
def _figures(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print each test's own figures (visible with ``pytest -s``)."""
    before = FIGURES.snapshot()
    yield
    delta = FIGURES.snapshot()
    delta.subtract(before)
    if any(delta[key] for key in FIGURE_KEYS):
        print(f"\n[{request.node.name}] {format_figures(delta)}")


@pytest.fixture
def logged_errors() -> Iterator[Errors]:
    """ERROR records of the registry's loggers during one test (for a hypothesis test: all its examples)."""
    handler = Errors()
    logger = logging.getLogger("pytest_ociregistry")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
