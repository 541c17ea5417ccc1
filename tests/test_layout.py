"""Reading and writing OCI image layouts, oci-archives and docker save tarballs (``layout.py``), through the
registry's ``load`` and ``export``: what goes in, under which names, byte for byte, and every bad input refused
with a message naming the file and the problem, leaving the store as it was."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from pytest_ociregistry import OCIRegistry, Options, content
from pytest_ociregistry.content import Content
from pytest_ociregistry.layout import IMAGE_NAME, REF_NAME, LayoutError, parse_load_spec, parse_name
from pytest_ociregistry.manifest import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX
from pytest_ociregistry.names import digest_of

LAYOUT = b'{"imageLayoutVersion":"1.0.0"}'


def pieces(built: Content) -> dict[str, bytes]:
    """Every manifest and blob of ``built``, all the way down, by digest."""
    found = {built.digest: built.manifest, **built.blobs}
    for child in built.children:
        found.update(pieces(child))
    return found


def layout_files(entries: list[tuple[Content, Mapping[str, str] | None]]) -> dict[str, bytes]:
    """The files of an OCI layout holding ``entries`` (each with its index.json annotations)."""
    files = {"oci-layout": LAYOUT}
    index = []
    for built, notes in entries:
        files.update({f"blobs/sha256/{d.removeprefix('sha256:')}": data for d, data in pieces(built).items()})
        entry: dict[str, Any] = {"mediaType": built.media_type, "digest": built.digest, "size": len(built.manifest)}
        if notes:
            entry["annotations"] = dict(notes)
        index.append(entry)
    files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": index}).encode()
    return files


def write_dir(root: Path, files: Mapping[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def write_tar(path: Path, files: Mapping[str, bytes], links: Mapping[str, tuple[bytes, str]] = {}) -> Path:
    """A tar of ``files``, and of ``links`` (name → (tar type, target)); gzipped when the name ends in ``.gz``."""
    with tarfile.open(path, "w:gz" if path.name.endswith(".gz") else "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, (kind, target) in links.items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, target
            tar.addfile(info)
    return path


def image(label: str, arch: str = "amd64", *, docker: bool = False) -> Content:
    return content.image([label.encode() * 100, b"second " + label.encode()], platform={"architecture": arch,
                                                                                        "os": "linux"}, docker=docker)


def assert_holds(registry: OCIRegistry, repo: str, built: Content) -> None:
    """``repo`` holds every piece of ``built`` byte for byte, each manifest with its media type."""
    assert registry.manifest(repo, built.digest).data == built.manifest
    assert registry.manifest(repo, built.digest).media_type == built.media_type
    for digest, data in built.blobs.items():
        assert registry.blob(repo, digest) == data
    for child in built.children:
        assert_holds(registry, repo, child)


@pytest.fixture(params=[None, 1], ids=["in-memory", "spilled"])
def registry(request: pytest.FixtureRequest) -> OCIRegistry:
    """A registry never started (load and export work on its store) that keeps what it loads in memory, or with
    ``blob_spill_size=1`` every file in a spilled file: the same outcomes either way."""
    return OCIRegistry(Options(blob_spill_size=request.param))


# Names ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("latest", (None, "latest", None)),
        ("foo/bar:1", ("foo/bar", "1", None)),
        ("foo/bar", ("foo/bar", None, None)),
        ("docker.io/library/busybox:latest", ("library/busybox", "latest", None)),
        ("localhost:5000/x:2", ("x", "2", None)),
        ("localhost/x", ("x", None, None)),
        (f"a/b@{digest_of(b'x')}", ("a/b", None, digest_of(b"x"))),
        (f"a/b:1@{digest_of(b'x')}", ("a/b", "1", digest_of(b"x"))),
    ],
)
def test_names_as_layouts_write_them(value: str, parsed: tuple[str | None, ...]) -> None:
    assert parse_name(value) == parsed


@pytest.mark.parametrize("value", ["Foo/Bar:1", "a/b:c:d", "a/b@sha256:00", "a//b", ":1"])
def test_bad_names(value: str) -> None:
    with pytest.raises(ValueError):
        parse_name(value)


def test_load_specs() -> None:
    assert parse_load_spec("img/x") == (Path("img/x"), None)
    assert parse_load_spec("img/x=foo/bar") == (Path("img/x"), "foo/bar")
    assert parse_load_spec("a=b/c=D") == (Path("a=b/c=D"), None)  # not a repository: all of it is the path


# Loading: what goes where -----------------------------------------------------------------------------------------


def test_a_bare_tag_goes_into_repo(registry: OCIRegistry, tmp_path: Path) -> None:
    built = image("one")
    root = write_dir(tmp_path, layout_files([(built, {REF_NAME: "v1"})]))
    loaded = registry.load(root, "foo/bar")
    assert [d.digest for d in loaded] == [built.digest]
    assert loaded[0].annotations == {REF_NAME: "v1"}
    assert (registry.repositories(), registry.tags("foo/bar")) == (["foo/bar"], ["v1"])
    assert_holds(registry, "foo/bar", built)


def test_a_bare_tag_without_repo_is_refused(registry: OCIRegistry, tmp_path: Path) -> None:
    root = write_dir(tmp_path, layout_files([(image("one"), {REF_NAME: "v1"})]))
    with pytest.raises(LayoutError, match=r"index.json: manifests\[0\] names no repository .*pass one"):
        registry.load(root)
    assert registry.repositories() == []


def test_full_names_give_repository_and_tag(registry: OCIRegistry, tmp_path: Path) -> None:
    one, two, three = image("one"), image("two"), image("three")
    root = write_dir(tmp_path, layout_files([
        (one, {REF_NAME: "example.com:5000/team/one:1.0"}),   # as skopeo writes oci:DIR:NAME
        (two, {REF_NAME: "2", IMAGE_NAME: "docker.io/team/two:2"}),  # as docker 25 and nerdctl write
        (three, {IMAGE_NAME: f"team/three@{three.digest}"}),  # untagged, by digest
    ]))
    registry.load(root)
    assert registry.repositories() == ["team/one", "team/three", "team/two"]
    assert (registry.tags("team/one"), registry.tags("team/two"), registry.tags("team/three")) == (["1.0"], ["2"], [])
    assert_holds(registry, "team/three", three)
    # repo overrides every repository; the tags stay.
    other = OCIRegistry()
    other.load(root, "elsewhere")
    assert (other.repositories(), other.tags("elsewhere")) == (["elsewhere"], ["1.0", "2"])


def test_untagged_entries_and_several_names(registry: OCIRegistry, tmp_path: Path) -> None:
    one, two = image("one"), image("two")
    root = write_dir(tmp_path, layout_files([(one, None), (one, {REF_NAME: "a"}), (two, {REF_NAME: "b"})]))
    assert len(registry.load(root, "r")) == 3
    assert registry.tags("r") == ["a", "b"]
    assert registry.manifest("r", "a").digest == one.digest and "r@" + two.digest in registry


def test_one_tag_for_two_manifests_is_refused(registry: OCIRegistry, tmp_path: Path) -> None:
    one, two = image("one"), image("two")
    root = write_dir(tmp_path, layout_files([(one, {REF_NAME: "x"}), (two, {REF_NAME: "x"})]))
    with pytest.raises(LayoutError, match=rf"manifests\[1\]: r:x names both {one.digest} and {two.digest}"):
        registry.load(root, "r")
    assert registry.repositories() == []


def test_multi_arch_nested_and_docker_lists(registry: OCIRegistry, tmp_path: Path) -> None:
    amd, arm = image("amd"), image("arm", "arm64")
    nested = content.index([content.index([amd, arm]), image("loose")])
    docker_list = content.index([image("d1", docker=True), image("d2", "arm64", docker=True)], docker=True)
    root = write_dir(tmp_path, layout_files([(nested, {REF_NAME: "nested"}), (docker_list, {REF_NAME: "docker"})]))
    registry.load(root, "multi")
    assert registry.manifest("multi", "nested").media_type == OCI_INDEX
    assert registry.manifest("multi", "docker").media_type == DOCKER_MANIFEST_LIST
    assert registry.manifest("multi", docker_list.children[0].digest).media_type == DOCKER_MANIFEST
    assert_holds(registry, "multi", nested)
    assert_holds(registry, "multi", docker_list)


def test_artifacts_with_a_subject_show_as_referrers(registry: OCIRegistry, tmp_path: Path) -> None:
    target = image("signed")
    signature = content.artifact("application/vnd.example.sig", [b"sig"], subject=target.descriptor)
    sbom = content.artifact("application/spdx+json", {"application/spdx+json": b"{}"}, subject=target.descriptor)
    root = write_dir(tmp_path, layout_files([(target, {REF_NAME: "1"}), (signature, None), (sbom, None)]))
    registry.load(root, "app")
    listed = registry.referrers("app", target.digest)
    assert sorted(d.digest for d in listed) == sorted([signature.digest, sbom.digest])
    assert {d.artifact_type for d in listed} == {"application/vnd.example.sig", "application/spdx+json"}


def test_other_digest_algorithms_and_unknown_media_types(registry: OCIRegistry, tmp_path: Path) -> None:
    blob = b"sha512 blob"
    digest = digest_of(blob, "sha512")
    doc = {"schemaVersion": 2, "mediaType": "application/vnd.example.thing+json",
           "blobs": [{"mediaType": "application/octet-stream", "digest": digest, "size": len(blob)}]}
    manifest = json.dumps(doc).encode()
    files = {"oci-layout": LAYOUT, f"blobs/sha512/{digest.partition(':')[2]}": blob,
             f"blobs/sha256/{digest_of(manifest).partition(':')[2]}": manifest,
             "index.json": json.dumps({"manifests": [{"mediaType": doc["mediaType"], "digest": digest_of(manifest),
                                                      "size": len(manifest), "annotations": {REF_NAME: "t"}}]}).encode()}
    registry.load(write_dir(tmp_path, files), "odd")
    assert registry.blob("odd", digest) == blob
    assert registry.manifest("odd", "t").media_type == "application/vnd.example.thing+json"


def test_missing_non_distributable_layers_are_fine(registry: OCIRegistry, tmp_path: Path) -> None:
    foreign = {"mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "digest": digest_of(b"win"),
               "size": 3, "urls": ["https://example.com/layer"]}
    base = image("base", docker=True)
    doc = json.loads(base.manifest)
    doc["layers"].insert(0, foreign)
    built = Content(json.dumps(doc).encode(), DOCKER_MANIFEST, base.blobs)
    registry.load(write_dir(tmp_path, layout_files([(built, {REF_NAME: "1"})])), "win")
    assert_holds(registry, "win", built)
    assert f"win@{digest_of(b'win')}" not in registry


@pytest.mark.parametrize("name", ["image.tar", "image.tar.gz"])
def test_archives_plain_and_gzip(registry: OCIRegistry, tmp_path: Path, name: str) -> None:
    built = content.index([image("a"), image("b", "arm64")])
    files = {"./" + k: v for k, v in layout_files([(built, {REF_NAME: "r:1"})]).items()}  # skopeo's ./ prefix
    registry.load(write_tar(tmp_path / name, files))
    assert registry.tags("r") == ["1"]
    assert_holds(registry, "r", built)


def test_links_inside_an_archive_are_followed(registry: OCIRegistry, tmp_path: Path) -> None:
    built = image("linked")
    files = layout_files([(built, {REF_NAME: "1"})])
    config = next(d for d in built.blobs if json.loads(built.manifest)["config"]["digest"] == d)
    config_path = f"blobs/sha256/{config.partition(':')[2]}"
    moved = {("data/config" if k == config_path else k): v for k, v in files.items()}
    links = {config_path: (tarfile.SYMTYPE, "../../data/config")}
    registry.load(write_tar(tmp_path / "linked.tar", moved, links), "l")
    assert_holds(registry, "l", built)


# docker save --------------------------------------------------------------------------------------------------------


def docker_save(layers: list[bytes], tags: list[str] | None, *, link_last: bool = False) -> dict[str, Any]:
    """The files and links of a classic ``docker save`` (and ``skopeo copy … docker-archive:``): a config named by
    its digest, one ``<id>/layer.tar`` per layer, ``manifest.json``; ``link_last`` makes the last layer a symlink to
    the first, as docker does for identical layers."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {
        "type": "layers", "diff_ids": [digest_of(layer) for layer in layers]}}).encode()
    config_name = f"{digest_of(config).partition(':')[2]}.json"
    files = {config_name: config}
    names = [f"{i:064x}/layer.tar" for i in range(len(layers))]
    links = {}
    for i, (name, layer) in enumerate(zip(names, layers)):
        if link_last and i == len(layers) - 1:
            links[name] = (tarfile.SYMTYPE, f"../{names[0]}")
        else:
            files[name] = layer
    files["manifest.json"] = json.dumps([{"Config": config_name, "RepoTags": tags, "Layers": names}]).encode()
    return {"files": files, "links": links, "config": config}


