"""Reading manifests."""

from __future__ import annotations

import json

import pytest

from pytest_ociregistry.errors import RegistryError
from pytest_ociregistry.manifest import (
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    inspect,
    platform_manifest,
)
from pytest_ociregistry.names import digest_of

C, L, S = digest_of(b"config"), digest_of(b"layer"), digest_of(b"subject")


def desc(digest: str, media_type: str = "application/x") -> dict[str, object]:
    return {"mediaType": media_type, "digest": digest, "size": 1}


def test_image_manifest() -> None:
    body = json.dumps({"schemaVersion": 2, "config": desc(C, "application/cfg"), "layers": [desc(L)],
                       "subject": desc(S), "annotations": {"a": "b"}}).encode()
    info = inspect(body, OCI_MANIFEST + "; charset=utf-8")
    assert (info.blobs, info.children, info.subject, info.artifact_type, info.annotations) == (
        (C, L), (), S, "application/cfg", {"a": "b"})


def test_index_and_artifact_type() -> None:
    body = json.dumps({"manifests": [desc(C)], "artifactType": "application/art"}).encode()
    info = inspect(body, OCI_INDEX)
    assert (info.blobs, info.children, info.artifact_type) == ((), (C,), "application/art")


def test_other_types_are_opaque() -> None:
    assert inspect(b"not json", "application/octet-stream").blobs == ()
    assert inspect(b"not json", DOCKER_MANIFEST).blobs == ()  # read only when strict


@pytest.mark.parametrize(
    ("body", "strict"),
    [
        (b"{", False),
        (b"[]", False),
        (json.dumps({"layers": [{"digest": "sha256:bad", "mediaType": "x", "size": 1}]}).encode(), False),
        (json.dumps({"layers": [desc(L) | {"size": -1}]}).encode(), False),
        (json.dumps({"layers": [desc(L) | {"mediaType": ""}]}).encode(), False),
        (json.dumps({"schemaVersion": 1, "config": desc(C), "layers": []}).encode(), True),
        (json.dumps({"schemaVersion": 2, "layers": []}).encode(), True),
        (json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "config": desc(C), "layers": []}).encode(), True),
    ],
)
def test_malformed(body: bytes, strict: bool) -> None:
    with pytest.raises(RegistryError, match="MANIFEST_INVALID"):
        inspect(body, OCI_MANIFEST, strict=strict)


def test_descriptor_json_order() -> None:
    d = Descriptor("m", "sha256:x", 3, annotations={"k": "v"}, artifact_type="t")
    assert list(d.to_json()) == ["mediaType", "digest", "size", "annotations", "artifactType"]


def test_layer_urls_as_distribution_reads_them() -> None:
    """Needed blobs in order, the refused ones by position (a digest may appear twice with different verdicts)."""
    nondistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    layers = [dict(desc(L, nondistributable), urls=["https://x"]), desc(L, nondistributable),
              dict(desc(S, "application/vnd.oci.image.layer.v1.tar+zstd"), urls=["https://x"])]
    body = json.dumps({"schemaVersion": 2, "config": desc(C, "application/cfg"), "layers": layers}).encode()
    assert inspect(body, OCI_MANIFEST).blobs == (C, S)  # off: non-distributable layers are never needed
    info = inspect(body, OCI_MANIFEST, layer_urls=True)
    assert (info.blobs, info.refused_urls) == ((C, L, L), frozenset({1}))
    foreign = json.dumps({"schemaVersion": 2, "config": desc(C), "layers": [
        desc(L, "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")]}).encode()
    assert inspect(foreign, DOCKER_MANIFEST, strict=True, layer_urls=True).refused_urls == frozenset({1})


def test_platform_manifest() -> None:
    entries = [dict(desc(C), platform={"os": "linux", "architecture": "arm64"}),
               dict(desc(L), platform={"os": "linux", "architecture": "amd64"})]
    body = json.dumps({"manifests": entries}).encode()
    assert platform_manifest(body, "linux", "amd64") == L
    assert platform_manifest(body, "windows", "amd64") is None
    assert platform_manifest(b"not json", "linux", "amd64") is None
