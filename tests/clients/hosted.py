"""The hosted presets' client evidence: each real client's operations against each hosted preset (and ``reference``,
the control), and how each ends.

A test declares what it covers with :func:`evidence`, which is also its parametrization: it runs once per preset,
with that preset's expected :class:`Outcome` for each operation (:data:`EXPECTED`; "passes" unless listed there).
The test asserts that outcome: success, or the client's exact error text. ``python tests/clients/hosted.py`` prints
the matrix; ``tests/clients/test_hosted_matrix.py`` checks that docs/reference/hosted-clients.md shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from matrix import Cell

from pytest_ociregistry import PRESETS

# The hosted presets, in the catalogue's order; those not in PRESETS yet are left out.
CATALOGUE = ("ecr", "ghcr", "dockerhub", "gar", "acr", "quay", "harbor", "artifactory", "gitlab", "zot")
HOSTED = tuple(name for name in CATALOGUE if name in PRESETS)
COLUMNS = ("reference", *HOSTED)  # reference: the control, where every operation passes
F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
CLIENT_ORDER = ("skopeo", "podman", "docker", "ctr", "oras-py", "python-dxf")


@dataclass(frozen=True)
class HostedCell(Cell):
    """A :class:`Cell` (plain HTTP here) with options set over the preset's (``overrides``: name, value pairs)."""

    overrides: tuple[tuple[str, Any], ...] = ()

    @property
    def id(self) -> str:
        extra = "".join(f"-{name}" for name, _ in self.overrides)
        return f"{self.preset}{'' if self.auth == 'none' else '-' + self.auth}{extra}"

    def options(self) -> dict[str, Any]:
        return {**super().options(), **dict(self.overrides)}


@dataclass(frozen=True)
class Outcome:
    """How one operation of one client ends against one preset: it passes (``error`` empty), possibly through
    the client's own workaround for the preset's quirk (``workaround``), or fails, printing ``error``. ``quirk``
    names the catalogue id(s), ``source`` the upstream report, bug or workaround."""

    error: str = ""
    quirk: str = ""
    source: str = ""
    workaround: str = ""

    @property
    def passes(self) -> bool:
        return not self.error

    def check(self, returncode: int, output: str, what: str = "") -> None:
        """Assert a command ended so: exit 0, or non-zero with ``error`` in its ``output`` (where a Go client's log
        line quotes it, ``\\"`` read as ``"``)."""
        if self.passes:
            assert returncode == 0, f"{what} failed ({returncode}):\n{output}"
        else:
            assert returncode != 0, f"{what} succeeded; expected: {self.error}\n{output}"
            assert self.error in output.replace('\\"', '"'), output

    def call(self, run: Callable[..., T], *args: Any, printed: Callable[[], str] = str, **kwargs: Any) -> T | None:
        """Call ``run(*args, **kwargs)``; assert it returns (and return its result), or raises an exception whose
        message, or what it logged (``printed()``), holds ``error`` (and return None)."""
        if self.passes:
            return run(*args, **kwargs)
        with pytest.raises(Exception) as caught:
            run(*args, **kwargs)
        assert self.error in f"{printed()}\n{caught.value}", f"{printed()}\n{caught.value!r}"
        return None


PASSES = Outcome()


def fails(error: str, quirk: str, source: str) -> Outcome:
    """The client fails with ``error`` (text it prints) on the preset's ``quirk``; ``source``: the upstream link."""
    return Outcome(error=error, quirk=quirk, source=source)


def works_around(workaround: str, quirk: str, source: str) -> Outcome:
    """The client passes through its own ``workaround`` for the preset's ``quirk``."""
    return Outcome(quirk=quirk, source=source, workaround=workaround)


# (preset, client, operation) → outcome; every other combination passes.
EXPECTED: dict[tuple[str, str, str], Outcome] = {}


@dataclass(frozen=True)
class Row:
    """A test's claim: ``client`` does ``operations`` against each of ``cells``."""

    client: str
    operations: tuple[str, ...]
    cells: tuple[HostedCell, ...]
    test: str  # module.function
    outcomes: dict[str, tuple[Outcome, ...]] = field(default_factory=dict)  # operation → outcome per cell


ROWS: list[Row] = []


def expected(preset: str, client: str, operation: str) -> Outcome:
    return EXPECTED.get((preset, client, operation), PASSES)


def evidence(
    client: str,
    operations: Sequence[str],
    presets: Sequence[str] = COLUMNS,
    *,
    auth: str = "none",
    overrides: Sequence[tuple[str, Any]] = (),
) -> Callable[[F], F]:
    """Parametrize a test over ``presets`` (arguments ``cell``, a :class:`HostedCell`, and ``outcomes``, each
    operation's :class:`Outcome` there) and record it in the matrix."""
    cells = tuple(HostedCell(p, False, auth, tuple(overrides)) for p in presets if p in PRESETS)
    table = {op: tuple(expected(c.preset, client, op) for c in cells) for op in operations}

    def mark(test: F) -> F:
        ROWS.append(Row(client, tuple(operations), cells, f"{test.__module__}.{test.__name__}", table))
        params = [(c, {op: table[op][i] for op in operations}) for i, c in enumerate(cells)]
        marked = pytest.mark.parametrize(("cell", "outcomes"), params, ids=[c.id for c in cells])(test)
        return marked  # type: ignore[no-any-return]

    return mark


def _cell(outcome: Outcome, note: int) -> str:
    if outcome.passes:
        return f"✓ ({note})" if outcome.workaround else "✓"
    return f"**✗** ({note})"


def render(rows: Sequence[Row]) -> str:
    """The matrix as Markdown: a line per client and operation, a column per preset (✓ passes, ✗ fails), and a
    numbered note for each cell that is not a plain pass (the error text, or the workaround, with the quirk and its
    source)."""
    lines = [f"| client | operation | {' | '.join(COLUMNS)} |", "|---" * (len(COLUMNS) + 2) + "|"]
    notes: list[str] = []
    for row in rows:
        for op in row.operations:
            shown = {c.preset: outcome for c, outcome in zip(row.cells, row.outcomes[op])}
            cells = []
            for preset in COLUMNS:
                outcome = shown.get(preset)
                if outcome is None:
                    cells.append("")
                    continue
                if outcome != PASSES:
                    what = f"the client passes through its workaround: {outcome.workaround}" if outcome.passes \
                        else f"fails with `{outcome.error}`"  # fmt: skip
                    notes.append(f"{len(notes) + 1}. {preset}, {row.client} {op}: {what} ({outcome.quirk}; "
                                 f"{outcome.source})")  # fmt: skip
                cells.append(_cell(outcome, len(notes)))
            label = op + ("".join(f" ({n}={v!r})" for n, v in row.cells[0].overrides) if row.cells else "")
            lines.append(f"| {row.client} | {label} | {' | '.join(cells)} |")
    return "\n".join(lines) + ("\n\n" + "\n".join(notes) if notes else "")


def load_all() -> list[Row]:
    """Import every hosted-client test module and return the rows they declare (by client, then as declared)."""
    import importlib
    from pathlib import Path

    for path in sorted(Path(__file__).parent.glob("test_hosted_*.py")):
        importlib.import_module(path.stem)
    order = {client: i for i, client in enumerate(CLIENT_ORDER)}
    return sorted(ROWS, key=lambda row: order.get(row.client, len(order)))


if __name__ == "__main__":
    import hosted  # the module the test modules register in, not this __main__ copy

    print(hosted.render(hosted.load_all()))
