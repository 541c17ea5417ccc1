"""Real tools and image files (``layout.py``): layouts and archives that skopeo, umoci, podman and ``docker save``
write load, and what ``export`` writes those tools read, to a real ``docker-registry`` or back to the registry, bytes and digests
unchanged. Images are made offline: umoci with ``/bin/busybox`` from busybox-static, and the package's builders.

A missing tool skips the test; under ``CI=true`` it fails (``.ci/run`` installs them all).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from client_support import Docker, runnable, write_docker_archive

from pytest_ociregistry import OCIRegistry, content
from pytest_ociregistry.content import Content
from pytest_ociregistry.layout import REF_NAME
from pytest_ociregistry.manifest import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST
from pytest_ociregistry.names import digest_of

BUSYBOX = Path("/bin/busybox")
ACCEPT = f"{OCI_MANIFEST}, {OCI_INDEX}, {DOCKER_MANIFEST}, {DOCKER_MANIFEST_LIST}"


def need(name: str) -> str:
    """The path of a tool; skips without it, or fails under ``CI=true``."""
    found = shutil.which(name) if not name.startswith("/") else (name if Path(name).is_file() else None)
    if found is None:
        reason = (
            f"{name} is not installed (Debian packages skopeo, umoci, podman, busybox-static; .ci/run installs them)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return found


class Tools:
    """Runs skopeo, umoci and podman with a HOME, storage and blob-info cache of their own. As root, the cache that
    containers/image keeps in /var/lib/containers/cache is swapped for an empty one in a private mount namespace
    (it is shared machine-wide, and would let skopeo swap a layer for one it saw elsewhere)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        for sub in ("run", "graph", "tmp", "cache"):
            (home / sub).mkdir(parents=True)
        (home / "storage.conf").write_text(
            f'[storage]\ndriver = "vfs"\nrunroot = "{home}/run"\ngraphroot = "{home}/graph"\n'
        )
        (home / "containers.conf").write_text(
            f'[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\ntmp_dir = "{home}/tmp"\n'
        )
        self.env = {
            **os.environ,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local"),
            "XDG_RUNTIME_DIR": str(home / "run"),
            "CONTAINERS_STORAGE_CONF": str(home / "storage.conf"),
            "CONTAINERS_CONF": str(home / "containers.conf"),
            "REGISTRY_AUTH_FILE": str(home / "auth.json"),
        }
        self.private = os.geteuid() == 0 and shutil.which("unshare") is not None

    def __call__(self, tool: str, *args: str, cwd: Path | None = None) -> str:
        command = [need(tool), *(["--insecure-policy"] if tool == "skopeo" else []), *args]
        if self.private:
            Path("/var/lib/containers/cache").mkdir(parents=True, exist_ok=True)
            script = 'mount --bind "$0" /var/lib/containers/cache && exec "$@"'
            command = ["unshare", "-m", "sh", "-c", script, str(self.home / "cache"), *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=self.env, cwd=cwd, check=False)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr}", pytrace=False)
        return done.stdout


@pytest.fixture
def tools(tmp_path: Path) -> Tools:
    return Tools(tmp_path / "home")


