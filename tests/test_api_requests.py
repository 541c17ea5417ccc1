"""What a client may put in a request that the api reads, over a socket: the referrers filter, Accept weights."""

from __future__ import annotations

import pytest
from raw_http import exchange

from pytest_ociregistry import SPEC, OCIRegistry

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@pytest.fixture
def subject(oci_registry: OCIRegistry) -> str:
    image = oci_registry.push_image("foo", "v1")
    for artifact_type in ("application/vnd.example.sig", "application/vnd.example.sbom"):
        oci_registry.push_artifact("foo", artifact_type, [b"x"], subject=image)
    return image.digest


@pytest.mark.parametrize("preset", ["reference", "spec"])
def test_an_empty_artifact_type_is_no_filter(oci_registry: OCIRegistry, subject: str, preset: str) -> None:
    if preset == "spec":
        oci_registry.options = SPEC
    answer = exchange(oci_registry, "GET", f"/v2/foo/referrers/{subject}?artifactType=")
    assert answer.status == 200
    assert sorted(d["artifactType"] for d in answer.json()["manifests"]) == [
        "application/vnd.example.sbom", "application/vnd.example.sig",
    ]
    assert answer.header("OCI-Filters-Applied") is None


def test_the_artifact_type_filter_is_case_insensitive(oci_registry: OCIRegistry, subject: str) -> None:
    answer = exchange(oci_registry, "GET", f"/v2/foo/referrers/{subject}?artifactType=Application/VND.Example.SIG")
    assert [d["artifactType"] for d in answer.json()["manifests"]] == ["application/vnd.example.sig"]
    assert answer.header("OCI-Filters-Applied") == "artifactType"


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        (f"{OCI_MANIFEST};q=0", 404),
        (f"{OCI_MANIFEST}; q=0.000", 404),
        (f"*/*, {OCI_MANIFEST};q=0", 404),  # the most specific range decides
        (f"application/*;q=0, {OCI_MANIFEST}", 200),
        ("*/*;q=0, application/*;q=0.1", 200),
        ("Application/VND.OCI.Image.Manifest.v1+json;Q=0.5", 200),
        (f"{OCI_MANIFEST};q=bad", 200),  # a malformed weight is no weight
        ("text/html, application/json", 404),
        ("not a media range", 200),  # nothing that parses: as no Accept
    ],
)
def test_accept_check_honours_q_zero(oci_registry: OCIRegistry, accept: str, status: int) -> None:
    oci_registry.push_image("foo", "v1")
    oci_registry.configure(accept_check=True)
    answer = exchange(oci_registry, "GET", "/v2/foo/manifests/v1", {"Accept": accept})
    assert answer.status == status, answer
    if status == 404:
        assert answer.error() == (404, "MANIFEST_UNKNOWN", f"manifest of type {OCI_MANIFEST} is not in the Accept list")
