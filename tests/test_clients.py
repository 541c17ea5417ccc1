"""Real clients (skopeo, oras-py, python-dxf, requests, httpx) against the ``oci_registry`` fixture, over its socket.

Each test pushes content with a client, checks the store holds exactly those bytes under those digests, and pulls
it back out with the same client. Content comes from the package's own builders (:mod:`pytest_ociregistry.content`
and the registry's ``push_*`` methods), and every builder's output is shown to survive real clients too. The TLS
tests run each client against the HTTPS registry, trusting its throw-away CA. A test skips only when its client is
not installed.
"""

from __future__ import annotations

import json
import random
import socket
import ssl
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin

import pytest
from client_support import (
    REF_NAME,
    Skopeo,
    ca_bundle,
    cert_dir,
    chunks_of,
    new_skopeo,
    oras_provider_module,
    write_files,
    write_layout,
)

from pytest_ociregistry import Descriptor, OCIRegistry, RegistryError, content
from pytest_ociregistry.content import Content
from pytest_ociregistry.manifest import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST
from pytest_ociregistry.names import digest_of
from pytest_ociregistry.requestlog import RequestLog, RequestRecord

TLS = pytest.mark.oci_registry(tls=True)


# Content: images built with the package's builders, written to and read from OCI layouts, dir: copies and stores ---


def layer_tars(label: str, layers: int = 3) -> list[bytes]:
    """Layer tars of incompressible bytes seeded by ``label``, the last one > 1 MiB (so it crosses the registry's
    read-chunk size)."""
    rng = random.Random(label)
    return [rng.randbytes(30_000 * (i + 1) if i < layers - 1 else 1_200_000) for i in range(layers)]


def build_image(label: str, layers: int = 3, arch: str = "amd64", *, docker: bool = False) -> Content:
    """A gzip-layered image over :func:`layer_tars`, its config labelled ``label``."""
    tars = layer_tars(label, layers)
    platform = {"architecture": arch, "os": "linux"}
    config = {
        **platform,
        "config": {"Labels": {"label": label}},
        "rootfs": {"type": "layers", "diff_ids": [digest_of(tar) for tar in tars]},
    }
    return content.image(tars, config, platform=platform, docker=docker)


ManifestReader = Callable[[str], tuple[bytes, "str | None"]]


def load(digest: str, media_type: str, read_manifest: ManifestReader, read_blob: Callable[[str], bytes]) -> Content:
    """The manifest ``digest`` as a :class:`Content`, its blobs and child manifests read too, all the way down.

    ``read_manifest`` gives a manifest's bytes and the media type its source records (None: use the one of the
    descriptor that points at it, ``media_type``). Each piece must hash to its digest."""
    body, recorded = read_manifest(digest)
    assert digest_of(body) == digest, f"manifest {digest} holds bytes hashing to {digest_of(body)}"
    doc = json.loads(body)
    children = [
        load(child["digest"], child["mediaType"], read_manifest, read_blob) for child in doc.get("manifests", [])
    ]
    blobs = {
        ref["digest"]: read_blob(ref["digest"]) for ref in ([doc["config"], *doc["layers"]] if "config" in doc else [])
    }
    for blob_digest, data in blobs.items():
        assert digest_of(data) == blob_digest, f"blob {blob_digest} holds bytes hashing to {digest_of(data)}"
    return Content(body, recorded or media_type, blobs, children)