def test_docker_save(registry: OCIRegistry, tmp_path: Path) -> None:
    layers = [b"layer one" * 50, b"layer two", b"layer one" * 50]
    saved = docker_save(layers, ["example.com/app:1", "app:latest"], link_last=True)
    loaded = registry.load(write_tar(tmp_path / "save.tar", saved["files"], saved["links"]))
    assert registry.repositories() == ["app"] and registry.tags("app") == ["1", "latest"]
    manifest = registry.manifest("app", "1")
    assert manifest.media_type == DOCKER_MANIFEST and [d.digest for d in loaded] == [manifest.digest]
    doc = json.loads(manifest.data)
    assert doc["config"] == {"mediaType": "application/vnd.docker.container.image.v1+json",
                             "size": len(saved["config"]), "digest": digest_of(saved["config"])}
    assert [(d["mediaType"], d["digest"]) for d in doc["layers"]] == [
        ("application/vnd.docker.image.rootfs.diff.tar", digest_of(layer)) for layer in layers]
    assert [registry.blob("app", d["digest"]) for d in doc["layers"]] == layers


def test_docker_save_without_tags_needs_repo(registry: OCIRegistry, tmp_path: Path) -> None:
    saved = docker_save([b"x"], None)
    path = write_tar(tmp_path / "save.tar", saved["files"])
    with pytest.raises(LayoutError, match=r"save.tar: manifest.json: \[0\] names no repository"):
        registry.load(path)
    registry.load(path, "untagged")
    assert registry.tags("untagged") == [] and registry.repositories() == ["untagged"]