@pytest.fixture(scope="module")
def busybox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A runnable busybox image, made offline by umoci: an OCI layout whose index.json names it ``base``."""
    need(str(BUSYBOX))
    root = tmp_path_factory.mktemp("busybox")
    tools = Tools(root / "home")
    layout = root / "layout"
    tools("umoci", "init", "--layout", str(layout))
    tools("umoci", "new", "--image", f"{layout}:base")
    tools("umoci", "unpack", "--rootless", "--image", f"{layout}:base", str(root / "bundle"))
    (root / "bundle" / "rootfs" / "bin").mkdir(parents=True)
    shutil.copy(BUSYBOX, root / "bundle" / "rootfs" / "bin" / "busybox")
    tools("umoci", "repack", "--image", f"{layout}:base", str(root / "bundle"))
    tools(
        "umoci",
        "config",
        "--image",
        f"{layout}:base",
        "--config.cmd",
        "/bin/busybox",
        "--os",
        "linux",
        "--architecture",
        "amd64",
    )
    yield layout


def entries(layout: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads((layout / "index.json").read_text())["manifests"]
    return entries


def blob_file(layout: Path, digest: str) -> bytes:
    algorithm, _, encoded = digest.partition(":")
    return (layout / "blobs" / algorithm / encoded).read_bytes()


def assert_same_as_layout(registry: OCIRegistry, repo: str, layout: Path, digest: str) -> int:
    """The registry holds the manifest ``digest`` of ``layout`` and everything under it, byte for byte; returns how
    many pieces were compared."""
    data = blob_file(layout, digest)
    assert registry.manifest(repo, digest).data == data
    doc = json.loads(data)
    count = 1
    for child in doc.get("manifests", []):
        count += assert_same_as_layout(registry, repo, layout, child["digest"])
    for blob in [doc["config"], *doc["layers"]] if "config" in doc else []:
        assert registry.blob(repo, blob["digest"]) == blob_file(layout, blob["digest"])
        count += 1
    return count


# Written by the tools, loaded ---------------------------------------------------------------------------------------


def test_a_umoci_layout_loads(busybox: Path, oci_registry: OCIRegistry, tools: Tools, tmp_path: Path) -> None:
    [entry] = entries(busybox)
    assert entry["annotations"] == {REF_NAME: "base"}
    assert [d.digest for d in oci_registry.load(busybox, "busybox")] == [entry["digest"]]
    assert oci_registry.tags("busybox") == ["base"]
    assert assert_same_as_layout(oci_registry, "busybox", busybox, entry["digest"]) == 3
    # A client pulls it over HTTP just as umoci wrote it.
    tools(
        "skopeo",
        "copy",
        "--src-tls-verify=false",
        f"docker://{oci_registry.host}/busybox:base",
        f"oci:{tmp_path / 'pulled'}:base",
    )
    assert entries(tmp_path / "pulled")[0]["digest"] == entry["digest"]


@pytest.mark.parametrize("form", ["oci", "oci-archive"])
def test_skopeo_layouts_and_archives_load(
    busybox: Path, oci_registry: OCIRegistry, tools: Tools, tmp_path: Path, form: str
) -> None:
    target = tmp_path / ("copy.tar" if form == "oci-archive" else "copy")
    tools("skopeo", "copy", f"oci:{busybox}:base", f"{form}:{target}:team/app:1")  # ref.name is all of team/app:1
    digest = entries(busybox)[0]["digest"]
    assert [d.digest for d in oci_registry.load(target)] == [digest]
    assert (oci_registry.repositories(), oci_registry.tags("team/app")) == (["team/app"], ["1"])
    assert_same_as_layout(oci_registry, "team/app", busybox, digest)


def test_a_zstd_layout_loads(busybox: Path, oci_registry: OCIRegistry, tools: Tools, tmp_path: Path) -> None:
    zstd = tmp_path / "zstd"
    tools("skopeo", "copy", "--dest-compress-format", "zstd", "--dest-compress", f"oci:{busybox}:base", f"oci:{zstd}:z")
    [entry] = entries(zstd)
    manifest = json.loads(blob_file(zstd, entry["digest"]))
    assert [layer["mediaType"] for layer in manifest["layers"]] == ["application/vnd.oci.image.layer.v1.tar+zstd"]
    oci_registry.load(zstd, "zstd")
    assert assert_same_as_layout(oci_registry, "zstd", zstd, entry["digest"]) == 3
    tools(
        "skopeo", "copy", "--src-tls-verify=false", f"docker://{oci_registry.host}/zstd:z", f"oci:{tmp_path / 'back'}"
    )
    assert entries(tmp_path / "back")[0]["digest"] == entry["digest"]


def test_a_docker_archive_loads_as_skopeo_pushes_it(
    busybox: Path, oci_registry: OCIRegistry, tools: Tools, tmp_path: Path
) -> None:
    archive = tmp_path / "docker.tar"
    tools("skopeo", "copy", f"oci:{busybox}:base", f"docker-archive:{archive}:team/app:3")
    [loaded] = oci_registry.load(archive)
    assert loaded.media_type == DOCKER_MANIFEST and oci_registry.tags("team/app") == ["3"]
    ours = json.loads(oci_registry.manifest("team/app", "3").data)
    # skopeo pushing the same archive sends the same manifest, but for the layers, which it gzips on the way.
    tools(
        "skopeo",
        "copy",
        "--dest-tls-verify=false",
        f"docker-archive:{archive}",
        f"docker://{oci_registry.host}/pushed:3",
    )
    theirs = json.loads(oci_registry.manifest("pushed", "3").data)
    assert ours["config"] == theirs["config"] and ours["mediaType"] == theirs["mediaType"]
    assert oci_registry.blob("team/app", ours["config"]["digest"]) == blob_file(busybox, ours["config"]["digest"])
    [layer], [pushed_layer] = ours["layers"], theirs["layers"]
    assert layer["mediaType"] == "application/vnd.docker.image.rootfs.diff.tar"
    tar = oci_registry.blob("team/app", layer["digest"])
    assert gzip.decompress(oci_registry.blob("pushed", pushed_layer["digest"])) == tar
    assert (
        gzip.decompress(
            blob_file(busybox, json.loads(blob_file(busybox, entries(busybox)[0]["digest"]))["layers"][0]["digest"])
        )
        == tar
    )


def test_podman_saves_load(busybox: Path, oci_registry: OCIRegistry, tools: Tools, tmp_path: Path) -> None:
    oci_registry.load(busybox, "busybox")
    oci_registry.export("busybox:base", tmp_path / "export.tar", archive=True)
    tools("podman", "load", "-i", str(tmp_path / "export.tar"))
    names = json.loads(tools("podman", "images", "--format", "json"))[0]["Names"]
    tools("podman", "save", "--format", "oci-archive", "-o", str(tmp_path / "saved.tar"), names[0])
    tools("podman", "save", "--format", "oci-dir", "-o", str(tmp_path / "saved"), names[0])
    tools("podman", "save", "--format", "docker-archive", "-o", str(tmp_path / "docker.tar"), names[0])
    again = OCIRegistry()
    [from_archive] = again.load(tmp_path / "saved.tar", "podman")
    [from_dir] = again.load(tmp_path / "saved", "podman")
    [from_docker] = again.load(tmp_path / "docker.tar", "docker")
    assert from_archive.digest == from_dir.digest and from_docker.media_type == DOCKER_MANIFEST
    # podman stores layers uncompressed and recompresses: the config (and so the image ID) is what it was.
    config = json.loads(again.manifest("podman", from_dir.digest).data)["config"]["digest"]
    original = json.loads(oci_registry.manifest("busybox", "base").data)["config"]["digest"]
    assert config == original and again.blob("podman", config) == blob_file(busybox, config)
    docker_config = json.loads(again.manifest("docker", from_docker.digest).data)["config"]["digest"]
    assert again.blob("docker", docker_config) == blob_file(busybox, config)
    assert again.tags("docker") == [names[0].rpartition(":")[2]]


def saved_images(archive: Path) -> dict[str, tuple[bytes, list[bytes]]]:
    """A ``docker save`` tarball's images by their first RepoTag: the config's bytes and each layer tar's."""
    with tarfile.open(archive) as tar:

        def member(name: str) -> bytes:
            f = tar.extractfile(name)
            assert f is not None, name
            return f.read()

        images = json.loads(member("manifest.json"))
        return {i["RepoTags"][0]: (member(i["Config"]), [member(layer) for layer in i["Layers"]]) for i in images}


