"""containerd 1.6 (``ctr``, the code path Kubernetes pulls through) against the registry, in each cell of the client
matrix: push (a new image, one sharing a layer, a cross-repository mount), pull by tag and by digest, ``run``, a
multi-platform index pushed whole, zstd layers, and what containerd holds (digests, sizes, bytes) against the store.

``ctr`` pushes the bytes it imported, so the store must hold exactly what the offline builders made. containerd
runs once per session with private directories (see ``daemons.py``)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from urllib.parse import parse_qs

from client_support import (
    Ctr,
    assert_same_content,
    push_zstd,
    read_registry,
    runnable,
    write_oci_archive,
)
from matrix import PAIRWISE, PRESET_NAMES, PRESETS_AND_TLS, Cell, covers

from pytest_ociregistry import OCIRegistry, content
from pytest_ociregistry.content import Content


def import_image(ctr: Ctr, tmp_path: Path, name: str, built: Content) -> None:
    """``ctr images import`` an OCI archive of ``built`` as ``name`` (every platform of an index)."""
    repo, tag = name.rsplit(":", 1)
    archive = write_oci_archive(tmp_path / f"{uuid.uuid4().hex}.tar", tag, built)
    ctr("images", "import", "--all-platforms", "--base-name", repo, str(archive))


def listed(ctr: Ctr, ref: str) -> tuple[str, str]:
    """The media type and digest ``ctr images ls`` shows for ``ref``."""
    for line in ctr("images", "ls").splitlines():
        fields = line.split()
        if fields and fields[0] == ref:
            return fields[1], fields[2]
    raise AssertionError(f"{ref} is not among containerd's images")


def uploaded(registry: OCIRegistry, repo: str, since: int) -> set[str]:
    """The digests of the blobs uploaded into ``repo`` after the first ``since`` requests."""
    return {
        parse_qs(e.query)["digest"][0]
        for e in list(registry.requests)[since:]
        if e.method == "PUT" and e.path.startswith(f"/v2/{repo}/blobs/uploads/") and "digest=" in e.query
    }


def fetched(registry: OCIRegistry, repo: str, since: int) -> set[str]:
    """The digests of the blobs read from ``repo`` (GET, 200) after the first ``since`` requests."""
    return {
        e.path.rsplit("/", 1)[1]
        for e in list(registry.requests)[since:]
        if e.method == "GET" and e.path.startswith(f"/v2/{repo}/blobs/sha256:") and e.status == 200
    }


@covers(
    "ctr",
    ("push a new image", "push sharing a layer", "cross-repository mount", "pull by tag", "pull by digest", "run"),
    PAIRWISE,
)
def test_ctr_push_pull_run(cell: Cell, registry: OCIRegistry, ctr: Ctr, tmp_path: Path) -> None:
    """ctr pushes an image byte for byte, a second one uploading only the layer the first lacks, pulls them back
    by tag and by digest (what it holds is what is stored), runs one, and pushes it into another repository by
    mounting its blobs."""
    host, remote = registry.host, ctr.remote(registry, cell)
    first, second = runnable("ctr-first").content, runnable("ctr-second").content
    import_image(ctr, tmp_path, f"{host}/foo/app:v1", first)
    import_image(ctr, tmp_path, f"{host}/foo/app:v2", second)

    ctr("images", "push", *remote, f"{host}/foo/app:v1")
    assert_same_content(read_registry(registry, "foo/app", "v1"), first)
    before = len(registry.requests)
    ctr("images", "push", *remote, f"{host}/foo/app:v2")
    assert_same_content(read_registry(registry, "foo/app", "v2"), second)
    assert uploaded(registry, "foo/app", before) == set(second.blobs) - set(first.blobs)

    ctr("images", "rm", "--sync", f"{host}/foo/app:v1", f"{host}/foo/app:v2")
    before = len(registry.requests)
    ctr("images", "pull", *remote, f"{host}/foo/app:v1")
    assert fetched(registry, "foo/app", before) == set(first.blobs)
    assert listed(ctr, f"{host}/foo/app:v1")[1] == registry.manifest("foo/app", "v1").digest == first.digest
    for digest, data in {first.digest: first.manifest, **first.blobs}.items():
        assert ctr.output("content", "get", digest) == data
    by_digest = f"{host}/foo/app@{second.digest}"
    ctr("images", "pull", *remote, by_digest)
    assert listed(ctr, by_digest)[1] == second.digest

    assert ctr.run_image(f"{host}/foo/app:v1") == "ctr-first"

    ctr("images", "tag", f"{host}/foo/app:v1", f"{host}/other/app:v1")
    before = len(registry.requests)
    ctr("images", "push", *remote, f"{host}/other/app:v1")
    assert_same_content(read_registry(registry, "other/app", "v1"), first)
    mounts = {
        parse_qs(e.query)["mount"][0]: (parse_qs(e.query).get("from"), e.status)
        for e in list(registry.requests)[before:]
        if e.method == "POST" and e.path == "/v2/other/app/blobs/uploads/" and "mount=" in e.query
    }
    assert mounts == {digest: (["foo/app"], 201) for digest in first.blobs}  # the config too (skopeo: layers only)
    ctr("images", "rm", f"{host}/foo/app:v1", by_digest, f"{host}/other/app:v1")


@covers("ctr", ("push a multi-platform index", "pull an index by digest"), PRESETS_AND_TLS)
def test_ctr_index_push(cell: Cell, registry: OCIRegistry, ctr: Ctr, tmp_path: Path) -> None:
    """ctr pushes an OCI index and both platforms' images as imported (every byte as built) and pulls the index
    back by digest, every platform's content with it."""
    host, remote = registry.host, ctr.remote(registry, cell)
    index = content.index([runnable("ctr-amd64").content, runnable("ctr-arm64", "arm64").content])
    import_image(ctr, tmp_path, f"{host}/foo/multi:v1", index)
    ctr("images", "push", *remote, f"{host}/foo/multi:v1")
    assert_same_content(read_registry(registry, "foo/multi", "v1"), index)

    ctr("images", "rm", "--sync", f"{host}/foo/multi:v1")
    by_digest = f"{host}/foo/multi@{index.digest}"
    ctr("images", "pull", "--all-platforms", *remote, by_digest)
    assert listed(ctr, by_digest) == ("application/vnd.oci.image.index.v1+json", index.digest)
    for child in index.children:
        for digest, data in {child.digest: child.manifest, **child.blobs}.items():
            assert ctr.output("content", "get", digest) == data
    ctr("images", "rm", by_digest)


@covers("ctr", ("pull and run zstd layers",), [Cell(p, False, "none") for p in PRESET_NAMES])
def test_ctr_pulls_zstd(cell: Cell, registry: OCIRegistry, ctr: Ctr, tmp_path: Path) -> None:
    """An image whose layers skopeo compressed with zstd: containerd pulls, unpacks and runs it."""
    ref = push_zstd(registry, tmp_path, "ctr-zstd")
    stored = registry.manifest("foo/zstd", "v1")
    assert re.findall(r"tar\+zstd", stored.data.decode()) == ["tar+zstd", "tar+zstd"]
    ctr("images", "pull", *ctr.remote(registry, cell), ref)
    assert listed(ctr, ref)[1] == stored.digest
    assert ctr.run_image(ref) == "ctr-zstd"
    ctr("images", "rm", ref)
