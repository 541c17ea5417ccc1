"""Sphinx directives that write the reference pages from the code, so they cannot drift from it.

- ``oci-options``: every named option, its value in each preset, and what a client sees (the field's docstring in
  ``pytest_ociregistry/options.py``).
- ``oci-hosted-presets``: each option a hosted preset sets, its value in each hosted preset, with the catalogue
  id(s) and source the option's docstring ends with.
- ``oci-pytest-flags`` and ``oci-ini-keys``: what the plugin's ``pytest_addoption`` registers.
- ``oci-fixtures``: the plugin's fixtures, their scope and docstring.
- ``oci-error-codes``: the OCI error codes with their status and message.
- ``oci-cli-help``: ``python -m pytest_ociregistry --help``, as the parser prints it.

The directives write reStructuredText (the docstrings are reST) and parse it in place; in a MyST page they go in an
``{eval-rst}`` block. When the build finishes, every internal link of the HTML output (``href`` to a page of the
site, with or without ``#anchor``) is checked, and a link to a missing page or anchor is a warning.
"""

from __future__ import annotations

import ast
import dataclasses
import html.parser
import inspect
import itertools
import os
import re
import textwrap
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

logger = logging.getLogger(__name__)

PRESET_ORDER = ("reference", "spec", "distribution")


class GeneratedRST(SphinxDirective):
    """A directive whose content is reStructuredText made by :meth:`lines`."""

    has_content = False

    def lines(self) -> list[str]:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        container = nodes.section()
        container.document = self.state.document
        source = f"<{self.name}>"
        content = StringList(self.lines(), source=source)
        nested_parse_with_titles(self.state, content, container)
        return list(container.children)


def _cell(text: str) -> list[str]:
    """A list-table cell: the text's lines, the first after ``- ``, the rest indented to match."""
    lines = textwrap.dedent(text).strip().splitlines() or [""]
    return [lines[0], *lines[1:]]


def list_table(header: list[str], rows: list[list[str]], widths: str, css: str = "") -> list[str]:
    """A ``list-table`` directive with a header row, its columns ``widths`` wide (percentages)."""
    out = [".. list-table::", "   :header-rows: 1", f"   :widths: {widths}", f"   :class: oci-generated {css}", ""]
    for row in [header, *rows]:
        for i, cell in enumerate(row):
            first, *rest = _cell(cell)
            out.append(("   * - " if i == 0 else "     - ") + first)
            out.extend("       " + line for line in rest)
    out.append("")
    return out


# Options -------------------------------------------------------------------------------------------------------------


def field_docstrings(cls: type) -> dict[str, str]:
    """The docstring under each annotated field of a class, read from its source."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs = {}
    for stmt, following in itertools.pairwise(body):
        if (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[stmt.target.id] = inspect.cleandoc(following.value.value)
    return docs


def shown(value: object) -> str:
    """A preset's value as the options table shows it."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return ", ".join(value) or "–"
    return str(value)


def option_rows() -> list[tuple[str, tuple[str, ...], str]]:
    """Each option: its name, its value in each preset (as shown), and what a client sees (its docstring)."""
    from pytest_ociregistry import PRESETS, Options

    docs = field_docstrings(Options)
    return [
        (f.name, tuple(shown(getattr(PRESETS[p], f.name)) for p in PRESET_ORDER), docs.get(f.name, ""))
        for f in dataclasses.fields(Options)
    ]


class OptionsTable(GeneratedRST):
    def lines(self) -> list[str]:
        rows = [
            [f":attr:`~pytest_ociregistry.Options.{name}`", *values, doc] for name, values, doc in option_rows()
        ]
        return list_table(["option", *PRESET_ORDER, "what a client sees"], rows, "25 12 7 14 42", "oci-options")


# Hosted presets ------------------------------------------------------------------------------------------------------

