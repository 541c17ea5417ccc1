"""The presets by name: the three base presets and the ten hosted ones, each selectable by marker, ini, command line
and ``python -m pytest_ociregistry --preset``."""

from __future__ import annotations

import subprocess
import sys
import urllib.request

import pytest

import pytest_ociregistry
from pytest_ociregistry import BASE_PRESETS, DISTRIBUTION, HOSTED_PRESETS, PRESETS, REFERENCE, SPEC, Options
from pytest_ociregistry.__main__ import build_parser, parse_options
from pytest_ociregistry.plugin import session_options
from pytest_ociregistry.presets import CATALOGUE_IDS, ECR, ECR_PAGE_SIZE_MESSAGE, GHCR, HOSTED_BASELINE

pytest_plugins = ["pytester"]

HOSTED = ("ecr", "ghcr", "dockerhub", "gar", "acr", "quay", "harbor", "artifactory", "gitlab", "zot")


def test_the_names() -> None:
    assert list(BASE_PRESETS) == ["reference", "spec", "distribution"]
    assert list(HOSTED_PRESETS) == list(HOSTED) == list(CATALOGUE_IDS)
    assert PRESETS == {**BASE_PRESETS, **HOSTED_PRESETS}
    assert (BASE_PRESETS["reference"], BASE_PRESETS["spec"], BASE_PRESETS["distribution"]) == (REFERENCE, SPEC,
                                                                                               DISTRIBUTION)
    assert REFERENCE == Options()
    assert {"PRESETS", "BASE_PRESETS", "HOSTED_PRESETS", "REFERENCE", "SPEC", "DISTRIBUTION"} <= set(
        pytest_ociregistry.__all__)


def test_the_hosted_presets_start_from_the_spec_without_its_automatic_mount_or_its_codes() -> None:
    """Each hosted preset is the baseline and its quirks (``tests/test_docs.py`` checks each quirk names its source);
    two of them, as examples."""
    assert HOSTED_BASELINE == SPEC.replace(automatic_mount=False, spec_error_codes=False)
    assert all(not p.automatic_mount and not p.spec_error_codes for p in HOSTED_PRESETS.values())
    assert (ECR.chunk_status, ECR.stale_upload_range, ECR.max_page_size, ECR.tag_get_digest) == (201, True, 1000, False)
    assert ECR.max_page_size_message == ECR_PAGE_SIZE_MESSAGE
    assert (GHCR.max_chunk_size, GHCR.referrers_enabled, GHCR.auth_challenge) == (4 << 20, False, "ghcr")


def test_each_hosted_preset_by_marker(pytester: pytest.Pytester) -> None:
    """``preset=`` starts from that preset, the marker's other options over it, the run's named options kept."""
    pytester.makeini("[pytest]\noci_registry_options = warnings=from-ini\n")
    pytester.makepyfile(
        """
        import pytest
        from pytest_ociregistry import HOSTED_PRESETS

        @pytest.mark.parametrize(
            "name", [pytest.param(n, marks=pytest.mark.oci_registry(preset=n)) for n in HOSTED_PRESETS]
        )
        def test_preset(oci_registry, name):
            assert oci_registry.options == HOSTED_PRESETS[name].replace(warnings=("from-ini",))

        @pytest.mark.oci_registry(preset="ecr", tag_get_digest=True)
        def test_preset_and_an_option(oci_registry):
            assert oci_registry.options == HOSTED_PRESETS["ecr"].replace(tag_get_digest=True, warnings=("from-ini",))

        def test_the_next_test_has_the_runs_preset_again(oci_registry, make_oci_registry):
            assert oci_registry.options.max_page_size is None
            assert make_oci_registry(preset="ghcr").options.referrers_enabled is False

        @pytest.mark.oci_registry(preset="nope")
        def test_an_unknown_preset(oci_registry):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=12, errors=1)
    result.stdout.fnmatch_lines(["*oci_registry marker: oci_registry_preset must be one of acr, *, not 'nope'*"])


@pytest.mark.parametrize("how", ["ini", "cli"])
def test_a_hosted_preset_from_ini_or_command_line(pytester: pytest.Pytester, how: str) -> None:
    pytester.makepyfile(
        """
        from pytest_ociregistry import HOSTED_PRESETS

        def test_it(oci_registry, oci_registry_options):
            assert oci_registry.options == oci_registry_options == HOSTED_PRESETS["quay"]
        """
    )
    if how == "ini":
        pytester.makeini("[pytest]\noci_registry_preset = quay\n")
        result = pytester.runpytest()
    else:
        result = pytester.runpytest("--oci-registry-preset", "quay")
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize("name", HOSTED)
def test_each_hosted_preset_from_ini_and_command_line(pytester: pytest.Pytester, name: str) -> None:
    """Each name as pytest parses it (the run above shows the fixture takes what it parses)."""
    assert session_options(pytester.parseconfig("--oci-registry-preset", name)) == HOSTED_PRESETS[name]
    pytester.makeini(f"[pytest]\noci_registry_preset = {name}\noci_registry_options = link_header=false\n")
    assert session_options(pytester.parseconfig()) == HOSTED_PRESETS[name].replace(link_header=False)


@pytest.mark.parametrize("name", HOSTED)
def test_each_hosted_preset_on_the_command_line_server(name: str) -> None:
    args = build_parser().parse_args(["--preset", name, "--option", "link_header=false"])
    assert parse_options(args) == HOSTED_PRESETS[name].replace(link_header=False)


def test_the_command_line_server_serves_a_hosted_preset() -> None:
    """``python -m pytest_ociregistry --preset ghcr``: the referrers API answers 404, as GHCR's does."""
    proc = subprocess.Popen([sys.executable, "-m", "pytest_ociregistry", "--preset", "ghcr"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        digest = "sha256:" + "0" * 64
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"{url}/v2/foo/referrers/{digest}", timeout=10)
        assert info.value.code == 404
    finally:
        proc.terminate()
        proc.wait(timeout=10)
