"""A repository exists when it holds content: what an upload, a blob, a manifest and a tag each make visible.

The rule (docs/explanation/store.md): an upload never makes a repository. A blob, manifest or tag makes it
known (an unknown blob in it is ``BLOB_UNKNOWN``, not ``NAME_UNKNOWN``). The tag list answers 200 and the catalog
lists it once it has held a manifest; under ``distribution``, as distribution 2.8 does, the tag list answers 200 only
once it has held a tag, and the catalog lists repositories holding blobs too.
"""

from __future__ import annotations

import pytest
from raw_http import exchange, put_blob

from pytest_ociregistry import DISTRIBUTION, SPEC, OCIRegistry, Options
from pytest_ociregistry.names import digest_of

NAME_UNKNOWN = b'{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}'
INDEX = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}'
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
PRESETS = {"reference": Options(), "spec": SPEC, "distribution": DISTRIBUTION}


@pytest.fixture(params=list(PRESETS))
def preset(request: pytest.FixtureRequest, oci_registry: OCIRegistry) -> str:
    oci_registry.options = PRESETS[request.param]
    name: str = request.param
    return name


def tags_list(registry: OCIRegistry, repo: str = "foo") -> tuple[int, bytes]:
    answer = exchange(registry, "GET", f"/v2/{repo}/tags/list")
    return answer.status, answer.body


def catalog(registry: OCIRegistry) -> list[str]:
    answer = exchange(registry, "GET", "/v2/_catalog")
    assert answer.status == 200, answer
    repositories: list[str] = answer.json()["repositories"] or []
    return repositories


def start_upload(registry: OCIRegistry, repo: str = "foo") -> str:
    answer = exchange(registry, "POST", f"/v2/{repo}/blobs/uploads/")
    assert answer.status == 202, answer
    location = answer.header("Location")
    assert location is not None
    return location.removeprefix(registry.url)


def test_a_started_upload_makes_no_repository(oci_registry: OCIRegistry, preset: str) -> None:
    start_upload(oci_registry)
    assert tags_list(oci_registry) == (404, NAME_UNKNOWN)
    assert catalog(oci_registry) == []
    assert oci_registry.repositories() == [] and "foo" not in oci_registry
    assert len(oci_registry.uploads("foo")) == 1  # the upload itself is there


def test_a_cancelled_upload_makes_no_repository(oci_registry: OCIRegistry, preset: str) -> None:
    location = start_upload(oci_registry)
    assert exchange(oci_registry, "DELETE", location).status == 204
    assert tags_list(oci_registry) == (404, NAME_UNKNOWN)
    assert catalog(oci_registry) == []


def test_an_unknown_blob_of_an_upload_only_repository_is_name_unknown(oci_registry: OCIRegistry) -> None:
    start_upload(oci_registry)
    answer = exchange(oci_registry, "GET", f"/v2/foo/blobs/{digest_of(b'x')}")
    assert (answer.status, answer.body) == (404, NAME_UNKNOWN)


def test_blobs_alone_are_no_tag_list(oci_registry: OCIRegistry, preset: str) -> None:
    put_blob(oci_registry, "foo", b"layer")
    assert tags_list(oci_registry) == (404, NAME_UNKNOWN)
    # distribution 2.8 lists every repository a blob was pushed to; the others only those holding a manifest
    assert catalog(oci_registry) == (["foo"] if preset == "distribution" else [])
    assert oci_registry.repositories() == ["foo"] and "foo" in oci_registry
    missing = exchange(oci_registry, "GET", f"/v2/foo/blobs/{digest_of(b'x')}")
    assert missing.error()[:2] == (404, "BLOB_UNKNOWN")


def test_an_untagged_manifest(oci_registry: OCIRegistry, preset: str) -> None:
    answer = exchange(oci_registry, "PUT", f"/v2/foo/manifests/{digest_of(INDEX)}", {"Content-Type": INDEX_TYPE}, INDEX)
    assert answer.status == 201
    if preset == "distribution":  # distribution 2.8: no tag was ever pushed, so the name is unknown to the tag list
        assert tags_list(oci_registry) == (404, NAME_UNKNOWN)
        assert catalog(oci_registry) == ["foo"]
    else:
        assert tags_list(oci_registry) == (200, b'{"name":"foo","tags":[]}')
        assert catalog(oci_registry) == ["foo"]


def test_a_repository_stays_listed_once_its_last_tag_is_gone(oci_registry: OCIRegistry, preset: str) -> None:
    """As distribution 2.8 answers (the differential test's ``tags-list-empty-after-delete``): an empty list."""
    answer = exchange(oci_registry, "PUT", "/v2/foo/manifests/v1", {"Content-Type": INDEX_TYPE}, INDEX)
    assert answer.status == 201
    assert exchange(oci_registry, "DELETE", f"/v2/foo/manifests/{digest_of(INDEX)}").status == 202
    empty = b'{"name":"foo","tags":null}' if preset == "distribution" else b'{"name":"foo","tags":[]}'
    assert tags_list(oci_registry) == (200, empty)


def test_a_failed_mount_makes_no_repository(oci_registry: OCIRegistry, preset: str) -> None:
    put_blob(oci_registry, "src", b"layer")
    answer = exchange(oci_registry, "POST", f"/v2/foo/blobs/uploads/?mount={digest_of(b'x')}&from=src")
    assert answer.status == 202
    assert tags_list(oci_registry) == (404, NAME_UNKNOWN)
    assert "foo" not in catalog(oci_registry)