def test_a_real_docker_save_loads(oci_registry: OCIRegistry, docker: Docker, tmp_path: Path) -> None:
    """``docker save`` (Docker Engine 20.10) of two images writes a tarball that ``load`` takes: each image under its
    ``RepoTags``, its config and layer tars byte for byte under their digests, and docker pulls it back as the same
    image (the same id and layers)."""
    names = {"team/app:1": runnable("saved-one"), "team/other:2": runnable("saved-two")}
    for name, image in names.items():
        archive = write_docker_archive(tmp_path / f"{image.label}.tar", name, image)
        docker("load", "--input", str(archive))
    ids = {name: json.loads(docker("image", "inspect", name))[0]["Id"] for name in names}
    docker("save", "--output", str(tmp_path / "saved.tar"), *names)
    saved = saved_images(tmp_path / "saved.tar")
    assert sorted(saved) == sorted(names)
    loaded = oci_registry.load(tmp_path / "saved.tar")
    assert [d.media_type for d in loaded] == [DOCKER_MANIFEST, DOCKER_MANIFEST]
    assert (oci_registry.repositories(), oci_registry.tags("team/app"), oci_registry.tags("team/other")) == (
        ["team/app", "team/other"], ["1"], ["2"]
    )
    for name, (config, layers) in saved.items():
        repo, _, tag = name.partition(":")
        manifest = json.loads(oci_registry.manifest(repo, tag).data)
        assert manifest["config"]["digest"] == digest_of(config) == ids[name]
        assert oci_registry.blob(repo, digest_of(config)) == config
        assert [layer["digest"] for layer in manifest["layers"]] == [digest_of(tar) for tar in layers]
        assert [oci_registry.blob(repo, digest_of(tar)) for tar in layers] == layers
        assert json.loads(config)["rootfs"]["diff_ids"] == [digest_of(tar) for tar in layers]
    # docker pulls them back from the registry: the same images.
    for name in names:
        docker("pull", f"{oci_registry.host}/{name}")
        [pulled] = json.loads(docker("image", "inspect", f"{oci_registry.host}/{name}"))
        assert pulled["Id"] == ids[name]
        assert pulled["RootFS"]["Layers"] == [digest_of(tar) for tar in saved[name][1]]
        docker("image", "rm", f"{oci_registry.host}/{name}", name)


# Exported, read by the tools ----------------------------------------------------------------------------------------


