"""The documentation stays true: the site builds with no warning (broken references and internal links included), its
generated pages say what the code says, and every code example in it runs.

Examples, by fence language:

- ``python``: a block that defines tests runs as a test file in a fresh pytester directory, after the setup blocks
  that precede it on the page (a ``python`` block starting ``# conftest.py``, an ``ini`` block starting
  ``[pytest]``). The tutorial's blocks are one file, built up step by step. Any other Python block is an error.
- ``ini`` (other than ``[pytest]``), ``yaml``: parsed. ``sh``/``bash``: checked by ``bash -n``.
- ``docs/examples/*.sh`` (included with ``literalinclude``): run.
"""

from __future__ import annotations

import configparser
import dataclasses
import html
import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from pytest_ociregistry import HOSTED_PRESETS, PRESETS, Options
from pytest_ociregistry.__main__ import build_parser

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts)
JOINED_PAGES = {"tutorial.md"}
DOC_PACKAGES = ("sphinx", "myst_parser", "furo")
IN_CI = os.environ.get("CI") == "true"


@dataclasses.dataclass
class Example:
    """A runnable Python example: its test file and the setup blocks before it."""

    where: str
    code: str
    conftest: str = ""
    ini: str = ""


@dataclasses.dataclass
class Block:
    where: str
    language: str
    code: str


def fences(text: str) -> Iterator[tuple[int, str, str]]:
    """Each fenced block of a Markdown page: its first line's number, its info string, its content."""
    lines = text.splitlines(keepends=True)
    opened: tuple[int, str, str] | None = None
    body: list[str] = []
    for number, line in enumerate(lines, 1):
        if opened is None:
            match = re.match(r"(`{3,}|:{3,})(.*)", line)
            if match:
                opened, body = (number, match[1], match[2].strip()), []
        elif line.strip() == opened[1]:
            yield opened[0], opened[2], "".join(body)
            opened = None
        else:
            body.append(line)
    assert opened is None, f"a block opened on line {opened[0]} is never closed"


def blocks() -> Iterator[Block]:
    """The code blocks of every page (not the MyST directives, ``{name}``)."""
    for page in PAGES:
        for line, info, code in fences(page.read_text()):
            if not info.startswith("{"):
                yield Block(f"{page.relative_to(DOCS)}:{line}", info, code)


def python_examples() -> list[Example]:
    """The Python examples, each with its page's setup blocks; a stray Python block is an error here."""
    examples: list[Example] = []
    for page in PAGES:
        rel = str(page.relative_to(DOCS))
        page_blocks = [b for b in blocks() if b.where.startswith(rel + ":")]
        if page.name in JOINED_PAGES:
            code = "\n\n".join(b.code for b in page_blocks if b.language == "python")
            examples.append(Example(rel, code))
            continue
        conftest = ini = ""
        for block in page_blocks:
            if block.language == "python" and block.code.startswith("# conftest.py"):
                conftest = block.code
            elif block.language == "ini" and block.code.startswith("[pytest]"):
                ini = block.code
            elif block.language == "python":
                if "def test_" not in block.code:
                    raise AssertionError(f"{block.where}: a Python example must define a test (or be a conftest.py)")
                examples.append(Example(block.where, block.code, conftest, ini))
                conftest = ini = ""
        assert not (conftest or ini), f"{rel}: a setup block with no test after it"
    return examples


EXAMPLES = python_examples()


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.where for e in EXAMPLES])
def test_example_passes(pytester: pytest.Pytester, example: Example) -> None:
    if example.conftest:
        pytester.makeconftest(example.conftest)
    if example.ini:
        pytester.makeini(example.ini)
    pytester.makepyfile(test_example=example.code)
    result = pytester.runpytest("-p", "no:randomly")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1 and not {"failed", "errors", "error"} & set(outcomes), result.stdout.str()
    if IN_CI:  # every client an example uses is installed in CI: nothing may skip there
        assert "skipped" not in outcomes, result.stdout.str()


@pytest.mark.parametrize("block", [b for b in blocks() if b.language not in ("python", "text", "")],
                         ids=lambda b: b.where)
