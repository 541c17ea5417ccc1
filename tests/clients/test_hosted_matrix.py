"""The documentation's hosted-preset client matrix (docs/reference/hosted-clients.md) is the one the hosted client
tests declare, and they are parametrized by it."""

from __future__ import annotations

import importlib

import hosted


def test_the_documented_matrix_is_the_tests() -> None:
    assert hosted.PAGE.read_text() == hosted.page_with(hosted.render(hosted.load_all())), (
        "run python tests/clients/hosted.py --write (docs/reference/hosted-clients.md shows another matrix)"
    )


def test_every_client_runs_against_every_hosted_preset() -> None:
    """Each of the six clients pushes and pulls against every hosted preset (and ``reference``)."""
    rows = hosted.load_all()
    for client in hosted.CLIENT_ORDER:
        [row] = [r for r in rows if r.client == client and r.operations == ("push", "pull")]
        assert tuple(c.preset for c in row.cells) == hosted.COLUMNS, client


def test_each_row_is_a_test_parametrized_by_its_presets() -> None:
    for row in hosted.load_all():
        module, name = row.test.split(".")
        test = getattr(importlib.import_module(module), name)
        [mark] = [m for m in test.pytestmark if m.name == "parametrize" and m.args[0] == ("cell", "outcomes")]
        assert tuple(cell for cell, _ in mark.args[1]) == row.cells, row.test
        for i, (_, outcomes) in enumerate(mark.args[1]):
            assert outcomes == {op: row.outcomes[op][i] for op in row.operations}, row.test


def test_every_expected_outcome_is_tested_and_sourced() -> None:
    """Each declared outcome belongs to a test's client and operation, and names its quirk and source."""
    covered = {(r.client, op) for r in hosted.load_all() for op in r.operations}
    for expect in hosted.EXPECTED:
        assert (expect.client, expect.operation) in covered, expect
        assert expect.outcome.quirk and expect.outcome.source.startswith("https://"), expect