def multi_arch(busybox: Path) -> Content:
    """An index over the umoci busybox image and a builder-made arm64 one."""
    digest = entries(busybox)[0]["digest"]
    manifest = blob_file(busybox, digest)
    doc = json.loads(manifest)
    blobs = {d["digest"]: blob_file(busybox, d["digest"]) for d in [doc["config"], *doc["layers"]]}
    amd = Content(manifest, OCI_MANIFEST, blobs, platform={"architecture": "amd64", "os": "linux"})
    return content.index([amd, content.image([b"arm layer"], platform={"architecture": "arm64", "os": "linux"})])


def docker_list() -> Content:
    return content.index(
        [
            content.image([b"amd"], docker=True),
            content.image([b"arm"], platform={"architecture": "arm64", "os": "linux"}, docker=True),
        ],
        docker=True,
    )


def assert_distribution_holds(url: str, repo: str, built: Content) -> None:
    """distribution holds ``built`` byte for byte: the index, each image, each blob, under the same digests."""
    for piece in [built, *built.children]:
        r = requests.get(f"{url}/v2/{repo}/manifests/{piece.digest}", headers={"Accept": ACCEPT}, timeout=30)
        assert (r.status_code, r.content, r.headers["Content-Type"]) == (200, piece.manifest, piece.media_type)
        for digest, data in piece.blobs.items():
            assert requests.get(f"{url}/v2/{repo}/blobs/{digest}", timeout=30).content == data


@pytest.mark.parametrize("archive", [False, True], ids=["layout", "archive"])
def test_an_export_copies_to_a_real_registry(
    busybox: Path, oci_registry: OCIRegistry, tools: Tools, tmp_path: Path, docker_registry_url: str, archive: bool
) -> None:
    built = multi_arch(busybox)
    oci_registry.push("team/app", built, "1")
    path = tmp_path / ("export.tar" if archive else "export")
    oci_registry.export("team/app:1", path, archive=archive)
    source = f"{'oci-archive' if archive else 'oci'}:{path}:1"
    host = docker_registry_url.removeprefix("http://")
    copy = ("skopeo", "copy", "--all", "--preserve-digests", "--dest-tls-verify=false", source)
    tools(*copy, f"docker://{host}/team/app:1")
    assert_distribution_holds(docker_registry_url, "team/app", built)
    # And back to this registry, from the archive or layout, by a client: the same digests again.
    tools(*copy, f"docker://{oci_registry.host}/copy:1")
    assert oci_registry.manifest("copy", "1").digest == built.digest
    assert [oci_registry.manifest("copy", c.digest).data for c in built.children] == [
        c.manifest for c in built.children
    ]


def test_a_docker_list_survives_export_and_load(
    oci_registry: OCIRegistry, tools: Tools, tmp_path: Path, docker_registry_url: str
) -> None:
    """skopeo reads only OCI media types from a layout (containers/image skips other index.json entries), so a Docker
    manifest list goes export → load → a client pull from the registry → distribution, unchanged all the way."""
    built = docker_list()
    original = OCIRegistry()
    original.push("team/list", built, "1")
    original.export("team/list:1", tmp_path / "export.tar", archive=True)
    oci_registry.load(tmp_path / "export.tar")
    host = docker_registry_url.removeprefix("http://")
    tools(
        "skopeo",
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        f"docker://{oci_registry.host}/team/list:1",
        f"docker://{host}/team/list:1",
    )
    assert_distribution_holds(docker_registry_url, "team/list", built)


def test_umoci_unpacks_an_export(busybox: Path, oci_registry: OCIRegistry, tools: Tools, tmp_path: Path) -> None:
    oci_registry.load(busybox, "busybox")
    oci_registry.export("busybox:base", tmp_path / "export")
    tools("umoci", "unpack", "--rootless", "--image", f"{tmp_path / 'export'}:base", str(tmp_path / "bundle"))
    assert (tmp_path / "bundle" / "rootfs" / "bin" / "busybox").read_bytes() == BUSYBOX.read_bytes()
    config = json.loads((tmp_path / "bundle" / "config.json").read_text())
    assert config["process"]["args"] == ["/bin/busybox"]


def test_skopeo_reads_an_export_with_referrers(oci_registry: OCIRegistry, tools: Tools, tmp_path: Path) -> None:
    image = oci_registry.push_image("app", "1", [b"layer"])
    signature = oci_registry.push_artifact("app", "application/vnd.example.sig", [b"sig"], subject=image)
    oci_registry.export("app:1", tmp_path / "export", referrers=True)
    raw = tools("skopeo", "inspect", "--raw", f"oci:{tmp_path / 'export'}:1")
    assert raw.encode() == oci_registry.manifest("app", "1").data
    again = OCIRegistry()
    again.load(tmp_path / "export")
    assert again.referrers("app", image.digest) == oci_registry.referrers("app", image.digest) != []
    assert again.referrers("app", image.digest)[0].digest == signature.digest
