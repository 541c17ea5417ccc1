"""The content builders, pushed into the fixture and read back over HTTP."""

from __future__ import annotations

import gzip
import json

import requests

from pytest_ociregistry import OCIRegistry, content
from pytest_ociregistry.names import digest_of


def get_manifest(registry: OCIRegistry, repo: str, ref: str) -> requests.Response:
    r = requests.get(f"{registry.url}/v2/{repo}/manifests/{ref}", timeout=10)
    assert r.status_code == 200, r.text
    return r


def test_push_image(oci_registry: OCIRegistry) -> None:
    desc = oci_registry.push_image("app", "v1", layers=[b"one", b"two"], platform={"architecture": "arm64", "os": "linux"},
                                   annotations={"org.example": "x"})
    r = get_manifest(oci_registry, "app", "v1")
    assert (r.headers["Content-Type"], r.headers["Docker-Content-Digest"]) == (desc.media_type, desc.digest)
    doc = json.loads(r.content)
    assert doc["mediaType"] == "application/vnd.oci.image.manifest.v1+json" and doc["annotations"] == {"org.example": "x"}
    layers = [oci_registry.blob("app", layer["digest"]) for layer in doc["layers"]]
    assert [gzip.decompress(layer) for layer in layers] == [b"one", b"two"]
    assert [layer["mediaType"] for layer in doc["layers"]] == ["application/vnd.oci.image.layer.v1.tar+gzip"] * 2
    config = json.loads(oci_registry.blob("app", doc["config"]["digest"]))
    assert config["architecture"] == "arm64"
    assert config["rootfs"]["diff_ids"] == [digest_of(b"one"), digest_of(b"two")]
    assert desc.platform == {"architecture": "arm64", "os": "linux"} and desc.size == len(r.content)


def test_push_image_docker_and_raw(oci_registry: OCIRegistry) -> None:
    docker = oci_registry.push_image("app", "d", layers=[b"x"], docker=True)
    assert docker.media_type == "application/vnd.docker.distribution.manifest.v2+json"
    doc = json.loads(oci_registry.manifest("app", "d").data)
    assert doc["config"]["mediaType"] == "application/vnd.docker.container.image.v1+json"
    raw = oci_registry.push_image("app", "raw", layers=[b"plain"], compress=False)
    layer = json.loads(oci_registry.manifest("app", raw.digest).data)["layers"][0]
    assert (layer["mediaType"], oci_registry.blob("app", layer["digest"])) == ("application/vnd.oci.image.layer.v1.tar", b"plain")


def test_push_index_over_inline_and_pushed_images(oci_registry: OCIRegistry) -> None:
    amd = oci_registry.push_image("multi", None, layers=[b"amd"])
    arm = content.image([b"arm"], platform={"architecture": "arm64", "os": "linux"})
    desc = oci_registry.push_index("multi", "latest", [amd, arm])
    doc = json.loads(get_manifest(oci_registry, "multi", "latest").content)
    assert [(m["digest"], m["platform"]["architecture"]) for m in doc["manifests"]] == [
        (amd.digest, "amd64"),
        (arm.digest, "arm64"),
    ]
    assert get_manifest(oci_registry, "multi", arm.digest).content == arm.manifest
    assert desc.media_type == "application/vnd.oci.image.index.v1+json"
    assert oci_registry.tags("multi") == ["latest"]
    docker = oci_registry.push_index("multi", "list", [arm], docker=True)
    assert docker.media_type == "application/vnd.docker.distribution.manifest.list.v2+json"


def test_push_artifact_with_a_subject(oci_registry: OCIRegistry) -> None:
    subject = oci_registry.push_image("app", "v1")
    sig = oci_registry.push_artifact("app", "application/vnd.example.sig", [b"signature"], subject=subject,
                                     annotations={"by": "me"})
    r = requests.get(f"{oci_registry.url}/v2/app/referrers/{subject.digest}", timeout=10)
    assert json.loads(r.content)["manifests"] == [
        {"mediaType": sig.media_type, "digest": sig.digest, "size": sig.size, "annotations": {"by": "me"},
         "artifactType": "application/vnd.example.sig"}
    ]
    doc = json.loads(oci_registry.manifest("app", sig.digest).data)
    assert doc["config"] == {"mediaType": "application/vnd.oci.empty.v1+json", "digest": digest_of(b"{}"), "size": 2}
    assert oci_registry.referrers("app", subject.digest) == [sig]
    empty = content.artifact("application/x-empty")
    assert json.loads(empty.manifest)["layers"][0]["mediaType"] == "application/vnd.oci.empty.v1+json"


def test_look_inside(oci_registry: OCIRegistry) -> None:
    desc = oci_registry.push_image("a/b", "v1", layers=[b"l"])
    upload = oci_registry.open_upload("a/b", b"12345")
    assert oci_registry.repositories() == ["a/b"]
    assert oci_registry.tags("a/b") == ["v1"]
    assert oci_registry.uploads("a/b") == {upload: 5}
    assert "a/b" in oci_registry and "a/c" not in oci_registry
    assert "a/b:v1" in oci_registry and "a/b:v2" not in oci_registry
    assert f"a/b@{desc.digest}" in oci_registry
    layer = json.loads(oci_registry.manifest("a/b", "v1").data)["layers"][0]["digest"]
    assert f"a/b@{layer}" in oci_registry and f"a/c@{layer}" not in oci_registry
