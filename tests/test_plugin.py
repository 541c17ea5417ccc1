"""The plugin's own behaviour, through pytester: fixtures, reset, markers, presets."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_each_test_starts_empty_with_default_options(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.oci_registry(delete_enabled=False)
        def test_one(oci_registry):
            oci_registry.push_blob("foo", b"x")
            oci_registry.expect_request("/v2/x").respond_with_data("mine")
            assert oci_registry.options.delete_enabled is False

        def test_two(oci_registry):
            assert not oci_registry.store.has_repository("foo")
            assert oci_registry.options.delete_enabled is True
            assert not oci_registry.handlers
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_the_server_is_shared_by_the_session(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        seen = set()

        def test_a(oci_registry):
            seen.add(oci_registry.url)

        def test_b(oci_registry):
            seen.add(oci_registry.url)
            assert len(seen) == 1
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_nearest_marker_wins(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.oci_registry(max_page_size=10, link_header=False)

        @pytest.mark.oci_registry(max_page_size=5)
        def test_it(oci_registry):
            assert oci_registry.options.max_page_size == 5
            assert oci_registry.options.link_header is True
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("delet_enabled=False", "unknown oci_registry option(s): delet_enabled"),
        ("delete_enabled='no'", "oci_registry option delete_enabled takes <class 'bool'>, not 'no'"),
        ("True", "takes options by name only"),
    ],
)
def test_a_bad_marker_fails_at_setup_naming_the_key(pytester: pytest.Pytester, marker: str, message: str) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.oci_registry({marker})
        def test_it(oci_registry):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*{message}*"])


@pytest.mark.parametrize("how", ["ini", "cli"])
def test_preset_from_ini_or_command_line(pytester: pytest.Pytester, how: str) -> None:
    pytester.makepyfile(
        """
        from pytest_ociregistry import SPEC

        def test_it(oci_registry):
            assert oci_registry.options == SPEC
        """
    )
    if how == "ini":
        pytester.makeini("[pytest]\noci_registry_preset = spec\n")
        result = pytester.runpytest()
    else:
        result = pytester.runpytest("--oci-registry-preset", "spec")
    result.assert_outcomes(passed=1)


def test_an_unknown_ini_preset_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\noci_registry_preset = nope\n")
    pytester.makepyfile("def test_it(): pass")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*oci_registry_preset must be one of distribution, reference, spec, not 'nope'*"])


def test_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.oci_registry(**options):*"])
