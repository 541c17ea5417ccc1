"""Reading manifests."""

from __future__ import annotations

import json

import pytest

from pytest_ociregistry.errors import RegistryError
from pytest_ociregistry.manifest import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, Descriptor, inspect
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
