"""Settings as text: one parser for the command line and the plugin, with one treatment of ``-`` in names."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pytest_ociregistry.__main__ import build_parser, parse_options
from pytest_ociregistry.text import assignments, value_from_string


def test_assignments() -> None:
    assert assignments([" max-page-size = 7 ", "warnings=a,b", "link_header=", "warnings=c"]) == {
        "max_page_size": "7", "warnings": "c", "link_header": ""}
    for bad in ("max_page_size", " =7"):
        with pytest.raises(ValueError) as info:
            assignments([bad], "a setting")
        assert str(info.value) == f"a setting is NAME=VALUE, not {bad!r}"


@pytest.mark.parametrize(
    ("text", "hint", "value"),
    [("Yes", bool, True), ("off", bool, False), (" 12 ", int, 12), ("none", int | None, None), ("", int | None, None),
     ("3", int | None, 3), ("0.5", float, 0.5), ("a, b,", tuple[str, ...], ("a", "b")), (" x ", str, "x"),
     ("none", str | None, None), ("https://h/t", str | None, "https://h/t")],
)
def test_values(text: str, hint: object, value: object) -> None:
    assert value_from_string(text, hint) == value


def test_a_bad_boolean() -> None:
    with pytest.raises(ValueError, match="not a boolean: 'maybe'"):
        value_from_string("maybe", bool)


def test_the_command_line_and_the_plugin_read_names_alike(pytester: pytest.Pytester) -> None:
    args = build_parser().parse_args(["--option", "max-page-size=7", "--option", " link_header = false "])
    options = parse_options(args)
    assert (options.max_page_size, options.link_header) == (7, False)
    pytester.makeini("[pytest]\noci_registry_options =\n    max-page-size = 7\n")
    pytester.makepyfile(
        """
        def test_it(oci_registry):
            assert (oci_registry.options.max_page_size, oci_registry.options.link_header) == (7, False)
        """
    )
    pytester.runpytest("--oci-registry-option", " link-header = false ").assert_outcomes(passed=1)


def test_both_refuse_an_item_without_a_value(pytester: pytest.Pytester) -> None:
    done = subprocess.run([sys.executable, "-m", "pytest_ociregistry", "--option", "max_page_size"],
                          capture_output=True, text=True, timeout=30, check=False)
    assert (done.returncode, done.stderr) == (2, "error: an oci_registry option is NAME=VALUE, not 'max_page_size'\n")
    pytester.makepyfile("def test_it(): pass")
    result = pytester.runpytest("--oci-registry-option", "max_page_size")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*an oci_registry option is NAME=VALUE, not 'max_page_size'*"])