def test_other_block_is_valid(block: Block) -> None:
    if block.language == "ini":
        if block.code.startswith("[pytest]"):
            return  # run with the test after it
        configparser.ConfigParser(interpolation=None).read_string(block.code)
    elif block.language == "yaml":
        assert yaml.safe_load(block.code), block.code
    elif block.language in ("sh", "bash"):
        done = subprocess.run(["bash", "-n"], input=block.code, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
    else:
        raise AssertionError(f"{block.where}: no check for a {block.language!r} block")


def test_code_fits_the_page() -> None:
    """Code blocks and the files pages include are at most 88 columns wide: wider ones scroll sideways."""
    included = [Block(str(p.relative_to(DOCS)), "", p.read_text()) for p in (DOCS / "examples").iterdir()]
    wide = [
        f"{b.where} +{i}"
        for b in [*blocks(), *included]
        for i, line in enumerate(b.code.splitlines(), 1)
        if len(line) > 88
    ]
    assert wide == []


def test_with_registry_script(tmp_path: Path) -> None:
    """The other-language CI wrapper starts the registry, hands its URL to the command, and passes on its exit
    status."""
    script = DOCS / "examples" / "with-registry.sh"
    env = {**os.environ, "PYTHON": sys.executable, "PRESET": "distribution"}
    probe = (
        "import os, urllib.request; url = os.environ['REGISTRY_URL'];"
        "assert url == 'http://' + os.environ['REGISTRY_HOST'], url;"
        "r = urllib.request.urlopen(url + '/v2/');"
        "print(r.status, r.read().decode(), r.headers['Docker-Distribution-API-Version'])"
    )
    done = subprocess.run(["bash", str(script), sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert (done.returncode, done.stdout) == (0, "200 {} registry/2.0\n"), done.stderr
    failed = subprocess.run(["bash", str(script), "sh", "-c", "exit 3"], env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert failed.returncode == 3, failed.stderr


# The build -------------------------------------------------------------------------------------------------------


def require_doc_packages() -> None:
    missing = [name for name in DOC_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        reason = f"the docs extra is not installed ({', '.join(missing)}): pip install -e '.[docs]'"
        if IN_CI:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built from scratch with every warning an error (``-W --keep-going -n``: nitpicky references, and
    the internal-link check of ``docs/_ext``)."""
    require_doc_packages()
    out = tmp_path_factory.mktemp("docs") / "html"
    command = [sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-n", "-q", "-b", "html", str(DOCS), str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    return out


def test_the_site_builds_without_warnings(site: Path) -> None:
    pages = {p.relative_to(site).as_posix() for p in site.rglob("*.html")}
    wanted = {"index.html", "tutorial.html", "how-to/index.html", "reference/options.html", "reference/api.html",
              "explanation/index.html", "changelog.html"}
    assert wanted <= pages


def test_the_options_page_is_every_option_in_every_preset(site: Path) -> None:
    page = (site / "reference" / "options.html").read_text()
    rows = re.findall(r'<tr class="row-(?:odd|even)"><td><p><a .*?<span class="pre">(\w+)</span>.*?</tr>', page,
                      re.DOTALL)
    assert rows == [f.name for f in dataclasses.fields(Options)]
    shown = docs_extension().shown
    for name in rows:
        row = re.search(rf'<span class="pre">{name}</span>.*?</tr>', page, re.DOTALL)[0]  # type: ignore[index]
        cells = re.findall(r"<td><p>([^<]*)</p></td>", row)
        assert cells[:3] == [shown(getattr(PRESETS[p], name)) for p in ("reference", "spec", "distribution")], name


def _text(html_fragment: str) -> str:
    """The text of some HTML, its whitespace collapsed and its typographic quotes (docutils' smartquotes) plain."""
    spaced = re.sub(r"</?(?:p|br|div|td|th)\b[^>]*>", " ", html_fragment)  # blocks part words; inline tags do not
    text = html.unescape(re.sub(r"<[^>]+>", "", spaced)).translate(str.maketrans("‘’“”", "''\"\""))
    return " ".join(text.split())


def test_the_hosted_presets_page_is_every_hosted_quirk_with_its_source(site: Path) -> None:
    page = (site / "reference" / "hosted-presets.html").read_text()
    rows = docs_extension().hosted_rows()
    names = re.findall(r'<tr class="row-(?:odd|even)"><td><p><a .*?<span class="pre">(\w+)</span>', page, re.DOTALL)
    assert names == [name for name, _, _ in rows] and names
    assert [_text(th) for th in re.findall(r"<th class=\"head\">(.*?)</th>", page, re.DOTALL)] == [
        "option", "baseline", *HOSTED_PRESETS]
    for name, base, cells in rows:
        row = re.search(rf'<span class="pre">{name}</span>.*?</tr>', page, re.DOTALL)[0]  # type: ignore[index]
        shown = [_text(td) for td in re.findall(r"<td>(.*?)</td>", row, re.DOTALL)]
        wanted = [f"{value} {source}".replace("``", "").strip() for value, source in cells]  # ``x``: <code>
        assert shown == [base, *wanted], name


def test_every_hosted_quirk_names_its_catalogue_id_and_source() -> None:
    """A value a hosted preset sets comes with an entry of that preset's (``ECR-…`` for ``ecr``) in the option's
    catalogue note; the note is parsed entry by entry."""
    ociregistry_docs = docs_extension()
    missing = [
        (option, preset)
        for option, _, cells in ociregistry_docs.hosted_rows()
        for preset, (value, source) in zip(HOSTED_PRESETS, cells, strict=True)
        if value and not source
    ]
    assert missing == []
    doc = "False: X (ECR-1: roadmap#2831, 2026-06; regclient 71eee12b; GHCR-2, DH-1: wash#268)."
    assert ociregistry_docs.sources(doc) == [
        (("ECR-1",), "roadmap#2831, 2026-06; regclient 71eee12b"),
        (("GHCR-2", "DH-1"), "wash#268"),
    ]
    assert ociregistry_docs.preset_source(doc, ("DH",)) == "GHCR-2, DH-1: wash#268"
    assert ociregistry_docs.sources("True: as distribution (its default).") == []
    doc = "How: ``ecr`` (400 ``TAG_INVALID``; ECR-12: roadmap#862, #2380), ``quay`` (409 (x); QUAY-7: quay.py (S))."
    assert ociregistry_docs.sources(doc) == [(("ECR-12",), "roadmap#862, #2380"), (("QUAY-7",), "quay.py (S)")]


def test_the_command_line_page_is_the_parser_help(site: Path) -> None:
    page = (site / "reference" / "cli.html").read_text()
    for action in build_parser()._actions:
        for flag in action.option_strings:
            assert flag in page


def docs_extension() -> Any:
    """The site's Sphinx extension module (docs/_ext/ociregistry_docs.py)."""
    require_doc_packages()
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        import ociregistry_docs  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    return ociregistry_docs


def test_every_option_says_what_a_client_sees() -> None:
    ociregistry_docs = docs_extension()
    rows = ociregistry_docs.option_rows()
    assert [name for name, _, _ in rows] == [f.name for f in dataclasses.fields(Options)]
    assert [name for name, _, doc in rows if not doc] == []


def test_the_link_check_finds_broken_links(tmp_path: Path) -> None:
    ociregistry_docs = docs_extension()
    (tmp_path / "sub").mkdir()
    (tmp_path / "index.html").write_text(
        '<a href="sub/page.html#here">ok</a><a href="sub/page.html#gone">anchor</a><a href="missing.html">page</a>'
        '<a href="https://example.invalid/">outside</a><a href="#top">self</a><p id="top"></p>'
    )
    (tmp_path / "sub" / "page.html").write_text('<h1 id="here">x</h1><a href="../index.html">back</a>')
    assert ociregistry_docs.broken_links(tmp_path) == [
        "index.html: link to a missing anchor 'sub/page.html#gone'",
        "index.html: link to a missing page 'missing.html'",
    ]


