"""``--oci-registry-url``: the fixture talks to a registry given by URL, in a namespace of each test's own.

The OCI v1.1 tables run this way against a real CNCF distribution 2.8 (Debian's docker-registry): the rows where it
departs from the spec are expected failures with the reason, so a new difference fails the run."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.external import ExternalRegistry
from pytest_ociregistry.tables import SPEC

HERE = Path(__file__).parent


def test_the_spec_tables_against_real_distribution(pytester: pytest.Pytester, docker_registry_url: str) -> None:
    pytester.makepyfile(test_spec_tables=(HERE / "test_spec_tables.py").read_text())
    result = pytester.runpytest_subprocess(
        "--oci-registry-url", docker_registry_url, "--oci-registry-kind", "docker-registry", "-rxs", "-p", "no:randomly"
    )
    departures = [c for c in SPEC if not c.skip and ({"docker-registry", "distribution"} & set(c.departures))]
    skipped = [c for c in SPEC if c.skip]
    result.assert_outcomes(
        passed=len(SPEC) - len(departures) - len(skipped),
        xfailed=len(departures),
        skipped=len(skipped) + len(SPEC) * 3,  # the per-preset runs are the in-process registry's
    )


def test_the_same_tables_against_a_registry_by_url(pytester: pytest.Pytester, make_oci_registry: object) -> None:
    target: OCIRegistry = make_oci_registry()  # type: ignore[operator]
    pytester.makepyfile(
        """
        import pytest
        from pytest_ociregistry.tables import REFERENCE, SPEC

        @pytest.mark.parametrize("case", SPEC, ids=lambda c: c.id)
        def test_spec(oci_registry, case):
            oci_registry.run(case)

        @pytest.mark.parametrize("case", [c for c in REFERENCE if not c.global_state], ids=lambda c: c.id)
        def test_reference(oci_registry, case):
            oci_registry.run(case)
        """
    )
    result = pytester.runpytest_subprocess("--oci-registry-url", target.url, "--oci-registry-kind", "reference")
    reference_departures = [c for c in SPEC if "reference" in c.departures and not c.skip]
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0, result.stdout.str()
    assert outcomes["xfailed"] == len(reference_departures)
    # every repository the tests made lives under a per-test namespace
    names = requests.get(f"{target.url}/v2/_catalog", timeout=10).json()["repositories"]
    assert names and all(name.startswith("t") and "/" in name for name in names)
    assert len({name.split("/")[0] for name in names}) > 10


def test_seeding_and_builders_over_http(oci_registry: OCIRegistry, make_oci_registry: object) -> None:
    target: OCIRegistry = make_oci_registry()  # type: ignore[operator]
    external = ExternalRegistry(target.url)
    digest = external.push_blob("foo", b"data")
    assert target.blob(external.repo("foo"), digest) == b"data"
    image = external.push_image("app", "v1", layers=[b"l1", b"l2"])
    assert target.manifest(external.repo("app"), "v1").digest == image.digest
    location = external.open_upload("foo", b"abc")
    assert requests.get(target.url + location, timeout=10).headers["Range"] == "0-2"
    first = external.namespace
    external.reset()
    assert external.namespace != first and external.repo("x") == f"{external.namespace}/x"
    external.seed(manifests={"foo/manifests/latest": "foo"}, blobs={digest: b"data"})
    assert target.tags(external.repo("foo")) == ["latest"]


def test_in_process_features_skip_with_the_reason(pytester: pytest.Pytester, make_oci_registry: object) -> None:
    target: OCIRegistry = make_oci_registry()  # type: ignore[operator]
    pytester.makepyfile(
        """
        import pytest

        def test_store(oci_registry):
            oci_registry.store

        def test_faults(oci_registry):
            oci_registry.fail("GET", "/v2/")

        @pytest.mark.oci_registry(delete_enabled=False)
        def test_options(oci_registry):
            pass
        """
    )
    result = pytester.runpytest_subprocess("--oci-registry-url", target.url, "-rs")
    result.assert_outcomes(skipped=3)
    for line in (
        "*oci_registry.store needs the in-process registry, not one given by --oci-registry-url*",
        "*oci_registry.fail needs the in-process registry*",
        "*options ?'delete_enabled'? need the in-process registry*",
    ):
        result.stdout.fnmatch_lines([line])  # one at a time: the order is pytest-randomly's
