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
    names = "acr, artifactory, distribution, dockerhub, ecr, gar, ghcr, gitlab, harbor, quay, reference, spec, zot"
    result.stderr.fnmatch_lines([f"*oci_registry_preset must be one of {names}, not 'nope'*"])


def test_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.oci_registry(**options):*"])


def test_a_failing_test_reports_the_registry_requests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import urllib.request, urllib.error

        def test_it(oci_registry):
            try:
                urllib.request.urlopen(oci_registry.url + "/v2/foo/manifests/latest")
            except urllib.error.HTTPError:
                pass
            assert False, "boom"

        def test_passes(oci_registry):
            urllib.request.urlopen(oci_registry.url + "/v2/")
        """
    )
    result = pytester.runpytest("-rA")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*- oci_registry requests (http://127.0.0.1:*) -*", "   1. GET /v2/foo/manifests/latest → 404 NAME_UNKNOWN"]
    )
    assert result.stdout.str().count("oci_registry requests") == 1  # only the failing test has the section


def test_tls_marker_and_factory(pytester: pytest.Pytester) -> None:
    pytest.importorskip("trustme", reason="TLS needs the tls extra (trustme)")
    pytester.makepyfile(
        """
        import ssl, urllib.request
        import pytest

        @pytest.mark.oci_registry(tls=True)
        def test_tls(oci_registry):
            assert oci_registry.url.startswith("https://127.0.0.1:")
            with urllib.request.urlopen(oci_registry.url + "/v2/", context=oci_registry.ssl_context) as r:
                assert r.status == 200
            assert oci_registry.ca_bundle.read_text().startswith("-----BEGIN CERTIFICATE-----")

        def test_plain_again(oci_registry):
            assert oci_registry.url.startswith("http://")

        def test_factory(oci_registry, make_oci_registry):
            mirror = make_oci_registry(delete_enabled=False)
            secure = make_oci_registry(tls=True)
            assert len({oci_registry.url, mirror.url, secure.url}) == 3
            assert mirror.options.delete_enabled is False and oci_registry.options.delete_enabled is True
            mirror.push_blob("foo", b"x")
            assert oci_registry.repositories() == [] and mirror.repositories() == ["foo"]
            pytest.factory_made = [mirror, secure]

        def test_factory_registries_are_stopped():
            assert all(not r.is_running() for r in pytest.factory_made)
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=4)


def test_tls_for_the_whole_run(pytester: pytest.Pytester) -> None:
    pytest.importorskip("trustme", reason="TLS needs the tls extra (trustme)")
    pytester.makepyfile(
        """
        def test_it(oci_registry):
            assert oci_registry.url.startswith("https://")
        """
    )
    pytester.runpytest("--oci-registry-tls").assert_outcomes(passed=1)


def test_named_options_from_ini_and_command_line(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\noci_registry_options =\n    max_page_size=50\n    auth=basic:ci:pw\n")
    pytester.makepyfile(
        """
        def test_it(oci_registry):
            assert oci_registry.options.max_page_size == 50
            assert oci_registry.options.auth.users[0].name == "ci"
            assert oci_registry.options.link_header is False
        """
    )
    pytester.runpytest("--oci-registry-option", "link_header=false").assert_outcomes(passed=1)


def test_a_bad_named_option_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_it(): pass")
    result = pytester.runpytest("--oci-registry-option", "max_page_size=lots")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*invalid literal for int()*"])