_QUIRK_ID = r"[A-Z]+(?:-[0-9]+| profile)"  # ECR-1, or "ECR profile": the catalogue's profile of the service
_ENTRY = re.compile(rf"\b({_QUIRK_ID}(?:, {_QUIRK_ID})*): ")


def sources(doc: str) -> list[tuple[tuple[str, ...], str]]:
    """The catalogue entries of an option's docstring, as ``((ids...), source)``: each ``ECR-1: <source>`` (or
    ``ECR-3, ECRP-3: <source>``) runs to the next entry or to the parenthesis it is in closing, e.g. ``(ECR-1:
    containers-roadmap#2831, 2026-06; regclient 71eee12b; GHCR-2: wash#268, 2022-05)`` is two entries."""
    doc = " ".join(doc.split())
    starts = list(_ENTRY.finditer(doc))
    entries = []
    for k, start in enumerate(starts):
        end = starts[k + 1].start() if k + 1 < len(starts) else len(doc)
        depth = 0
        for j in range(start.end(), end):
            depth += {"(": 1, ")": -1}.get(doc[j], 0)
            if depth < 0:
                end = j
                break
        entries.append((tuple(start[1].split(", ")), doc[start.end() : end].rstrip(" ;,.")))
    return entries


def preset_source(doc: str, prefixes: tuple[str, ...]) -> str:
    """The entries of a docstring's catalogue note that belong to a preset (by quirk-id prefix), as one text."""
    return "; ".join(
        f"{', '.join(ids)}: {text}"
        for ids, text in sources(doc)
        if any(re.split(r"[- ]", i)[0] in prefixes for i in ids)
    )


def hosted_rows() -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
    """Each option some hosted preset sets: its name, its value in the hosted baseline, and per hosted preset its
    value and source (``("", "")`` where the preset keeps the baseline)."""
    from pytest_ociregistry import HOSTED_PRESETS, Options
    from pytest_ociregistry.presets import CATALOGUE_IDS, HOSTED_BASELINE

    docs = field_docstrings(Options)
    rows = []
    for f in dataclasses.fields(Options):
        base = getattr(HOSTED_BASELINE, f.name)
        cells = tuple(
            ("", "") if getattr(p, f.name) == base
            else (shown(getattr(p, f.name)), preset_source(docs.get(f.name, ""), CATALOGUE_IDS[name]))
            for name, p in HOSTED_PRESETS.items()
        )
        if any(value for value, _ in cells):
            rows.append((f.name, shown(base), cells))
    return rows


class HostedPresetsTable(GeneratedRST):
    def lines(self) -> list[str]:
        from pytest_ociregistry import HOSTED_PRESETS

        rows = [
            [f":attr:`~pytest_ociregistry.Options.{name}`", base,
             *(f"**{value}**\n\n{source}" if value else "" for value, source in cells)]
            for name, base, cells in hosted_rows()
        ]
        widths = " ".join(["14", "6"] + ["8"] * len(HOSTED_PRESETS))
        return list_table(["option", "baseline", *HOSTED_PRESETS], rows, widths, "oci-hosted")


# The pytest plugin -----------------------------------------------------------------------------------------------


class _Recorder:
    """Stands in for pytest's ``Parser`` and its groups, keeping what ``pytest_addoption`` registers."""

    def __init__(self) -> None:
        self.flags: list[tuple[tuple[str, ...], dict[str, Any]]] = []
        self.ini: list[tuple[str, str, str | None, Any]] = []

    def getgroup(self, name: str, description: str = "") -> _Recorder:
        return self

    def addoption(self, *names: str, **attrs: Any) -> None:
        self.flags.append((names, attrs))

    def addini(self, name: str, help: str, type: str | None = None, default: Any = None) -> None:
        self.ini.append((name, help, type, default))


def registered() -> _Recorder:
    from pytest_ociregistry import plugin

    recorder = _Recorder()
    plugin.pytest_addoption(recorder)  # type: ignore[arg-type]
    return recorder


def _literal(text: str) -> str:
    return f"``{text}``"


