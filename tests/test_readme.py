"""The README stays true: its test snippets pass, and its option table is the options and presets as they are."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from pytest_ociregistry import PRESETS, Options

README = (Path(__file__).parent.parent / "README.md").read_text()
SNIPPETS = [block for block in re.findall(r"```python\n(.*?)```", README, re.DOTALL) if "def test_" in block]



@pytest.mark.parametrize("snippet", SNIPPETS, ids=[re.search(r"def (test_\w+)", s)[1] for s in SNIPPETS])  # type: ignore[index]
def test_snippet_passes(pytester: pytest.Pytester, snippet: str) -> None:
    pytester.makepyfile(snippet)
    outcomes = pytester.runpytest().parseoutcomes()
    assert outcomes.get("passed", 0) >= 1 and "failed" not in outcomes and "errors" not in outcomes, outcomes


def test_the_option_table_is_current() -> None:
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \|", README, re.MULTILINE)
    table = {name: (ref.strip(), spec.strip(), dist.strip()) for name, ref, spec, dist in rows}

    def shown(value: object) -> str:
        if value is None:
            return "–"
        if isinstance(value, bool):
            return "on" if value else "off"
        if isinstance(value, tuple):
            return ", ".join(value) or "–"
        return str(value)

    expected = {
        f.name: tuple(shown(getattr(PRESETS[p], f.name)) for p in ("reference", "spec", "distribution"))
        for f in dataclasses.fields(Options)
    }
    assert table == expected


def test_the_first_two_commands() -> None:
    first, second = re.search(r"```sh\n(.*?)\n(.*?)\n```", README, re.DOTALL).groups()  # type: ignore[union-attr]
    assert first.startswith("pip install -e '.[test,tls]' && python -m pytest_ociregistry")
    assert second.split("#")[0].strip() == "python -m pytest -n 2"
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text()
    assert "\npython3 -m pytest -n 2\n" in ci
