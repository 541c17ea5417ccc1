"""skopeo against the ``oci_registry`` fixture: copies in and out (digest for digest), copies between repositories
(mounts, and the fallback when a mount's source is gone), tags and delete, multi-platform indexes, everything the
``push_*`` builders write, referrers, and TLS with each registry's ``cert_dir``. A test skips only when skopeo is
not installed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from client_support import (
    TLS,
    Skopeo,
    assert_gone,
    assert_same_content,
    build_image,
    ca_bundle,
    cert_dir,
    layer_digests,
    layer_tars,
    read_dir,
    read_layout,
    read_registry,
    runnable,
    write_layout,
)
from matrix import PAIRWISE, Cell, covers
from pytest_httpserver.httpserver import QueryMatcher

from pytest_ociregistry import Descriptor, OCIRegistry, content
from pytest_ociregistry.content import Content
from pytest_ociregistry.manifest import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST
from pytest_ociregistry.names import digest_of
from pytest_ociregistry.requestlog import RequestLog, RequestRecord


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


def mounts(wire: Iterable[RequestRecord], repo: str) -> dict[str, RequestRecord]:
    """The mount requests into ``repo``, by the digest they mount."""
    return {
        parse_qs(e.query)["mount"][0]: e
        for e in wire
        if e.method == "POST" and e.path == f"/v2/{repo}/blobs/uploads/" and "mount=" in e.query
    }


def mount_statuses(wire: Iterable[RequestRecord], repo: str, layers: Iterable[str]) -> dict[str, int]:
    """The status of each mount into ``repo``, by digest, checked to be of ``layers`` (never a config) and at least
    one. Which layers skopeo tries to mount is its blob-info cache's say: under load it sometimes has no record of a
    layer its first copy pushed (skopeo 1.9.3's debug log: no "Trying to reuse cached location" for it; about one
    run in ten with two copies at once) and copies that one instead."""
    statuses = {digest: e.status for digest, e in mounts(wire, repo).items()}
    assert statuses and set(statuses) <= set(layers), (statuses, layers)
    return statuses


def test_skopeo_copy_between_repositories(
    oci_registry: OCIRegistry, skopeo: Skopeo, tmp_path: Path, wire: RequestLog
) -> None:
    """A registry-to-registry copy mounts layers (each 201; see :func:`mount_statuses`), never the config, and lands
    the same content."""
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
    assert set(mount_statuses(wire, "other/repo", layer_digests(image)).values()) == {201}
    assert_same_content(read_registry(oci_registry, "other/repo", "v2"), image)


class _MountFromFooBar(QueryMatcher):
    """Matches a mount from ``foo/bar`` of any digest."""

    def get_comparing_values(self, request_query_string: bytes) -> tuple[Any, Any]:
        query = parse_qs(request_query_string.decode())
        return (query.get("from"), "mount" in query), (["foo/bar"], True)


def test_skopeo_mount_fallback(oci_registry: OCIRegistry, skopeo: Skopeo, tmp_path: Path, wire: RequestLog) -> None:
    """When a mount's source blob is gone the registry opens an upload instead (202); skopeo cancels that session
    (DELETE, 204) and uploads the layer itself."""
    image = build_image("fallback")
    write_layout(tmp_path / "src", "v1", image)
    source = f"oci:{tmp_path / 'src'}:v1"
    skopeo("copy", "--dest-tls-verify=false", source, f"docker://{oci_registry.host}/foo/bar:v1")
    vanished: list[str] = []

    def vanish_then_serve(request: Any) -> Any:
        vanished.append(request.args["mount"])
        oci_registry.store.delete_blob("foo/bar", vanished[0])
        return oci_registry.app.handle(request)

    # Which layers skopeo tries to mount depends on its blob-info cache (mount_statuses), so the first mount it
    # tries is the one whose source vanishes.
    oci_registry.expect_oneshot_request(
        "/v2/other/repo/blobs/uploads/", method="POST", query_string=_MountFromFooBar()
    ).respond_with_handler(vanish_then_serve)

    skopeo("copy", "--dest-tls-verify=false", source, f"docker://{oci_registry.host}/other/repo:v1")
    mounted = mount_statuses(wire, "other/repo", layer_digests(image))
    assert vanished and vanished[0] in layer_digests(image)
    assert mounted == {d: 202 if d == vanished[0] else 201 for d in mounted}
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


# skopeo in each cell of the client matrix ---------------------------------------------------------------------------


@covers("skopeo", ("copy an index in and out (--all)", "copy between repositories (mount)", "inspect", "list tags",
                   "delete"), PAIRWISE)  # fmt: skip
def test_skopeo_in_each_cell(cell: Cell, registry: OCIRegistry, skopeo: Skopeo, tmp_path: Path) -> None:
    """skopeo copies a two-platform index of runnable images in and out digest for digest, copies it to another
    repository by mounting its layers, inspects it (the stored bytes), lists the tags and deletes it."""
    index = content.index([runnable("skopeo-amd64").content, runnable("skopeo-arm64", "arm64").content])
    write_layout(tmp_path / "src", "v1", index)
    remote = f"docker://{registry.host}/foo/app:v1"
    src, dest, one = (skopeo.flags(registry, cell, side) for side in ("src", "dest", ""))

    skopeo("copy", "--all", "--preserve-digests", *dest, f"oci:{tmp_path / 'src'}:v1", remote)
    assert_same_content(read_registry(registry, "foo/app", "v1"), index)
    skopeo("copy", "--all", "--preserve-digests", *src, remote, f"oci:{tmp_path / 'out'}:v1")
    assert_same_content(read_layout(tmp_path / "out", "v1"), index)

    before = len(registry.requests)
    skopeo("copy", "--all", "--preserve-digests", *src, *dest, remote, f"docker://{registry.host}/other/app:v2")
    assert_same_content(read_registry(registry, "other/app", "v2"), index)
    layers = {d for child in index.children for d in layer_digests(child)}
    assert set(mount_statuses(list(registry.requests)[before:], "other/app", layers).values()) == {201}

    assert skopeo("inspect", "--raw", *one, remote).encode() == registry.manifest("foo/app", "v1").data
    assert json.loads(skopeo("list-tags", *one, f"docker://{registry.host}/foo/app"))["Tags"] == ["v1"]
    skopeo("delete", *one, f"docker://{registry.host}/other/app:v2")
    assert_gone(registry, "other/app", index.digest)
    assert registry.tags("foo/app") == ["v1"]