def test_docker_save_layer_not_matching_its_diff_id(registry: OCIRegistry, tmp_path: Path) -> None:
    saved = docker_save([b"good"], ["a:1"])
    saved["files"][f"{0:064x}/layer.tar"] = b"evil"
    with pytest.raises(LayoutError, match=rf"{0:064x}/layer.tar does not match its diff_id {digest_of(b'good')}"):
        registry.load(write_tar(tmp_path / "save.tar", saved["files"]))
    assert registry.repositories() == []


# Export -------------------------------------------------------------------------------------------------------------


def everything(registry: OCIRegistry) -> dict[str, Any]:
    """All the store holds: per repository, tags and every manifest (bytes, media type) and blob."""
    store = registry.store
    found: dict[str, Any] = {}
    for name in registry.repositories():
        repo = store._repo(name)
        found[name] = (
            dict(repo.tags),
            {d: (bytes(m.data), m.media_type) for d, m in repo.manifests.items()},
            {d: bytes(b.data) for d, b in repo.blobs.items()},
        )
    return found


@pytest.mark.parametrize("target", ["dir", "out.tar", "out.tar.gz"])
def test_load_of_an_export_is_the_identity(registry: OCIRegistry, tmp_path: Path, target: str) -> None:
    top = registry.push("team/app", content.index([image("amd"), image("arm", "arm64")]), "1.0")
    registry.push_artifact("team/app", "application/vnd.example.sig", [b"signature"], subject=top)
    registry.push("team/app", image("d", docker=True), "docker")
    path = tmp_path / target
    written = registry.export("team/app:1.0", path, archive=target != "dir", referrers=True)
    assert written.digest == top.digest and written.annotations == {REF_NAME: "1.0", IMAGE_NAME: "team/app:1.0"}
    registry.export(f"team/app@{registry.manifest('team/app', 'docker').digest}", tmp_path / "d2")
    registry.export("team/app:docker", tmp_path / "d2")
    again = OCIRegistry()
    loaded = again.load(path)
    again.load(tmp_path / "d2")
    assert [d.digest for d in loaded] == [top.digest, registry.referrers("team/app", top.digest)[0].digest]
    assert everything(again) == everything(registry)


