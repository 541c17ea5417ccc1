"""The client matrix: which client runs which operation against which registry (preset × transport × auth).

Tests declare what they cover with :func:`covers`, which is also their parametrization, so the documented table
(``python tests/clients/matrix.py`` prints it; ``tests/clients/test_matrix.py`` checks it) says exactly what runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from pytest_ociregistry import PRESETS, Auth, Options, User

PRESET_NAMES = ("reference", "spec", "distribution")
AUTHS = ("none", "basic", "bearer")
USER = User("ci", "s3cret")  # every grant; the tests' clients log in as this user


@dataclass(frozen=True)
class Cell:
    """One registry to run against: a preset, plain HTTP or HTTPS (``tls``), and an auth scheme (or none)."""

    preset: str
    tls: bool
    auth: str

    @property
    def id(self) -> str:
        return f"{self.preset}-{'https' if self.tls else 'http'}-{self.auth}"

    def options(self) -> dict[str, Any]:
        """The registry's options: the preset's, with this cell's auth."""
        preset = PRESETS[self.preset]
        options = {field.name: getattr(preset, field.name) for field in dataclasses.fields(Options)}
        options["auth"] = None if self.auth == "none" else Auth(self.auth, users=(USER,))
        return options


def _cells(rows: str) -> tuple[Cell, ...]:
    return tuple(Cell(p, t == "https", a) for p, t, a in (row.split("-") for row in rows.split()))


# Every pair of (preset, transport), (preset, auth) and (transport, auth) in nine registries.
PAIRWISE = _cells(
    "reference-http-none reference-https-basic reference-http-bearer "
    "spec-https-none spec-http-basic spec-https-bearer "
    "distribution-http-none distribution-https-basic distribution-http-bearer"
)
# Each preset over plain HTTP, without and with each auth scheme.
HTTP_AUTH = _cells(" ".join(f"{p}-http-{a}" for p in PRESET_NAMES for a in AUTHS))
# Each preset over plain HTTP without auth, and one HTTPS registry with Bearer auth.
PRESETS_AND_TLS = _cells(" ".join(f"{p}-http-none" for p in PRESET_NAMES) + " distribution-https-bearer")
# Each preset, plain HTTP, no auth.
PRESETS_ONLY = _cells(" ".join(f"{p}-http-none" for p in PRESET_NAMES))


@dataclass(frozen=True)
class Row:
    """A test's claim: ``client`` does ``operations`` against each of ``cells``, with ``outcome``."""

    client: str
    operations: tuple[str, ...]
    cells: tuple[Cell, ...]
    test: str  # module.function
    outcome: str  # "passes", or the client's known failure


MATRIX: list[Row] = []
F = TypeVar("F", bound=Callable[..., Any])


def covers(client: str, operations: Sequence[str], cells: Sequence[Cell], *, fails: str = "") -> Callable[[F], F]:
    """Parametrize a test over ``cells`` (argument ``cell``) and record it in the matrix. ``fails`` names a known
    client failure that the test asserts."""

    def mark(test: F) -> F:
        MATRIX.append(
            Row(client, tuple(operations), tuple(cells), f"{test.__module__}.{test.__name__}", fails or "passes")
        )
        return pytest.mark.parametrize("cell", cells, ids=[c.id for c in cells])(test)  # type: ignore[no-any-return]

    return mark


def render(rows: Sequence[Row]) -> str:
    """The matrix as a Markdown table: a line per test, what the client does, which presets, transports and auth
    schemes it runs against (✓), in how many registries, and how it ends."""
    columns = ["client", "operations", *PRESET_NAMES, "HTTP", "HTTPS", "no auth", "Basic", "Bearer", "registries"]
    lines = [f"| {' | '.join(columns)} | outcome |", "|---" * (len(columns) + 1) + "|"]
    for row in rows:
        marks = [
            *(any(c.preset == p for c in row.cells) for p in PRESET_NAMES),
            *(any(c.tls == t for c in row.cells) for t in (False, True)),
            *(any(c.auth == a for c in row.cells) for a in AUTHS),
        ]
        shown = " | ".join("✓" if mark else "" for mark in marks)
        lines.append(f"| {row.client} | {', '.join(row.operations)} | {shown} | {len(row.cells)} | {row.outcome} |")
    return "\n".join(lines)


def load_all() -> list[Row]:
    """Import every client test module and return the matrix they declare (sorted by client, then as declared)."""
    import importlib
    from pathlib import Path

    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        importlib.import_module(path.stem)
    order = {client: i for i, client in enumerate(CLIENT_ORDER)}
    return sorted(MATRIX, key=lambda row: order.get(row.client, len(order)))


CLIENT_ORDER = ("docker", "ctr", "podman", "buildah", "umoci", "skopeo")


if __name__ == "__main__":
    import matrix  # the module the test modules register in, not this __main__ copy

    print(matrix.render(matrix.load_all()))
