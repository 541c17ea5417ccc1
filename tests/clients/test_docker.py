"""Docker Engine 20.10 (Debian's ``dockerd`` and ``/usr/bin/docker``) against the registry, in each cell of the
client matrix: push (a new image, one sharing a layer, a cross-repository mount), pull by tag and by digest, ``run``
of what was pulled, ``docker manifest create/push/inspect``, builds FROM an image in the registry (classic builder
and BuildKit), and what docker reports (digests, sizes, image ids, layer diff_ids) against what the store holds.

The daemon runs once per session with private directories (see ``daemons.py``); images come from offline builders
(``docker load`` of an archive written here), never from the internet."""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
import time
from pathlib import Path
from urllib.parse import parse_qs

from client_support import (
    Docker,
    Runnable,
    build_context,
    gunzip_digest,
    push_zstd,
    runnable,
    write_docker_archive,
)
from matrix import HTTP_AUTH, PAIRWISE, PRESET_NAMES, PRESETS_AND_TLS, Cell, covers

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.manifest import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST
from pytest_ociregistry.names import digest_of


def load(docker: Docker, tmp_path: Path, name: str, image: Runnable) -> None:
    """``docker load`` the image, tagged ``name``."""
    archive = write_docker_archive(tmp_path / f"{image.label}.tar", name, image)
    assert f"Loaded image: {name}" in docker("load", "--input", str(archive))


def pushed(output: str, tag: str) -> tuple[str, int]:
    """The digest and size ``docker push`` reports for ``tag``."""
    found = re.search(rf"^{re.escape(tag)}: digest: (sha256:[0-9a-f]{{64}}) size: (\d+)$", output, re.MULTILINE)
    assert found, output
    return found[1], int(found[2])


def inspect(docker: Docker, ref: str) -> dict[str, object]:
    """``docker image inspect`` of one image."""
    [image] = json.loads(docker("image", "inspect", ref))
    assert isinstance(image, dict)
    return image


def assert_stored_as_docker_sees_it(registry: OCIRegistry, docker: Docker, repo: str, tag: str, image: Runnable) -> str:
    """The manifest under ``repo:tag`` is a Docker schema 2 manifest whose config is the image docker holds (its
    id), whose layers unpack to the image's layer tars (docker's diff_ids, and ours), and whose blobs are all
    stored under their digests. Returns the manifest digest."""
    stored = registry.manifest(repo, tag)
    assert stored.media_type == DOCKER_MANIFEST
    manifest = json.loads(stored.data)
    local = inspect(docker, f"{registry.host}/{repo}:{tag}")
    assert local["Id"] == manifest["config"]["digest"]
    config = json.loads(registry.blob(repo, manifest["config"]["digest"]))
    diff_ids = [digest_of(t) for t in image.tars]
    assert config["rootfs"]["diff_ids"] == diff_ids == local["RootFS"]["Layers"]  # type: ignore[index]
    assert [gunzip_digest(registry.blob(repo, layer["digest"])) for layer in manifest["layers"]] == diff_ids
    return stored.digest


