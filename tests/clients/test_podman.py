"""podman 4.3 and buildah 1.28 against the registry, in each cell of the client matrix: push (a new image, one
sharing a layer, a cross-repository mount), pull by tag and by digest, ``run --network none``, ``manifest
create/add/push --all``, zstd layers, ``buildah bud --isolation chroot`` FROM an image in the registry, and what
each reports (``--digestfile``, ``image inspect``, ``manifest inspect``, ``search --list-tags``) against the store.

Both run on private storage (vfs) and configuration, and with a private containers/image blob-info cache (see
``client_support.private_cache``); podman loads images made offline."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path
from urllib.parse import parse_qs

from client_support import (
    Buildah,
    Podman,
    build_context,
    gunzip_digest,
    push_zstd,
    runnable,
    write_docker_archive,
)
from matrix import PAIRWISE, PRESET_NAMES, PRESETS_AND_TLS, Cell, covers

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.manifest import OCI_INDEX
from pytest_ociregistry.names import digest_of


def digest_file(tmp_path: Path, name: str) -> tuple[str, Path]:
    """A ``--digestfile`` argument, and the file it names."""
    path = tmp_path / f"{name}.digest"
    return f"--digestfile={path}", path


@covers(
    "podman",
    ("push a new image", "push sharing a layer", "cross-repository mount", "pull by tag", "pull by digest",
     "run --network none", "list tags"),
    PAIRWISE,
)  # fmt: skip
def test_podman_push_pull_run(cell: Cell, registry: OCIRegistry, podman: Podman, tmp_path: Path) -> None:
    """podman pushes an image (``--digestfile`` names the stored manifest; the config is the image it holds), a
    second one uploading only the layer the first lacks, the first into another repository by mounting its layers;
    lists the tags; pulls back by tag and by digest; and runs both with no network."""
    host, flags = registry.host, podman.flags(registry, cell)
    first, second = runnable("podman-first"), runnable("podman-second")
    for tag, image in (("v1", first), ("v2", second)):
        podman("load", "--input", str(write_docker_archive(tmp_path / f"{tag}.tar", f"{host}/foo/app:{tag}", image)))

    argument, path = digest_file(tmp_path, "v1")
    podman("push", *flags, argument, f"{host}/foo/app:v1")
    stored = registry.manifest("foo/app", "v1")
    assert path.read_text() == stored.digest
    manifest = json.loads(stored.data)
    assert manifest["config"]["digest"] == "sha256:" + podman("image", "inspect", "--format", "{{.Id}}",
                                                             f"{host}/foo/app:v1").strip()  # fmt: skip
    assert [gunzip_digest(registry.blob("foo/app", layer["digest"])) for layer in manifest["layers"]] == [
        digest_of(tar) for tar in first.tars
    ]

    before = len(registry.requests)
    podman("push", *flags, f"{host}/foo/app:v2")
    second_manifest = json.loads(registry.manifest("foo/app", "v2").data)
    assert second_manifest["layers"][0] == manifest["layers"][0]
    uploads = [e for e in list(registry.requests)[before:] if e.method == "PUT" and "digest=" in e.query]
    assert {parse_qs(e.query)["digest"][0] for e in uploads} == {
        second_manifest["layers"][1]["digest"],
        second_manifest["config"]["digest"],
    }

    before = len(registry.requests)
    podman("push", *flags, f"{host}/foo/app:v1", f"{host}/other/app:v1")
    mounts = {
        parse_qs(e.query)["mount"][0]: (parse_qs(e.query)["from"][0], e.status)
        for e in list(registry.requests)[before:]
        if e.method == "POST" and "mount=" in e.query
    }
    assert mounts == {layer["digest"]: ("foo/app", 201) for layer in manifest["layers"]}
    assert registry.manifest("other/app", "v1").digest == stored.digest

    podman.login(registry, cell)  # search takes no --creds, nor --cert-dir
    listed = podman("search", "--list-tags", "--tls-verify=false", f"{host}/foo/app").splitlines()
    assert [line.split() for line in listed] == [["NAME", "TAG"], [f"{host}/foo/app", "v1"], [f"{host}/foo/app", "v2"]]
    assert registry.tags("foo/app") == ["v1", "v2"]

    podman("rmi", f"{host}/foo/app:v1", f"{host}/foo/app:v2")
    podman("pull", *flags, f"{host}/foo/app:v1")
    inspected = json.loads(podman("image", "inspect", f"{host}/foo/app:v1"))[0]
    assert f"{host}/foo/app@{stored.digest}" in inspected["RepoDigests"]
    by_digest = f"{host}/foo/app@{registry.manifest('foo/app', 'v2').digest}"
    podman("pull", *flags, by_digest)
    assert podman("run", "--rm", "--network", "none", f"{host}/foo/app:v1") == "podman-first"
    assert podman("run", "--rm", "--network", "none", by_digest) == "podman-second"
    podman("rmi", f"{host}/foo/app:v1", by_digest)


@covers("podman", ("manifest create/add", "manifest push --all", "manifest inspect"), PAIRWISE)
def test_podman_manifest_push_all(cell: Cell, registry: OCIRegistry, podman: Podman, tmp_path: Path) -> None:
    """podman builds a list of two platforms' images pulled from the registry and pushes it with ``--all``: the
    stored index names exactly those images, the digest file names it, ``manifest inspect`` shows its entries."""
    host, flags = registry.host, podman.flags(registry, cell)
    images = {arch: runnable(f"podman-{arch}", arch).content for arch in ("amd64", "arm64")}
    for arch, image in images.items():
        registry.push("foo/parts", image, arch)
    # manifest inspect takes no --tls-verify nor --cert-dir in podman 4.3: registries.conf and certs.d say it
    if cell.tls:
        podman.trust(registry)
    else:
        conf = Path(podman.env["CONTAINERS_REGISTRIES_CONF"])
        conf.write_text(conf.read_text() + f'[[registry]]\nlocation = "{host}"\ninsecure = true\n')

    podman("manifest", "create", f"{host}/foo/multi:list")
    for arch in images:
        podman("manifest", "add", *flags, f"{host}/foo/multi:list", f"docker://{host}/foo/parts:{arch}")
    argument, path = digest_file(tmp_path, "list")
    podman("manifest", "push", "--all", *flags, argument, f"{host}/foo/multi:list", f"docker://{host}/foo/multi:v1")

    stored = registry.manifest("foo/multi", "v1")
    assert (path.read_text(), stored.media_type) == (stored.digest, OCI_INDEX)
    children = json.loads(stored.data)["manifests"]
    assert [(m["digest"], m["platform"]["architecture"]) for m in children] == [
        (image.digest, arch) for arch, image in images.items()
    ]
    for image in images.values():
        assert registry.manifest("foo/multi", image.digest).data == image.manifest
        assert {d: registry.blob("foo/multi", d) for d in image.blobs} == dict(image.blobs)
    podman.login(registry, cell)  # manifest inspect takes no --creds
    inspected = json.loads(podman("manifest", "inspect", f"{host}/foo/multi:v1"))
    # podman 4.3 shows an OCI index as a Docker manifest list: the same entries under another media type.
    assert inspected["mediaType"] == "application/vnd.docker.distribution.manifest.list.v2+json"
    assert inspected["manifests"] == children
    podman("manifest", "rm", f"{host}/foo/multi:list")


@covers("podman", ("pull and run zstd layers",), [Cell(p, False, "none") for p in PRESET_NAMES])
def test_podman_pulls_zstd(cell: Cell, registry: OCIRegistry, podman: Podman, tmp_path: Path) -> None:
    """An image whose layers skopeo compressed with zstd: podman pulls and runs it."""
    ref = push_zstd(registry, tmp_path, "podman-zstd")
    assert json.loads(registry.manifest("foo/zstd", "v1").data)["layers"][0]["mediaType"].endswith("+zstd")
    podman("pull", *podman.flags(registry, cell), ref)
    assert podman("run", "--rm", "--network", "none", ref) == "podman-zstd"
    podman("rmi", ref)


@covers("buildah", ("bud --isolation chroot FROM the registry", "push", "pull by digest"), PRESETS_AND_TLS)
def test_buildah_bud_from_registry(cell: Cell, registry: OCIRegistry, buildah: Buildah, tmp_path: Path) -> None:
    """buildah builds FROM an image in the registry (pulled through it), runs a step in a chroot, pushes the
    result (its first layers are the base's; ``--digestfile`` names the stored manifest), and pulls it by digest."""
    host, flags = registry.host, buildah.flags(registry, cell)
    base = runnable("buildah-base")
    context = build_context(registry, tmp_path, "buildah-base", "Containerfile")
    ref = f"{host}/foo/built:v1"
    buildah("bud", "--isolation", "chroot", *flags, "--tag", ref, str(context))
    argument, path = digest_file(tmp_path, "built")
    buildah("push", *flags, argument, ref)

    stored = registry.manifest("foo/built", "v1")
    assert path.read_text() == stored.digest
    layers = [registry.blob("foo/built", layer["digest"]) for layer in json.loads(stored.data)["layers"]]
    assert [gunzip_digest(layer) for layer in layers[:2]] == base.config["rootfs"]["diff_ids"]
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(layers[2]))) as tar:
        assert tar.extractfile("built.txt").read() == b"built\n"  # type: ignore[union-attr]

    buildah("rmi", ref, f"{host}/foo/base:v1")
    buildah("pull", *flags, f"{host}/foo/built@{stored.digest}")
    image_id = buildah("images", "--format", "{{.ID}}", "--no-trunc", f"{host}/foo/built@{stored.digest}").strip()
    assert image_id.removeprefix("sha256:") == json.loads(stored.data)["config"]["digest"].removeprefix("sha256:")
    buildah("rmi", f"{host}/foo/built@{stored.digest}")
