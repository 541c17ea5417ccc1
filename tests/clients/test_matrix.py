"""The documentation's client matrix (docs/reference/clients.md) is the one the client tests declare, and they are
parametrized by it."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import matrix

PAGE = Path(__file__).parent.parent.parent / "docs" / "reference" / "clients.md"


def test_the_documented_matrix_is_the_tests() -> None:
    text = PAGE.read_text()
    found = re.search(r"<!-- client matrix: .*? -->\n(.*?)\n<!-- end of client matrix -->", text, re.DOTALL)
    assert found, "docs/reference/clients.md has no client matrix"
    assert found[1] == matrix.render(matrix.load_all()), "run python tests/clients/matrix.py and paste its table into docs/reference/clients.md"


def test_each_row_is_a_test_parametrized_by_its_registries() -> None:
    rows = matrix.load_all()
    assert {row.test.split(".")[0] for row in rows} >= {
        "test_docker", "test_containerd", "test_podman", "test_umoci", "test_skopeo"
    }  # fmt: skip
    for row in rows:
        module, name = row.test.split(".")
        test = getattr(importlib.import_module(module), name)
        [mark] = [m for m in test.pytestmark if m.name == "parametrize" and m.args[0] == "cell"]
        assert tuple(mark.args[1]) == row.cells, row.test