class PytestFlags(GeneratedRST):
    def lines(self) -> list[str]:
        rows = []
        for names, attrs in registered().flags:
            metavar = attrs.get("metavar") or ("{" + ",".join(attrs["choices"]) + "}" if "choices" in attrs else "")
            usage = ", ".join(f"{name} {metavar}".strip() for name in names)
            repeat = " (repeatable)" if attrs.get("action") == "append" and "repeatable" not in attrs["help"] else ""
            rows.append([_literal(usage), attrs.get("help", "") + repeat])
        return list_table(["flag", "what it does"], rows, "35 65")


class IniKeys(GeneratedRST):
    def lines(self) -> list[str]:
        rows = []
        for name, help_text, kind, default in registered().ini:
            shown_default = "(empty)" if default in ("", [], None) else _literal(repr(default))
            rows.append([_literal(name), kind or "string", shown_default, help_text])
        return list_table(["ini key", "type", "default", "what it does"], rows, "25 10 15 50")


class Fixtures(GeneratedRST):
    def lines(self) -> list[str]:
        from _pytest.fixtures import getfixturemarker

        from pytest_ociregistry import plugin

        out = []
        for name, value in vars(plugin).items():
            marker = getfixturemarker(value)
            if marker is None:
                continue
            doc = inspect.cleandoc(getattr(value, "__doc__", None) or "")
            out += [f".. _fixture-{name}:", "", f"``{name}`` *({marker.scope} scope)*"]
            out += ["   " + line if line else "" for line in doc.splitlines()] + [""]
        return out


# Errors and the command line ---------------------------------------------------------------------------------------


class ErrorCodes(GeneratedRST):
    def lines(self) -> list[str]:
        from pytest_ociregistry import ErrorCode

        rows = [[_literal(code.name), str(code.status), code.message] for code in ErrorCode]
        return list_table(["code", "status", "message"], rows, "35 10 55")


class CommandHelp(SphinxDirective):
    """``python -m pytest_ociregistry --help`` as a literal block, at a fixed width."""

    def run(self) -> list[nodes.Node]:
        from pytest_ociregistry.__main__ import build_parser

        saved = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "88"
        try:
            text = build_parser().format_help()
        finally:
            if saved is None:
                del os.environ["COLUMNS"]
            else:
                os.environ["COLUMNS"] = saved
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        block["classes"].append("oci-help")
        return [block]


# Internal links ----------------------------------------------------------------------------------------------------


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name == "href" and value and tag == "a":
                self.hrefs.append(value)


def broken_links(outdir: Path) -> list[str]:
    """Every link between the HTML pages under ``outdir`` whose page or anchor does not exist."""
    pages: dict[Path, _Links] = {}
    for page in outdir.rglob("*.html"):
        parsed = _Links()
        parsed.feed(page.read_text(encoding="utf-8"))
        pages[page.resolve()] = parsed
    problems = []
    for page, parsed in sorted(pages.items()):
        for href in parsed.hrefs:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith("mailto:"):
                continue  # outside the site: not checked (no network)
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            where = page.relative_to(outdir.resolve())
            if not target.exists():
                problems.append(f"{where}: link to a missing page {href!r}")
            elif parts.fragment and target in pages and unquote(parts.fragment) not in pages[target].ids:
                problems.append(f"{where}: link to a missing anchor {href!r}")
    return problems


def check_links(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for problem in broken_links(Path(app.outdir)):
        logger.warning(problem, type="ociregistry", subtype="link")


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("oci-options", OptionsTable)
    app.add_directive("oci-hosted-presets", HostedPresetsTable)
    app.add_directive("oci-pytest-flags", PytestFlags)
    app.add_directive("oci-ini-keys", IniKeys)
    app.add_directive("oci-fixtures", Fixtures)
    app.add_directive("oci-error-codes", ErrorCodes)
    app.add_directive("oci-cli-help", CommandHelp)
    app.connect("build-finished", check_links)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