@covers(
    "docker",
    ("push a new image", "push sharing a layer", "cross-repository mount", "pull by tag", "pull by digest",
     "run --network none"),
    PAIRWISE,
)  # fmt: skip
def test_docker_push_pull_run(cell: Cell, registry: OCIRegistry, docker: Docker, tmp_path: Path) -> None:
    """docker pushes an image (the digest and size it prints are the store's), a second one sharing the busybox
    layer (HEAD finds it: "Layer already exists"), the first again into another repository (each layer mounted,
    201); pulls them back by tag and by digest, each digest as stored; and runs each with no network."""
    docker.login(registry, cell)
    host = registry.host
    first, second = runnable("docker-first"), runnable("docker-second")
    load(docker, tmp_path, f"{host}/foo/app:v1", first)
    load(docker, tmp_path, f"{host}/foo/app:v2", second)

    digest, size = pushed(docker("push", f"{host}/foo/app:v1"), "v1")
    assert (digest, size) == (registry.manifest("foo/app", "v1").digest, len(registry.manifest("foo/app", "v1").data))
    assert assert_stored_as_docker_sees_it(registry, docker, "foo/app", "v1", first) == digest

    output = docker("push", f"{host}/foo/app:v2")
    assert output.count("Layer already exists") == 1, output
    second_digest, _ = pushed(output, "v2")
    assert assert_stored_as_docker_sees_it(registry, docker, "foo/app", "v2", second) == second_digest
    first_layers = json.loads(registry.manifest("foo/app", "v1").data)["layers"]
    assert json.loads(registry.manifest("foo/app", "v2").data)["layers"][0] == first_layers[0]

    docker("tag", f"{host}/foo/app:v1", f"{host}/other/app:v1")
    output = docker("push", f"{host}/other/app:v1")
    assert output.count("Mounted from foo/app") == 2, output
    mounts = {
        parse_qs(e.query)["mount"][0]: (parse_qs(e.query)["from"][0], e.status)
        for e in registry.requests
        if e.method == "POST" and e.path == "/v2/other/app/blobs/uploads/" and "mount=" in e.query
    }
    assert mounts == {layer["digest"]: ("foo/app", 201) for layer in first_layers}
    assert pushed(output, "v1")[0] == digest == registry.manifest("other/app", "v1").digest

    docker("image", "rm", f"{host}/foo/app:v1", f"{host}/foo/app:v2", f"{host}/other/app:v1")
    assert f"Digest: {digest}" in docker("pull", f"{host}/foo/app:v1")
    assert f"{host}/foo/app@{digest}" in inspect(docker, f"{host}/foo/app:v1")["RepoDigests"]  # type: ignore[operator]
    assert_stored_as_docker_sees_it(registry, docker, "foo/app", "v1", first)
    by_digest = f"{host}/foo/app@{second_digest}"
    assert f"Digest: {second_digest}" in docker("pull", by_digest)
    assert inspect(docker, by_digest)["Id"] == json.loads(registry.manifest("foo/app", "v2").data)["config"]["digest"]

    assert docker("run", "--rm", "--network", "none", f"{host}/foo/app:v1") == "docker-first"
    assert docker("run", "--rm", "--network", "none", by_digest) == "docker-second"
    docker("image", "rm", f"{host}/foo/app:v1", by_digest)


@covers("docker", ("manifest create", "manifest push", "manifest inspect"), HTTP_AUTH)
def test_docker_manifest_list(cell: Cell, registry: OCIRegistry, docker: Docker) -> None:
    """``docker manifest create`` makes a list of two platforms' images from the registry, ``manifest push`` stores
    it (the digest it prints is the stored one), and ``manifest inspect`` shows what is stored. (The CLI tries
    HTTPS first: the plain port must answer the TLS handshake with a status line, and the 401 to ``/v2/`` must
    carry ``Docker-Distribution-API-Version``, or it gives up.)"""
    docker.login(registry, cell)
    host = registry.host
    images = {arch: runnable(f"docker-{arch}", arch, docker=True).content for arch in ("amd64", "arm64")}
    for arch, image in images.items():
        registry.push("foo/multi", image, arch)
    ref = f"{host}/foo/multi:list"

    docker("manifest", "create", "--insecure", ref, *(f"{host}/foo/multi:{arch}" for arch in images))
    digest = docker("manifest", "push", "--insecure", ref).strip()

    stored = registry.manifest("foo/multi", "list")
    assert (stored.digest, stored.media_type) == (digest, DOCKER_MANIFEST_LIST)
    listed = json.loads(stored.data)["manifests"]
    assert [(m["digest"], m["size"], m["platform"]["architecture"]) for m in listed] == [
        (image.digest, len(image.manifest), arch) for arch, image in images.items()
    ]
    assert json.loads(docker("manifest", "inspect", "--insecure", ref)) == json.loads(stored.data)
    assert json.loads(docker("manifest", "inspect", "--insecure", f"{host}/foo/multi:arm64")) == json.loads(
        images["arm64"].manifest
    )


@covers(
    "docker",
    ("manifest push --insecure to HTTPS",),
    [Cell("reference", True, "none")],
    fails=(
        "the CLI sends plain HTTP to an insecure registry even when it serves HTTPS, then prints `unsupported "
        "registry version` (distribution too)"
    ),
)
def test_docker_manifest_push_insecure_over_tls_uses_http(cell: Cell, registry: OCIRegistry, docker: Docker) -> None:
    """``docker manifest push --insecure`` to an HTTPS registry on 127.0.0.1 sends plain HTTP, which the TLS port
    refuses with 400 as Go does, and fails: a known limit of the docker CLI, not of the registry (distribution over
    TLS fails the same way, with the same words)."""
    image = runnable("docker-amd64", docker=True).content
    registry.push("foo/multi", image, "amd64")
    ref = f"{registry.host}/foo/multi:list"
    docker("manifest", "create", "--insecure", ref, f"{registry.host}/foo/multi:amd64")
    stderr = docker.fails("manifest", "push", "--insecure", ref)
    assert stderr == "failed to configure transport: unsupported registry version\n", stderr
    [ping] = [e for e in registry.requests if e.status == 400]  # plain HTTP on the TLS port, as Go answers it
    assert (ping.method, ping.path) == ("GET", "/v2/")
    assert "foo/multi:list" not in registry