def test_export_adds_to_a_layout_and_replaces_a_name(registry: OCIRegistry, tmp_path: Path) -> None:
    one, two = registry.push_image("a", "1", [b"one"]), registry.push_image("b", "1", [b"two"])
    registry.push_image("a", "2", [b"three"])
    for reference in ("a:1", "a:2", "b:1"):  # b:1 replaces a:1: a layout has one entry per ref.name
        registry.export(reference, tmp_path)
    index = json.loads((tmp_path / "index.json").read_text())["manifests"]
    assert [(e["annotations"][REF_NAME], e["digest"]) for e in index] == [
        ("2", registry.manifest("a", "2").digest), ("1", two.digest)]
    assert (tmp_path / "oci-layout").read_bytes() == LAYOUT
    assert (tmp_path / "blobs" / "sha256" / one.digest.partition(":")[2]).is_file()  # blobs are never removed


def test_archives_are_reproducible(registry: OCIRegistry, tmp_path: Path) -> None:
    registry.push("r", content.index([image("a"), image("b", "arm64")]), "1")
    for name in ("x.tar", "y.tar", "x.tar.gz", "y.tar.gz"):
        registry.export("r:1", tmp_path / name, archive=True)
    assert (tmp_path / "x.tar").read_bytes() == (tmp_path / "y.tar").read_bytes()
    assert gzip.decompress((tmp_path / "x.tar.gz").read_bytes()) == (tmp_path / "x.tar").read_bytes()
    with tarfile.open(tmp_path / "x.tar") as tar:
        assert tar.getnames()[:4] == ["oci-layout", "index.json", "blobs", "blobs/sha256"]
        assert {m.mtime for m in tar} == {0} and not list(tmp_path.glob(".*partial"))


def test_export_problems(registry: OCIRegistry, tmp_path: Path) -> None:
    registry.configure(check_references=False)
    registry.push_manifest("r", "bare", image("no blobs").manifest)  # its blobs were never pushed
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("mine")
    registry.push_image("r", "ok")
    cases = [
        ("r:missing", tmp_path / "a", r"r:missing: MANIFEST_UNKNOWN"),
        ("nope:1", tmp_path / "a", r"nope:1: NAME_UNKNOWN"),
        ("latest", tmp_path / "a", r"'latest' names no repository"),
        ("r:bare", tmp_path / "a", r"r:bare: blob sha256:\w+ of sha256:\w+ is not in the registry"),
        ("r:ok", tmp_path / "taken", r".*/taken: not empty and not an OCI layout"),
    ]
    for reference, path, message in cases:
        with pytest.raises(LayoutError, match=f"^{message}"):
            registry.export(reference, path)
    assert not (tmp_path / "a").exists() and (tmp_path / "taken" / "file").read_text() == "mine"
