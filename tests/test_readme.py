"""The README stays true: its test snippets pass, its first two commands are what CI runs, and its links into the
documentation lead somewhere. (The options table, the client matrix and the rest moved to ``docs/``, where
``tests/test_docs.py`` builds them from the code and runs their examples.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
SNIPPETS = [block for block in re.findall(r"```python\n(.*?)```", README, re.DOTALL) if "def test_" in block]


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[re.search(r"def (test_\w+)", s)[1] for s in SNIPPETS])  # type: ignore[index]
def test_snippet_passes(pytester: pytest.Pytester, snippet: str) -> None:
    pytester.makepyfile(snippet)
    outcomes = pytester.runpytest().parseoutcomes()
    assert outcomes.get("passed", 0) >= 1 and "failed" not in outcomes and "errors" not in outcomes, outcomes


def test_the_first_two_commands() -> None:
    first, second = re.search(r"```sh\n(.*?)\n(.*?)\n```", README, re.DOTALL).groups()  # type: ignore[union-attr]
    assert first.startswith("pip install -e '.[test,tls]' && python -m pytest_ociregistry")
    assert second.split("#")[0].strip() == "python -m pytest -n 2"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "\npython3 -m pytest -n 2\n" in ci


def test_links_into_the_docs_lead_somewhere() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if not re.match(r"[a-z]+:", link)]
    assert any(link.startswith("docs/") for link in local)
    assert [link for link in local if not (ROOT / link).exists()] == []