BUILDERS = {"classic": "0", "buildkit": "1"}


@covers("docker", ("build FROM the registry (classic builder, BuildKit)", "push the build"), PRESETS_AND_TLS)
def test_docker_build_from_registry(cell: Cell, registry: OCIRegistry, docker: Docker, tmp_path: Path) -> None:
    """docker builds, with the classic builder and with BuildKit, ``FROM`` an OCI image in the registry (pulled
    through it), runs a step, pushes the result, whose first layers are the base's, and runs it."""
    docker.login(registry, cell)
    host = registry.host
    base = runnable("docker-base")
    context = build_context(registry, tmp_path, "docker-base", "Dockerfile")
    for builder, flag in BUILDERS.items():
        docker.env["DOCKER_BUILDKIT"] = flag
        ref = f"{host}/foo/built:{builder}"
        docker("build", "--network", "none", "--tag", ref, str(context))
        docker("push", ref)
        manifest = json.loads(registry.manifest("foo/built", builder).data)
        layers = [registry.blob("foo/built", layer["digest"]) for layer in manifest["layers"]]
        assert [gunzip_digest(layer) for layer in layers[:2]] == base.config["rootfs"]["diff_ids"]
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(layers[2]))) as tar:
            assert tar.extractfile("built.txt").read() == b"built\n"  # type: ignore[union-attr]
        assert docker("run", "--rm", "--network", "none", ref) == "built\n"
        docker("image", "rm", ref)
    docker("image", "rm", f"{host}/foo/base:v1")


@covers(
    "docker",
    ("pull zstd layers",),
    [Cell(p, False, "none") for p in PRESET_NAMES],
    fails="docker 20.10 cannot unpack zstd layers (`failed to register layer`; distribution too); ctr and podman can",
)
def test_docker_cannot_pull_zstd(cell: Cell, registry: OCIRegistry, docker: Docker, tmp_path: Path) -> None:
    """An image whose layers skopeo compressed with zstd: docker 20.10 downloads it and fails to unpack it."""
    ref = push_zstd(registry, tmp_path, "docker-zstd")
    layers = json.loads(registry.manifest("foo/zstd", "v1").data)["layers"]
    assert {layer["mediaType"] for layer in layers} == {"application/vnd.oci.image.layer.v1.tar+zstd"}
    stderr = docker.fails("pull", ref)
    # It takes the zstd stream for a plain tar (the text varies with the bytes: "unexpected EOF" for others).
    expected = "failed to register layer: Error processing tar file(exit status 1): archive/tar: invalid tar header"
    assert expected in stderr, stderr


@covers(
    "docker",
    ("push without logging in",),
    [Cell(p, False, "bearer") for p in PRESET_NAMES],
    fails="refused at once, as it should be: `denied: requested access to the resource is denied`",
)
def test_docker_anonymous_push_is_refused_at_once(
    cell: Cell, registry: OCIRegistry, docker: Docker, tmp_path: Path
) -> None:
    """Without ``docker login``, a push to a Bearer registry is refused with 401 ``insufficient_scope`` and
    dockerd gives up at once (a 403 made it retry for 50 s)."""
    load(docker, tmp_path, f"{registry.host}/foo/anon:v1", runnable("docker-anon"))
    started = time.monotonic()
    stderr = docker.fails("push", f"{registry.host}/foo/anon:v1")
    assert time.monotonic() - started < 10
    assert "denied: requested access to the resource is denied" in stderr, stderr
    # Its anonymous token lacks push, which a login could obtain: 401 (insufficient_scope), never 403.
    uploads = [(e.status, e.error, e.identity) for e in registry.requests if e.method == "POST"]
    assert uploads and set(uploads) == {(401, "UNAUTHORIZED", "anonymous")}, registry.requests.format()
    assert registry.repositories() == []
    docker("image", "rm", f"{registry.host}/foo/anon:v1")