def read_layout(root: Path, tag: str) -> Content:
    """Read back the content an OCI layout directory names ``tag``."""
    index = json.loads((root / "index.json").read_text())
    [top] = [d for d in index["manifests"] if d.get("annotations", {}).get(REF_NAME) == tag]

    def read(digest: str) -> bytes:
        return (root / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes()

    return load(top["digest"], top["mediaType"], lambda digest: (read(digest), None), read)


def read_dir(root: Path) -> Content:
    """Read back the content skopeo wrote to a ``dir:`` directory (``manifest.json`` on top, each instance of a
    list as ``<hex>.manifest.json``, blobs as ``<hex>``)."""
    top = (root / "manifest.json").read_bytes()

    def read_manifest(digest: str) -> tuple[bytes, str | None]:
        if digest == digest_of(top):
            return top, None
        return (root / f"{digest.removeprefix('sha256:')}.manifest.json").read_bytes(), None

    return load(
        digest_of(top),
        json.loads(top)["mediaType"],
        read_manifest,
        lambda digest: (root / digest.removeprefix("sha256:")).read_bytes(),
    )


def read_registry(registry: OCIRegistry, repo: str, reference: str) -> Content:
    """The content the registry holds under ``repo:reference``, each manifest with the media type it was pushed
    with."""

    def read_manifest(digest: str) -> tuple[bytes, str | None]:
        stored = registry.manifest(repo, digest)
        return stored.data, stored.media_type

    top = registry.manifest(repo, reference)
    return load(top.digest, top.media_type, read_manifest, lambda digest: registry.blob(repo, digest))


def assert_same_content(actual: Content, expected: Content) -> None:
    """Both hold the same manifest under the same digest and media type, the very same blobs under the very same
    digests, and the same children, all the way down."""
    assert actual.digest == expected.digest
    assert actual.media_type == expected.media_type
    assert actual.manifest == expected.manifest
    assert sorted(actual.blobs) == sorted(expected.blobs)
    for digest, data in expected.blobs.items():
        assert actual.blobs[digest] == data, f"{digest} differs"
    assert [c.digest for c in actual.children] == [c.digest for c in expected.children]
    for actual_child, expected_child in zip(actual.children, expected.children):
        assert_same_content(actual_child, expected_child)


def assert_gone(registry: OCIRegistry, repo: str, reference: str) -> None:
    """The registry holds no manifest under ``repo:reference``."""
    with pytest.raises(RegistryError) as caught:
        registry.manifest(repo, reference)
    assert caught.value.status == 404


@pytest.fixture
def wire(oci_registry: OCIRegistry) -> RequestLog:
    """Every request the registry serves during the test, in order (the registry's own request log)."""
    return oci_registry.requests


# skopeo -------------------------------------------------------------------------------------------------------------


@pytest.fixture
def skopeo(tmp_path: Path) -> Skopeo:
    """skopeo, with HOME and XDG dirs in ``tmp_path``."""
    return new_skopeo(tmp_path)


def test_skopeo_copy_image_round_trip(oci_registry: OCIRegistry, skopeo: Skopeo, tmp_path: Path) -> None:
    """skopeo copies a 3-layer OCI image in and back out: same manifest digest, same bytes, every blob."""
    image = build_image("skopeo")
    write_layout(tmp_path / "src", "v1", image)
    remote = f"docker://{oci_registry.host}/foo/bar:v1"

    skopeo("copy", "--preserve-digests", "--dest-tls-verify=false", f"oci:{tmp_path / 'src'}:v1", remote)
    assert_same_content(read_registry(oci_registry, "foo/bar", "v1"), image)

    skopeo("copy", "--preserve-digests", "--src-tls-verify=false", remote, f"oci:{tmp_path / 'out'}:v1")
    assert_same_content(read_layout(tmp_path / "out", "v1"), image)

    assert skopeo("inspect", "--raw", "--tls-verify=false", remote).encode() == image.manifest
    inspected = json.loads(skopeo("inspect", "--tls-verify=false", remote))
    assert inspected["Digest"] == image.digest
    assert inspected["Labels"] == {"label": "skopeo"}


def layer_digests(image: Content) -> list[str]:
    """The digests of an image's layers, in order."""
    return [layer["digest"] for layer in json.loads(image.manifest)["layers"]]


def mounts(wire: RequestLog, repo: str) -> dict[str, RequestRecord]:
    """The mount requests into ``repo``, by the digest they mount."""
    return {
        parse_qs(e.query)["mount"][0]: e
        for e in wire
        if e.method == "POST" and e.path == f"/v2/{repo}/blobs/uploads/" and "mount=" in e.query
    }


def test_skopeo_copy_between_repositories(
    oci_registry: OCIRegistry, skopeo: Skopeo, tmp_path: Path, wire: RequestLog
) -> None:
    """A registry-to-registry copy mounts every layer (201), never the config, and lands the same content."""
    image = build_image("mount")
    write_layout(tmp_path / "src", "v1", image)
    skopeo("copy", "--dest-tls-verify=false", f"oci:{tmp_path / 'src'}:v1", f"docker://{oci_registry.host}/foo/bar:v1")

    skopeo(
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        f"docker://{oci_registry.host}/foo/bar:v1",
        f"docker://{oci_registry.host}/other/repo:v2",
    )
    assert {d: e.status for d, e in mounts(wire, "other/repo").items()} == dict.fromkeys(layer_digests(image), 201)
    assert_same_content(read_registry(oci_registry, "other/repo", "v2"), image)


def test_skopeo_mount_fallback(oci_registry: OCIRegistry, skopeo: Skopeo, tmp_path: Path, wire: RequestLog) -> None:
    """When a mount's source blob is gone the registry opens an upload instead (202); skopeo cancels that session
    (DELETE, 204) and uploads the layer itself."""
    image = build_image("fallback")
    write_layout(tmp_path / "src", "v1", image)
    source = f"oci:{tmp_path / 'src'}:v1"
    skopeo("copy", "--dest-tls-verify=false", source, f"docker://{oci_registry.host}/foo/bar:v1")
    vanishing = layer_digests(image)[0]

    def vanish_then_serve(request: Any) -> Any:
        oci_registry.store.delete_blob("foo/bar", vanishing)
        return oci_registry.app.handle(request)

    oci_registry.expect_oneshot_request(
        "/v2/other/repo/blobs/uploads/", method="POST", query_string={"from": "foo/bar", "mount": vanishing}
    ).respond_with_handler(vanish_then_serve)

    skopeo("copy", "--dest-tls-verify=false", source, f"docker://{oci_registry.host}/other/repo:v1")
    mounted = mounts(wire, "other/repo")
    assert {d: e.status for d, e in mounted.items()} == {
        d: 202 if d == vanishing else 201 for d in layer_digests(image)
    }
    cancelled = [e.status for e in wire if e.method == "DELETE" and e.path.startswith("/v2/other/repo/blobs/uploads/")]
    assert cancelled == [204]
    assert_same_content(read_registry(oci_registry, "other/repo", "v1"), image)


def test_skopeo_list_tags_and_delete(oci_registry: OCIRegistry, skopeo: Skopeo, tmp_path: Path) -> None:
    """``list-tags`` lists every tag; ``delete`` removes the manifest (and with it every tag on it)."""
    image = build_image("tags", layers=2)
    write_layout(tmp_path / "src", "v1", image)
    remote = f"docker://{oci_registry.host}/foo/bar"
    skopeo("copy", "--dest-tls-verify=false", f"oci:{tmp_path / 'src'}:v1", f"{remote}:v1")
    tags = ["v1", *(f"extra-{i}" for i in range(6))]
    for tag in tags[1:]:
        oci_registry.push("foo/bar", image, tag)

    listed = json.loads(skopeo("list-tags", "--tls-verify=false", remote))
    assert listed["Repository"] == f"{oci_registry.host}/foo/bar"
    assert sorted(listed["Tags"]) == sorted(tags)

    skopeo("delete", "--tls-verify=false", f"{remote}:v1")
    assert_gone(oci_registry, "foo/bar", image.digest)
    for tag in tags:
        assert_gone(oci_registry, "foo/bar", tag)


def test_skopeo_copy_all_multi_platform_index(oci_registry: OCIRegistry, skopeo: Skopeo, tmp_path: Path) -> None:
    """``copy --all`` carries a two-platform index and both images in, and back out, digest for digest."""
    index = content.index([build_image(f"multi-{arch}", layers=2, arch=arch) for arch in ("amd64", "arm64")])
    write_layout(tmp_path / "src", "multi", index)
    remote = f"docker://{oci_registry.host}/foo/multi:v1"

    skopeo("copy", "--all", "--preserve-digests", "--dest-tls-verify=false", f"oci:{tmp_path / 'src'}:multi", remote)
    assert_same_content(read_registry(oci_registry, "foo/multi", "v1"), index)

    skopeo("copy", "--all", "--preserve-digests", "--src-tls-verify=false", remote, f"oci:{tmp_path / 'out'}:v1")
    assert_same_content(read_layout(tmp_path / "out", "v1"), index)
    assert skopeo("inspect", "--raw", "--tls-verify=false", remote).encode() == index.manifest


# Every builder's output, through skopeo ------------------------------------------------------------------------------

ARTIFACT_TYPE = "application/vnd.example.signature.v1+json"
PLATFORMS: list[dict[str, str]] = [
    {"architecture": "amd64", "os": "linux"},
    {"architecture": "arm64", "os": "linux", "variant": "v8"},
]


def pushed_as_built(registry: OCIRegistry, pushed: Descriptor, expected: Content) -> Content:
    """Check a ``push_*`` method returned the descriptor of what the builder makes from the same arguments, and the
    registry holds exactly that under ``foo/bar:v1``; returns it."""
    assert pushed == expected.descriptor
    assert_same_content(read_registry(registry, "foo/bar", "v1"), expected)
    return expected


def push_oci_image(registry: OCIRegistry) -> Content:
    layers = layer_tars("push-image")
    pushed = registry.push_image("foo/bar", "v1", layers=layers)
    return pushed_as_built(registry, pushed, content.image(layers))


def push_docker_image(registry: OCIRegistry) -> Content:
    layers = layer_tars("push-docker-image")
    pushed = registry.push_image("foo/bar", "v1", layers=layers, docker=True)
    return pushed_as_built(registry, pushed, content.image(layers, docker=True))


def platform_images(label: str, *, docker: bool = False) -> list[Content]:
    """One two-layer image per platform in :data:`PLATFORMS`, built inline."""
    return [content.image(layer_tars(f"{label}-{p['architecture']}", 2), platform=p, docker=docker) for p in PLATFORMS]


def push_oci_index(registry: OCIRegistry) -> Content:
    images = platform_images("push-index")
    pushed = registry.push_index("foo/bar", "v1", manifests=images, annotations={"org.example.index": "oci"})
    return pushed_as_built(registry, pushed, content.index(images, annotations={"org.example.index": "oci"}))


def push_docker_index(registry: OCIRegistry) -> Content:
    images = platform_images("push-docker-index", docker=True)
    pushed = registry.push_index("foo/bar", "v1", manifests=images, docker=True)
    return pushed_as_built(registry, pushed, content.index(images, docker=True))


def artifact_blobs() -> dict[str, bytes]:
    return {"application/vnd.example.signature": b"signed, sealed", "application/json": b'{"delivered": true}'}


def push_artifact(registry: OCIRegistry) -> Content:
    subject = registry.push_image("foo/bar", "subject", layers=[b"the subject"])
    annotations = {"org.example.signer": "test"}
    pushed = registry.push_artifact(
        "foo/bar", ARTIFACT_TYPE, blobs=artifact_blobs(), subject=subject, annotations=annotations, tag="v1"
    )
    expected = content.artifact(ARTIFACT_TYPE, artifact_blobs(), subject=subject, annotations=annotations)
    return pushed_as_built(registry, pushed, expected)


BUILDERS: dict[str, tuple[Callable[[OCIRegistry], Content], str, str]] = {
    # kind: (push it into foo/bar:v1, its media type, where skopeo copies it out to: an OCI layout, or dir:)
    "oci-image": (push_oci_image, OCI_MANIFEST, "oci"),
    "docker-image": (push_docker_image, DOCKER_MANIFEST, "dir"),
    "oci-index": (push_oci_index, OCI_INDEX, "oci"),
    "docker-manifest-list": (push_docker_index, DOCKER_MANIFEST_LIST, "dir"),
    "artifact": (push_artifact, OCI_MANIFEST, "oci"),
}


@pytest.mark.parametrize("kind", BUILDERS)
def test_builder_content_survives_skopeo(
    oci_registry: OCIRegistry,
    make_oci_registry: Callable[..., OCIRegistry],
    skopeo: Skopeo,
    tmp_path: Path,
    kind: str,
) -> None:
    """What each ``push_*`` method writes, skopeo reads as is (``inspect --raw`` gives the stored bytes) and copies
    with ``--all --preserve-digests`` out to local storage and back into another repository, and straight into a
    second registry: digest for digest, byte for byte.

    (An OCI layout cannot hold Docker media types without conversion, so Docker content goes out to ``dir:``.)"""
    push, media_type, transport = BUILDERS[kind]
    expected = push(oci_registry)
    assert oci_registry.manifest("foo/bar", "v1").media_type == expected.media_type == media_type
    remote = f"docker://{oci_registry.host}/foo/bar:v1"

    raw = skopeo("inspect", "--raw", "--tls-verify=false", remote).encode()
    assert raw == oci_registry.manifest("foo/bar", "v1").data == expected.manifest

    local = tmp_path / "local"
    local_ref = f"oci:{local}:v1" if transport == "oci" else f"dir:{local}"
    skopeo("copy", "--all", "--preserve-digests", "--src-tls-verify=false", remote, local_ref)
    assert_same_content(read_layout(local, "v1") if transport == "oci" else read_dir(local), expected)

    skopeo(
        "copy", "--all", "--preserve-digests", "--dest-tls-verify=false", local_ref,
        f"docker://{oci_registry.host}/other/repo:v2",
    )  # fmt: skip
    assert_same_content(read_registry(oci_registry, "other/repo", "v2"), expected)

    second = make_oci_registry()
    skopeo(
        "copy", "--all", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false", remote,
        f"docker://{second.host}/copied/repo:v3",
    )  # fmt: skip
    assert second.repositories() == ["copied/repo"]
    assert second.tags("copied/repo") == ["v3"]
    assert_same_content(read_registry(second, "copied/repo", "v3"), expected)


@pytest.mark.parametrize("docker", [False, True], ids=["oci-index", "docker-manifest-list"])
def test_pushed_index_platforms_resolve_in_skopeo(oci_registry: OCIRegistry, skopeo: Skopeo, docker: bool) -> None:
    """skopeo picks each platform's image out of an index ``push_index`` wrote: its config's architecture and its
    layers."""
    images = platform_images("platforms", docker=docker)
    oci_registry.push_index("foo/bar", "v1", manifests=images, docker=docker)
    for platform, image in zip(PLATFORMS, images):
        overrides = [f"--override-arch={platform['architecture']}", f"--override-variant={platform.get('variant', '')}"]
        remote = f"docker://{oci_registry.host}/foo/bar:v1"
        inspected = json.loads(skopeo("inspect", "--tls-verify=false", *overrides, "--override-os=linux", remote))
        assert (inspected["Architecture"], inspected["Os"]) == (platform["architecture"], "linux")
        assert inspected["Layers"] == layer_digests(image)


def referrers_over_http(registry: OCIRegistry, repo: str, digest: str, **params: str) -> Any:
    """The referrers API's answer, as JSON (it must be an OCI index)."""
    httpx = pytest.importorskip("httpx")
    url = f"{registry.url}/v2/{repo}/referrers/{digest}"
    response = httpx.get(url, params=params, verify=registry.ssl_context or True)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == OCI_INDEX
    return response.json()


def test_pushed_artifact_is_a_referrer(
    oci_registry: OCIRegistry, make_oci_registry: Callable[..., OCIRegistry], skopeo: Skopeo
) -> None:
    """``push_artifact`` with a subject shows in ``referrers()`` and in the referrers API with its artifactType
    (filtered by it too), and so does the copy skopeo makes of it, by digest, in a second registry."""
    subject = oci_registry.push_image("foo/bar", "v1", layers=[b"the subject"])
    annotations = {"org.example.signer": "test"}
    pushed = oci_registry.push_artifact(
        "foo/bar", ARTIFACT_TYPE, blobs=artifact_blobs(), subject=subject, annotations=annotations
    )
    assert pushed.artifact_type == ARTIFACT_TYPE
    assert oci_registry.tags("foo/bar") == ["v1"]  # pushed by digest
    listed = Descriptor(OCI_MANIFEST, pushed.digest, pushed.size, annotations=annotations, artifact_type=ARTIFACT_TYPE)
    assert oci_registry.referrers("foo/bar", subject.digest) == [listed]
    assert oci_registry.referrers("foo/bar", subject.digest, "application/other") == []

    entry = {
        "mediaType": OCI_MANIFEST,
        "digest": pushed.digest,
        "size": pushed.size,
        "annotations": annotations,
        "artifactType": ARTIFACT_TYPE,
    }
    answer = referrers_over_http(oci_registry, "foo/bar", subject.digest)
    assert (answer["schemaVersion"], answer["mediaType"], answer["manifests"]) == (2, OCI_INDEX, [entry])
    filtered = referrers_over_http(oci_registry, "foo/bar", subject.digest, artifactType=ARTIFACT_TYPE)
    assert filtered["manifests"] == [entry]
    assert referrers_over_http(oci_registry, "foo/bar", subject.digest, artifactType="application/other")[
        "manifests"
    ] == ([] if oci_registry.options.spec_referrers_list else None)

    second = make_oci_registry()
    for reference in ("v1", f"@{pushed.digest}"):
        target = reference if reference.startswith("@") else f":{reference}"
        skopeo(
            "copy", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false",
            f"docker://{oci_registry.host}/foo/bar{target}", f"docker://{second.host}/foo/bar{target}",
        )  # fmt: skip
    assert second.referrers("foo/bar", subject.digest) == [listed]
    assert referrers_over_http(second, "foo/bar", subject.digest)["manifests"] == [entry]
    assert second.blob("foo/bar", digest_of(b"signed, sealed")) == b"signed, sealed"


# oras-py ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def oras_provider(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The ``oras.provider`` module, its sleeping retry decorator removed (a failure fails)."""
    return oras_provider_module(monkeypatch)


@pytest.fixture
def oras_client(oci_registry: OCIRegistry, oras_provider: Any) -> Any:
    """An oras-py client on the fixture over plain HTTP."""
    return oras_provider.Registry(hostname=oci_registry.host, insecure=True)


@pytest.mark.parametrize("chunked", [False, True], ids=["monolithic", "chunked"])
def test_oras_push_pull(
    oci_registry: OCIRegistry,
    oras_client: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    wire: RequestLog,
    chunked: bool,
) -> None:
    """oras pushes files (chunked: PATCHes of 4000 bytes with ``Content-Range``) and pulls the same bytes back."""
    files = write_files(tmp_path / "src", {"a.txt": 10, "b.bin": 9_999, "empty": 0})
    monkeypatch.chdir(tmp_path / "src")
    target = f"{oci_registry.host}/foo/artifact:v1"

    response = oras_client.push(target, files=sorted(files), do_chunked=chunked, chunk_size=4000, quiet=True)
    assert response.status_code == 201
    patches = [(e.headers.get("Content-Range"), e.status) for e in wire if e.method == "PATCH"]
    expected = [("0-9", 202), ("0-3999", 202), ("4000-7999", 202), ("8000-9998", 202)]
    assert patches == (expected if chunked else [])

    stored = oci_registry.manifest("foo/artifact", "v1")
    assert stored.media_type == OCI_MANIFEST
    assert response.headers["Docker-Content-Digest"] == stored.digest
    layers = json.loads(stored.data)["layers"]
    assert {layer["annotations"]["org.opencontainers.image.title"]: layer["digest"] for layer in layers} == {
        name: digest_of(data) for name, data in files.items()
    }
    for name, data in files.items():
        assert oci_registry.blob("foo/artifact", digest_of(data)) == data

    pulled = oras_client.pull(target, outdir=str(tmp_path / "out"))
    assert sorted(Path(p).name for p in pulled) == sorted(files)
    for name, data in files.items():
        assert (tmp_path / "out" / name).read_bytes() == data


def test_oras_tags_and_delete(oci_registry: OCIRegistry, oras_client: Any) -> None:
    """oras lists tags (all, and the first N) and deletes one by its HEAD digest."""
    tags = [f"t{i:02d}" for i in range(12)]
    for tag in tags:
        oci_registry.push_image("foo/bar", tag, layers=(), config=b"{}", annotations={"tag": tag})
    repo = f"{oci_registry.host}/foo/bar"

    assert oras_client.get_tags(repo) == tags
    assert oras_client.get_tags(repo, N=5) == tags[:5]

    assert oras_client.delete_tag(repo, "t03") is True
    assert_gone(oci_registry, "foo/bar", "t03")
    assert oras_client.get_tags(repo) == [t for t in tags if t != "t03"]


# python-dxf ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def dxf_module() -> Any:
    """The python-dxf module."""
    return pytest.importorskip("dxf")


def test_dxf_chunked_push_pull_and_delete(oci_registry: OCIRegistry, dxf_module: Any, wire: RequestLog) -> None:
    """python-dxf PUTs a chunked-encoded blob, reads its size and bytes back, then deletes it."""
    data = random.Random("dxf").randbytes(2_500_000)
    with dxf_module.DXF(oci_registry.host, "foo/bar", insecure=True) as client:
        digest = client.push_blob(data=chunks_of(data, 65_536), digest=digest_of(data))
        assert digest == digest_of(data)
        [put] = [e for e in wire if e.method == "PUT"]
        assert (put.headers.get("Transfer-Encoding"), put.headers.get("Content-Length"), put.status) == (
            "chunked",
            None,
            201,
        )
        assert put.body_size == len(data)
        assert oci_registry.blob("foo/bar", digest) == data

        assert client.blob_size(digest) == len(data)
        assert b"".join(client.pull_blob(digest)) == data
        stream, size = client.pull_blob(digest, size=True)
        assert size == len(data)
        assert b"".join(stream) == data

        # Pushing it again finds it with HEAD and sends nothing.
        assert client.push_blob(data=iter([b"never sent"]), digest=digest) == digest

        client.del_blob(digest)
        with pytest.raises(pytest.importorskip("requests").HTTPError) as caught:
            client.blob_size(digest)
        assert caught.value.response.status_code == 404


def test_dxf_aliases_repositories_and_mount(oci_registry: OCIRegistry, dxf_module: Any, wire: RequestLog) -> None:
    """python-dxf tags blobs (``set_alias``), lists tags and repositories one page at a time, mounts a blob across
    repositories (201), and deletes an alias."""
    blobs = [random.Random(f"alias-{i}").randbytes(1000 * (i + 1)) for i in range(3)]
    with dxf_module.DXF(oci_registry.host, "foo/bar", insecure=True) as client:
        digests = [client.push_blob(data=chunks_of(blob, 300), digest=digest_of(blob)) for blob in blobs]
        aliases = [f"alias-{i}" for i in range(5)]
        for i, alias in enumerate(aliases):
            manifest = client.set_alias(alias, *digests[: 1 + i % 3])
            assert oci_registry.manifest("foo/bar", alias).data == manifest.encode()
        assert client.get_alias("alias-2") == digests
        assert client.get_alias("alias-1", sizes=True) == [(d, len(b)) for d, b in zip(digests[:2], blobs[:2])]

        # batch_size=2 makes three pages, chained by Link headers.
        assert client.list_aliases(batch_size=2) == aliases
        assert [e.query for e in wire if e.path == "/v2/foo/bar/tags/list"] == [
            "n=2",
            "last=alias-1&n=2",
            "last=alias-3&n=2",
        ]
        # alias-1 and alias-4 name one manifest: deleting it by digest removes both tags.
        assert client.del_alias("alias-4") == digests[:2]
        assert_gone(oci_registry, "foo/bar", "alias-4")
        assert client.list_aliases() == ["alias-0", "alias-2", "alias-3"]

        other = dxf_module.DXF.from_base(client, "foo/other")
        assert other.mount_blob("foo/bar", digests[0]) == digests[0]
        assert oci_registry.blob("foo/other", digests[0]) == blobs[0]

    oci_registry.push_blob("zzz/last", b"x")
    base = dxf_module.DXFBase(oci_registry.host, insecure=True)
    assert base.list_repos(batch_size=1) == ["foo/bar", "foo/other", "zzz/last"]
    assert [e.query for e in wire if e.path == "/v2/_catalog"] == ["n=1", "last=foo%2Fbar&n=1", "last=foo%2Fother&n=1"]


# requests and httpx, by hand ----------------------------------------------------------------------------------------


def test_requests_post_put_upload(oci_registry: OCIRegistry) -> None:
    """POST opens an upload (202 + Location), PUT with the whole body and ``?digest=`` closes it (201)."""
    requests = pytest.importorskip("requests")
    data = random.Random("post-put").randbytes(100_000)
    with requests.Session() as session:
        started = session.post(f"{oci_registry.url}/v2/foo/bar/blobs/uploads/")
        assert started.status_code == 202, started.text
        location = urljoin(oci_registry.url, started.headers["Location"])
        assert location.startswith(f"{oci_registry.url}/v2/foo/bar/blobs/uploads/")

        done = session.put(location, params={"digest": digest_of(data)}, data=data)
        assert done.status_code == 201, done.text
        assert done.headers["Docker-Content-Digest"] == digest_of(data)
        blob_url = urljoin(oci_registry.url, done.headers["Location"])
        assert blob_url == f"{oci_registry.url}/v2/foo/bar/blobs/{digest_of(data)}"

        fetched = session.get(blob_url)
        assert fetched.status_code == 200
        assert fetched.content == data
    assert oci_registry.blob("foo/bar", digest_of(data)) == data


def test_httpx_chunked_patch_upload(oci_registry: OCIRegistry) -> None:
    """PATCHes with ``Content-Range`` append in order (202, ``Range`` grows); an out-of-order chunk is 416; the
    closing PUT (201) stores exactly the chunks sent."""
    httpx = pytest.importorskip("httpx")
    data = random.Random("patch").randbytes(250_000)
    chunk = 100_000
    with httpx.Client(base_url=oci_registry.url) as client:
        started = client.post("/v2/foo/bar/blobs/uploads/")
        assert started.status_code == 202, started.text
        location = started.headers["Location"]
        for start in range(0, len(data), chunk):
            piece = data[start : start + chunk]
            end = start + len(piece) - 1
            response = client.patch(
                location,
                content=piece,
                headers={"Content-Range": f"{start}-{end}", "Content-Type": "application/octet-stream"},
            )
            assert response.status_code == 202, response.text
            assert response.headers["Range"] == f"0-{end}"
            location = response.headers["Location"]

        replayed = client.patch(location, content=data[:10], headers={"Content-Range": "0-9"})
        assert replayed.status_code == 416, replayed.text
        assert client.get(location).headers["Range"] == f"0-{len(data) - 1}"

        done = client.put(location, params={"digest": digest_of(data)})
        assert done.status_code == 201, done.text
        assert done.headers["Docker-Content-Digest"] == digest_of(data)
        assert client.get(f"/v2/foo/bar/blobs/{digest_of(data)}").content == data


def test_httpx_keep_alive(oci_registry: OCIRegistry) -> None:
    """Twenty requests of every kind (errors and unread bodies included) share one httpx connection."""
    httpx = pytest.importorskip("httpx")
    digest = oci_registry.push_blob("foo/bar", b"kept alive")
    calls: list[tuple[str, str, bytes, int]] = [
        ("GET", "/v2/", b"", 200),
        ("HEAD", f"/v2/foo/bar/blobs/{digest}", b"", 200),
        ("GET", f"/v2/foo/bar/blobs/{digest}", b"", 200),
        ("GET", "/v2/foo/bar/blobs/sha256:" + "0" * 64, b"", 404),
        ("PUT", "/v2/foo/bar/manifests/v1", b"{not json" * 1000, 400),
        ("POST", "/v2/nope", b"x" * 50_000, 404),
        ("GET", "/v2/foo/bar/tags/list", b"", 200),
    ]
    local_ports: set[int] = set()
    with httpx.Client(base_url=oci_registry.url) as client:
        for i in range(20):
            method, path, body, status = calls[i % len(calls)]
            response = client.request(method, path, content=body or None, headers={"Content-Type": OCI_MANIFEST})
            assert response.status_code == status, (method, path, response.text)
            local_ports.add(response.extensions["network_stream"].get_extra_info("client_addr")[1])
    assert len(local_ports) == 1


def test_requests_keep_alive(oci_registry: OCIRegistry) -> None:
    """Twenty requests on one requests session open one connection in urllib3's pool."""
    requests = pytest.importorskip("requests")
    digest = oci_registry.push_blob("foo/bar", b"kept alive")
    with requests.Session() as session:
        for i in range(20):
            if i % 2:
                assert session.get(f"{oci_registry.url}/v2/foo/bar/blobs/{digest}").content == b"kept alive"
            else:
                assert session.head(f"{oci_registry.url}/v2/foo/bar/blobs/sha256:{'1' * 64}").status_code == 404
        pools = session.get_adapter(oci_registry.url).poolmanager.pools
        keys = pools.keys()  # urllib3's pool container refuses plain iteration
        assert [(pools[key].num_connections, pools[key].num_requests) for key in keys] == [(1, 20)]


def tls_client_hello() -> bytes:
    """The first bytes a TLS client sends: a real ClientHello record."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    outgoing = ssl.MemoryBIO()
    tls = context.wrap_bio(ssl.MemoryBIO(), outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


def send_and_hang_up(address: tuple[str, int], payload: bytes) -> None:
    """Send ``payload`` on a new connection, half-close it and read whatever comes back. The server may answer or
    hang up at any point: that is its right with such bytes."""
    with socket.create_connection(address, timeout=5) as raw:
        try:
            raw.sendall(payload)
            raw.shutdown(socket.SHUT_WR)
            while raw.recv(65_536):
                pass
        except OSError:  # reset, broken pipe, not connected, timeout
            pass


GARBAGE: dict[str, Callable[[], bytes]] = {
    "tls-client-hello": tls_client_hello,
    "binary": lambda: random.Random("garbage").randbytes(70_000),
    "binary-lines": lambda: b"\x00\xff\r\n" * 1000 + b"\r\n\r\n",
    "truncated-request": lambda: b"PUT /v2/foo/bar/manifests/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: 9999\r\n\r\n{",
    "nothing": lambda: b"",
}


@pytest.mark.parametrize("payload", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_on_the_socket_leaves_the_server_serving(
    oci_registry: OCIRegistry, payload: Callable[[], bytes]
) -> None:
    """Bytes that are not HTTP (a TLS handshake, noise, a cut-off request) on the plain port do not stop the server:
    a connection opened before keeps working, and new ones answer 200 on ``/v2/``."""
    httpx = pytest.importorskip("httpx")
    digest = oci_registry.push_blob("foo/bar", b"still here")
    with httpx.Client(base_url=oci_registry.url) as client:
        assert client.get("/v2/").status_code == 200
        host, port = oci_registry.host.rsplit(":", 1)
        for _ in range(3):
            send_and_hang_up((host, int(port)), payload())
        assert client.get(f"/v2/foo/bar/blobs/{digest}").content == b"still here"
    with httpx.Client(base_url=oci_registry.url) as fresh:
        response = fresh.get("/v2/")
        assert response.status_code == 200
        assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    assert oci_registry.is_running()


# TLS: every client against the HTTPS registry, trusting its throw-away CA ------------------------------------------


def push_and_pull_over_http(send: Callable[[str, str, bytes | None, Mapping[str, str]], Any], url: str) -> None:
    """Push an image to ``url``'s ``foo/bar:v1`` with ``send(method, url, body, headers)`` (a requests or httpx
    call): each blob by POST, PATCH and PUT ``?digest=``, then the manifest; then pull every piece back."""
    built = build_image("over-https", layers=2)
    for digest, data in built.blobs.items():
        started = send("POST", f"{url}/v2/foo/bar/blobs/uploads/", None, {})
        assert started.status_code == 202, started.text
        patched = send(
            "PATCH", urljoin(url, started.headers["Location"]), data, {"Content-Type": "application/octet-stream"}
        )
        assert patched.status_code == 202, patched.text
        assert patched.headers["Range"] == f"0-{len(data) - 1}"
        location = urljoin(url, patched.headers["Location"])
        done = send("PUT", f"{location}{'&' if '?' in location else '?'}digest={digest}", None, {})
        assert done.status_code == 201, done.text
        assert done.headers["Docker-Content-Digest"] == digest
    pushed = send("PUT", f"{url}/v2/foo/bar/manifests/v1", built.manifest, {"Content-Type": built.media_type})
    assert pushed.status_code == 201, pushed.text
    assert pushed.headers["Docker-Content-Digest"] == built.digest

    pulled = send("GET", f"{url}/v2/foo/bar/manifests/v1", None, {"Accept": built.media_type})
    assert pulled.status_code == 200, pulled.text
    assert (pulled.content, pulled.headers["Content-Type"]) == (built.manifest, built.media_type)
    for digest, data in built.blobs.items():
        fetched = send("GET", f"{url}/v2/foo/bar/blobs/{digest}", None, {})
        assert (fetched.status_code, fetched.content) == (200, data)


@TLS
def test_tls_requests(oci_registry: OCIRegistry, wire: RequestLog) -> None:
    """requests, verifying with ``verify=<ca_bundle>``, pushes an image over HTTPS and pulls it back."""
    requests = pytest.importorskip("requests")
    with requests.Session() as session:
        # Per request: requests lets a REQUESTS_CA_BUNDLE in the environment override ``session.verify``.
        verify = ca_bundle(oci_registry)
        push_and_pull_over_http(
            lambda method, url, body, headers: session.request(
                method, url, data=body, headers=headers, verify=verify, timeout=30
            ),
            oci_registry.url,
        )
    assert_same_content(read_registry(oci_registry, "foo/bar", "v1"), build_image("over-https", layers=2))
    blobs = len(build_image("over-https", layers=2).blobs)
    expected = [("POST", 202), ("PATCH", 202), ("PUT", 201)] * blobs + [("PUT", 201)] + [("GET", 200)] * (1 + blobs)
    assert [(e.method, e.status) for e in wire] == expected


@TLS
def test_tls_httpx(oci_registry: OCIRegistry) -> None:
    """httpx, verifying with ``verify=<ssl_context>``, pushes an image over HTTPS and pulls it back."""
    httpx = pytest.importorskip("httpx")
    assert isinstance(oci_registry.ssl_context, ssl.SSLContext)
    assert oci_registry.ssl_context.verify_mode == ssl.CERT_REQUIRED and oci_registry.ssl_context.check_hostname
    with httpx.Client(verify=oci_registry.ssl_context, timeout=30) as client:
        push_and_pull_over_http(
            lambda method, url, body, headers: client.request(method, url, content=body, headers=headers),
            oci_registry.url,
        )
    assert_same_content(read_registry(oci_registry, "foo/bar", "v1"), build_image("over-https", layers=2))


@TLS
def test_tls_skopeo(
    oci_registry: OCIRegistry, make_oci_registry: Callable[..., OCIRegistry], skopeo: Skopeo, tmp_path: Path
) -> None:
    """skopeo, verifying TLS against each registry's ``cert_dir``, copies an index in, inspects it, copies it out,
    and copies it between two HTTPS registries with different CAs."""
    index = content.index([build_image(f"tls-{arch}", layers=2, arch=arch) for arch in ("amd64", "arm64")])
    write_layout(tmp_path / "src", "v1", index)
    remote = f"docker://{oci_registry.host}/foo/bar:v1"
    certs = cert_dir(oci_registry)

    skopeo(
        "copy", "--all", "--preserve-digests", "--dest-tls-verify=true", f"--dest-cert-dir={certs}",
        f"oci:{tmp_path / 'src'}:v1", remote,
    )  # fmt: skip
    assert_same_content(read_registry(oci_registry, "foo/bar", "v1"), index)
    assert skopeo("inspect", "--raw", "--tls-verify=true", f"--cert-dir={certs}", remote).encode() == index.manifest

    skopeo(
        "copy", "--all", "--preserve-digests", "--src-tls-verify=true", f"--src-cert-dir={certs}",
        remote, f"oci:{tmp_path / 'out'}:v1",
    )  # fmt: skip
    assert_same_content(read_layout(tmp_path / "out", "v1"), index)

    second = make_oci_registry(tls=True)
    assert cert_dir(second) != certs
    assert Path(ca_bundle(second)).read_bytes() != Path(ca_bundle(oci_registry)).read_bytes()
    skopeo(
        "copy", "--all", "--preserve-digests", "--src-tls-verify=true", f"--src-cert-dir={certs}",
        "--dest-tls-verify=true", f"--dest-cert-dir={cert_dir(second)}", remote, f"docker://{second.host}/foo/copy:v2",
    )  # fmt: skip
    assert_same_content(read_registry(second, "foo/copy", "v2"), index)


@TLS
def test_tls_dxf(oci_registry: OCIRegistry, dxf_module: Any, wire: RequestLog) -> None:
    """python-dxf, verifying with ``tlsverify=<ca_bundle>`` (and not insecure), pushes blobs and an alias over
    HTTPS and pulls them back."""
    blobs = [random.Random(f"tls-dxf-{i}").randbytes(100_000 * (i + 1)) for i in range(2)]
    with dxf_module.DXF(oci_registry.host, "foo/bar", tlsverify=ca_bundle(oci_registry)) as client:
        digests = [client.push_blob(data=chunks_of(blob, 65_536), digest=digest_of(blob)) for blob in blobs]
        assert digests == [digest_of(blob) for blob in blobs]
        manifest = client.set_alias("v1", *digests)
        assert oci_registry.manifest("foo/bar", "v1").data == manifest.encode()
        assert client.get_alias("v1", sizes=True) == [(digest_of(b), len(b)) for b in blobs]
        for digest, blob in zip(digests, blobs):
            assert b"".join(client.pull_blob(digest)) == blob
            assert oci_registry.blob("foo/bar", digest) == blob
        assert client.list_aliases() == ["v1"]
    assert {e.method for e in wire} >= {"POST", "PUT", "GET"}
    assert all(e.status < 400 or e.method == "HEAD" for e in wire), wire.format()


@TLS
def test_tls_oras(
    oci_registry: OCIRegistry, oras_provider: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """oras-py, verifying with ``tls_verify=<ca_bundle>`` (its CA-bundle form; not insecure), pushes files over
    HTTPS and pulls the same bytes back."""
    client = oras_provider.Registry(hostname=oci_registry.host, tls_verify=ca_bundle(oci_registry))
    assert client.prefix == "https"
    files = write_files(tmp_path / "src", {"a.txt": 10, "b.bin": 300_000})
    monkeypatch.chdir(tmp_path / "src")
    target = f"{oci_registry.host}/foo/artifact:v1"

    response = client.push(target, files=sorted(files), quiet=True)
    assert response.status_code == 201
    stored = oci_registry.manifest("foo/artifact", "v1")
    layers = json.loads(stored.data)["layers"]
    assert {layer["annotations"]["org.opencontainers.image.title"]: layer["digest"] for layer in layers} == {
        name: digest_of(data) for name, data in files.items()
    }
    for data in files.values():
        assert oci_registry.blob("foo/artifact", digest_of(data)) == data

    pulled = client.pull(target, outdir=str(tmp_path / "out"))
    assert sorted(Path(p).name for p in pulled) == sorted(files)
    for name, data in files.items():
        assert (tmp_path / "out" / name).read_bytes() == data
    assert client.get_tags(f"{oci_registry.host}/foo/artifact") == ["v1"]


@TLS
def test_tls_untrusted_clients_fail_verification(
    oci_registry: OCIRegistry, skopeo: Skopeo, wire: RequestLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clients that do not trust the registry's CA refuse its certificate (requests: ``SSLError``; httpx: a connect
    error; skopeo: an unknown authority), and no HTTP request gets through; one that trusts it gets in."""
    requests = pytest.importorskip("requests")
    httpx = pytest.importorskip("httpx")
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    oci_registry.push_image("foo/bar", "v1")

    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        requests.get(f"{oci_registry.url}/v2/", timeout=30)
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{oci_registry.url}/v2/", timeout=30)
    stderr = skopeo.fails("inspect", "--raw", "--tls-verify=true", f"docker://{oci_registry.host}/foo/bar:v1")
    assert "certificate signed by unknown authority" in stderr
    assert list(wire) == []

    trusted = requests.get(f"{oci_registry.url}/v2/foo/bar/manifests/v1", verify=ca_bundle(oci_registry), timeout=30)
    assert (trusted.status_code, trusted.content) == (200, oci_registry.manifest("foo/bar", "v1").data)
    assert [(e.method, e.path, e.status) for e in wire] == [("GET", "/v2/foo/bar/manifests/v1", 200)]
