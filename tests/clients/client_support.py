"""What the real-client tests share: a skopeo runner, the python-dxf and oras-py modules ready for tests, images
built offline, OCI layouts on disk, reading back what a registry or a client holds and comparing it, and the files a
TLS registry hands its clients."""

from __future__ import annotations

import functools
import gzip
import io
import json
import os
import random
import shutil
import subprocess
import tarfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
from matrix import USER, Cell

from pytest_ociregistry import Descriptor, OCIRegistry, RegistryError, content
from pytest_ociregistry.content import Content
from pytest_ociregistry.names import digest_of

REF_NAME = "org.opencontainers.image.ref.name"
TLS = pytest.mark.oci_registry(tls=True)


def missing(what: str) -> NoReturn:
    """A real component the test needs is missing: skip with the reason, or fail under ``CI=true`` (where
    ``.ci/run`` installs everything, so a missing piece is a broken run, not a reason to skip)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (CI=true: every client must run)", pytrace=False)
    pytest.skip(what)


def require(executable: str, package: str) -> str:
    """The path of ``executable`` (``/usr/bin/docker`` etc. as given, else looked up on PATH), or :func:`missing`."""
    found = executable if os.path.isabs(executable) and os.access(executable, os.X_OK) else shutil.which(executable)
    if found is None:
        missing(f"{executable} is not installed (Debian package {package}; .ci/run installs it)")
    return found


# containers/image (skopeo, podman, buildah) keeps a blob-info cache that, for root, is always
# /var/lib/containers/cache: shared with everything else on the machine, and it makes these clients skip or swap
# blobs a registry never saw. Each run gets a private mount namespace with a private, empty cache bound over it.
_PRIVATE_CACHE = 'mkdir -p /var/lib/containers/cache && mount --bind "$0" /var/lib/containers/cache && exec "$@"'


def private_cache(cache: Path) -> list[str]:
    """The command prefix that runs a containers/image client with ``cache`` as its blob-info cache: an ``unshare
    -m`` wrapper for root (whose cache path is fixed); nothing otherwise (it then follows ``XDG_DATA_HOME``)."""
    cache.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return []
    return [require("unshare", "util-linux"), "-m", "sh", "-c", _PRIVATE_CACHE, str(cache)]


class Tool:
    """Runs one command-line client with a HOME, XDG directories, auth file and containers/image blob-info cache of
    its own (so no stored credentials or cached blobs leak in or out), plus ``env``."""

    name = "tool"
    prefix: tuple[str, ...] = ()  # arguments before every call
    debug: tuple[str, ...] = ()  # arguments that make a failing call say why
    containers_image = True  # it is a containers/image client: give it a private blob-info cache

    def __init__(self, executable: str, home: Path, env: dict[str, str] | None = None) -> None:
        self.executable = executable
        self.home = home
        (home / "run").mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_RUNTIME_DIR": str(home / "run"),
            "REGISTRY_AUTH_FILE": str(home / "auth.json"),
            **(env or {}),
        }
        self.wrapper = private_cache(home / "blob-info-cache") if self.containers_image else []

    def run(self, *args: str, timeout: float = 180, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        command = [*self.wrapper, self.executable, *self.prefix, *args]
        return subprocess.run(
            command, input=stdin, capture_output=True, text=True, timeout=timeout, env=self.env, check=False
        )

    def __call__(self, *args: str, timeout: float = 180, stdin: str | None = None) -> str:
        """Run it; fail the test unless it exits 0; return its stdout."""
        done = self.run(*args, timeout=timeout, stdin=stdin)
        if done.returncode != 0:
            shown = " ".join(args)
            pytest.fail(f"{self.name} {shown} exited {done.returncode}:\n{done.stdout}\n{done.stderr}", pytrace=False)
        return done.stdout

    def output(self, *args: str, timeout: float = 180) -> bytes:
        """Run it; fail the test unless it exits 0; return its stdout as bytes (content, not text)."""
        command = [*self.wrapper, self.executable, *self.prefix, *args]
        done = subprocess.run(command, capture_output=True, timeout=timeout, env=self.env, check=False)
        if done.returncode != 0:
            pytest.fail(f"{self.name} {' '.join(args)} exited {done.returncode}:\n{done.stderr!r}", pytrace=False)
        return done.stdout

    def fails(self, *args: str, timeout: float = 180) -> str:
        """Run it (with the debug flags, so its log shows each answer); fail the test if it exits 0; return its
        stderr."""
        done = self.run(*self.debug, *args, timeout=timeout)
        if done.returncode == 0:
            pytest.fail(f"{self.name} {' '.join(args)} succeeded:\n{done.stdout}", pytrace=False)
        return done.stderr


class Skopeo(Tool):
    """``skopeo --insecure-policy <args>``."""

    name = "skopeo"
    prefix = ("--insecure-policy",)
    debug = ("--debug",)

    def flags(self, registry: OCIRegistry, cell: Cell, side: str = "") -> list[str]:
        """TLS verification against the registry's CA (none over plain HTTP) and credentials with auth, for one
        side of a copy (``side``: ``src`` or ``dest``) or for a one-registry command (``""``)."""
        prefix = f"--{side}-" if side else "--"
        tls = [f"{prefix}tls-verify=true", f"{prefix}cert-dir={cert_dir(registry)}"] if cell.tls else []
        creds = [f"{prefix}creds={USER.name}:{USER.password}"] if cell.auth != "none" else []
        return [*(tls or [f"{prefix}tls-verify=false"]), *creds]


class Docker(Tool):
    """Debian's Docker CLI (``/usr/bin/docker``), on a private ``dockerd`` (``DOCKER_HOST``), with a private
    ``DOCKER_CONFIG`` for its logins. Docker takes any registry on 127.0.0.1 for insecure: HTTPS without
    verification first, then plain HTTP."""

    name = "docker"
    containers_image = False

    def login(self, registry: OCIRegistry, cell: Cell) -> None:
        """Log in to ``registry`` when ``cell`` has auth."""
        if cell.auth != "none":
            self("login", "--username", USER.name, "--password-stdin", registry.host, stdin=USER.password)


class Ctr(Tool):
    """containerd's ``ctr`` on a private ``containerd`` (``CONTAINERD_ADDRESS``), in a namespace of its own: images,
    content and snapshots of one test never meet another's (a removal's garbage collection can race an import that
    shares a layer)."""

    name = "ctr"
    debug = ("--debug",)
    containers_image = False

    def __init__(self, executable: str, home: Path, env: dict[str, str] | None = None) -> None:
        super().__init__(executable, home, env)
        self.prefix = ("--namespace", f"heavy-{uuid.uuid4().hex[:12]}")

    def remote(self, registry: OCIRegistry, cell: Cell) -> list[str]:
        """The flags of a ``ctr images push/pull`` to ``registry``: ``--plain-http``, or a hosts directory that
        names its HTTPS endpoint and CA (ctr takes 127.0.0.1 for plain HTTP otherwise); ``--user`` with auth."""
        flags = ["--user", f"{USER.name}:{USER.password}"] if cell.auth != "none" else []
        if not cell.tls:
            return [*flags, "--plain-http"]
        hosts = self.home / "hosts" / registry.host
        hosts.mkdir(parents=True, exist_ok=True)
        (hosts / "hosts.toml").write_text(
            f'server = "{registry.url}"\n\n[host."{registry.url}"]\n  ca = "{ca_bundle(registry)}"\n'
        )
        return [*flags, "--hosts-dir", str(self.home / "hosts")]

    def run_image(self, ref: str, attempts: int = 3) -> str:
        """``ctr run --rm`` the image and return what it printed. On a loaded machine ctr 1.6 sometimes exits 0
        having printed nothing: the task exited before ctr attached its output fifo (seen 8 times in one full run at
        load 15, never alone). An empty answer is retried, so what the assertion sees is what the container printed."""
        printed = ""
        for _ in range(attempts):
            printed = self("run", "--rm", ref, f"heavy-{uuid.uuid4().hex[:12]}")
            if printed:
                break
        return printed


class Containers(Tool):
    """podman or buildah on private storage (``CONTAINERS_STORAGE_CONF``), engine configuration and
    ``registries.conf`` (listing no search registries, so nothing short-named ever reaches the internet)."""

    def __init__(self, executable: str, home: Path, env: dict[str, str] | None = None) -> None:
        # The default auth file for root (commands without --authfile, such as podman 4.3's manifest inspect, read
        # only it); podman and buildah fail when it is missing.
        auth = home / "run" / "containers" / "auth.json"
        super().__init__(executable, home, {"REGISTRY_AUTH_FILE": str(auth), **(env or {})})
        auth.parent.mkdir(parents=True, exist_ok=True)
        auth.write_text('{"auths": {}}')

    def trust(self, registry: OCIRegistry) -> None:
        """Trust the registry's CA for the commands without ``--cert-dir`` (a per-host directory under HOME)."""
        certs = self.home / ".config" / "containers" / "certs.d" / registry.host
        certs.mkdir(parents=True, exist_ok=True)
        (certs / "ca.crt").write_bytes(Path(ca_bundle(registry)).read_bytes())

    def login(self, registry: OCIRegistry, cell: Cell) -> None:
        """Log in to ``registry`` (into the private auth file) when ``cell`` has auth, for the commands that take
        no ``--creds``."""
        if cell.auth != "none":
            flags = self.flags(registry, cell, creds=False)
            self("login", *flags, "--username", USER.name, "--password-stdin", registry.host, stdin=USER.password)

    def flags(self, registry: OCIRegistry, cell: Cell, *, creds: bool = True) -> list[str]:
        """TLS verification against the registry's CA (or none over plain HTTP), and credentials with auth."""
        flags = ["--tls-verify=true", f"--cert-dir={cert_dir(registry)}"] if cell.tls else ["--tls-verify=false"]
        return [*flags, f"--creds={USER.name}:{USER.password}"] if creds and cell.auth != "none" else flags


class Podman(Containers):
    name = "podman"


class Buildah(Containers):
    name = "buildah"
    debug = ("--debug",)


def new_skopeo(tmp_path: Path) -> Skopeo:
    """skopeo, with HOME and XDG dirs in ``tmp_path``; skips the test when it is not installed (fails under CI)."""
    return Skopeo(require("skopeo", "skopeo"), tmp_path / "home")


def oras_provider_module(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The ``oras.provider`` module, its sleeping retry decorator removed (a failure fails)."""
    provider = pytest.importorskip("oras.provider")
    monkeypatch.setattr(provider.Registry, "do_request", provider.Registry.do_request.__wrapped__)
    return provider


def write_files(root: Path, sizes: dict[str, int]) -> dict[str, bytes]:
    """Write files of the given sizes (seeded by name) under ``root``; returns their bytes by name."""
    root.mkdir(parents=True, exist_ok=True)
    files = {name: random.Random(name).randbytes(size) for name, size in sizes.items()}
    for name, data in files.items():
        (root / name).write_bytes(data)
    return files


def chunks_of(data: bytes, size: int) -> Iterator[bytes]:
    """``data`` as a generator of ``size``-byte chunks (so requests sends ``Transfer-Encoding: chunked``)."""
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]


def pieces(built: Content) -> dict[str, bytes]:
    """Every piece of ``built`` by digest: its manifest, its blobs, and its children's, all the way down."""
    found = {built.digest: built.manifest, **built.blobs}
    for child in built.children:
        found.update(pieces(child))
    return found


def write_layout(root: Path, tag: str, built: Content) -> None:
    """Write ``built`` as an OCI image layout directory, its top manifest named ``tag`` in ``index.json``."""
    blob_dir = root / "blobs" / "sha256"
    blob_dir.mkdir(parents=True)
    (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    for digest, data in pieces(built).items():
        (blob_dir / digest.removeprefix("sha256:")).write_bytes(data)
    top = Descriptor(built.media_type, built.digest, len(built.manifest), annotations={REF_NAME: tag})
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [top.to_json()]}))


def ca_bundle(registry: OCIRegistry) -> str:
    """The registry's CA file, which must exist (a ``tls=True`` registry)."""
    assert registry.url.startswith("https://"), registry.url
    assert registry.ca_bundle is not None and registry.ca_bundle.is_file()
    return str(registry.ca_bundle)


def cert_dir(registry: OCIRegistry) -> str:
    """The registry's skopeo ``--cert-dir``: a directory with the CA as ``ca.crt``."""
    assert registry.cert_dir is not None
    assert (registry.cert_dir / "ca.crt").read_bytes() == Path(ca_bundle(registry)).read_bytes()
    return str(registry.cert_dir)


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


def layer_digests(image: Content) -> list[str]:
    """The digests of an image's layers, in order."""
    return [layer["digest"] for layer in json.loads(image.manifest)["layers"]]


# Runnable images, built offline: busybox-static's /bin/busybox and a layer naming the image ----------------------

BUSYBOX = Path("/bin/busybox")


@dataclass(frozen=True)
class Runnable:
    """A runnable linux image: a layer with ``/bin/busybox`` (and ``/bin/sh``), shared by every such image, and one
    with ``/label.txt`` holding the label. ``content`` is it as an OCI (or Docker) image, gzip layers."""

    label: str
    tars: tuple[bytes, ...]
    config: dict[str, Any]
    content: Content


def _tar(files: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted({str(Path(n).parent) for n in files} - {"."}):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return out.getvalue()


@functools.cache
def busybox_layer() -> bytes:
    """The tar of the shared base layer: ``bin/busybox`` from busybox-static, ``bin/sh`` linking to it."""
    if not BUSYBOX.is_file():
        missing("/bin/busybox is not installed (Debian package busybox-static; .ci/run installs it)")
    return _tar({"bin/busybox": BUSYBOX.read_bytes()}, {"bin/sh": "busybox"})


@functools.cache
def runnable(label: str, arch: str = "amd64", *, docker: bool = False) -> Runnable:
    """A runnable image whose ``/label.txt`` holds ``label`` (its config labels it too)."""
    tars = (busybox_layer(), _tar({"label.txt": label.encode()}))
    config = {
        "architecture": arch,
        "os": "linux",
        "config": {"Cmd": ["/bin/busybox", "cat", "/label.txt"], "Labels": {"label": label}},
        "rootfs": {"type": "layers", "diff_ids": [digest_of(tar) for tar in tars]},
    }
    built = content.image(tars, config, platform={"architecture": arch, "os": "linux"}, docker=docker)
    return Runnable(label, tars, config, built)


@functools.cache
def small_image(label: str, *, docker: bool = False) -> Runnable:
    """An image of one small layer (``/label.txt`` holding ``label``), not runnable: for pushes and pulls that
    should cost little."""
    tars = (_tar({"label.txt": label.encode()}),)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": {"label": label}},
        "rootfs": {"type": "layers", "diff_ids": [digest_of(tar) for tar in tars]},
    }
    built = content.image(tars, config, platform={"architecture": "amd64", "os": "linux"}, docker=docker)
    return Runnable(label, tars, config, built)


def write_docker_archive(path: Path, name: str, image: Runnable) -> Path:
    """Write ``image`` as a ``docker save`` archive tagged ``name`` (what ``docker load``, ``ctr images import`` and
    ``podman load`` read)."""
    config = json.dumps(image.config).encode()
    files = {f"{digest_of(config)[7:]}.json": config}
    layers = [f"{digest_of(tar)[7:]}/layer.tar" for tar in image.tars]
    files.update(zip(layers, image.tars))
    manifest = [{"Config": f"{digest_of(config)[7:]}.json", "RepoTags": [name], "Layers": layers}]
    files["manifest.json"] = json.dumps(manifest).encode()
    path.write_bytes(_tar(files))
    return path


def write_oci_archive(path: Path, name: str, built: Content) -> Path:
    """Write ``built`` as a tar of an OCI layout, its top manifest named ``name`` (for ``ctr images import``)."""
    layout = path.with_suffix(".layout")
    write_layout(layout, name, built)
    with tarfile.open(path, "w") as tar:
        for item in sorted(layout.rglob("*")):
            tar.add(item, arcname=str(item.relative_to(layout)), recursive=False)
    return path


def gunzip_digest(data: bytes) -> str:
    """The digest of a gzip layer's tar (its diff_id)."""
    return digest_of(gzip.decompress(data))


def push_zstd(registry: OCIRegistry, tmp_path: Path, label: str) -> str:
    """Push :func:`runnable` ``label`` to ``foo/zstd:v1`` through skopeo, its layers compressed with zstd; returns
    the reference."""
    skopeo = new_skopeo(tmp_path)
    write_layout(tmp_path / "layout", "v1", runnable(label).content)
    ref = f"{registry.host}/foo/zstd:v1"
    skopeo("copy", "--dest-compress-format=zstd", "--dest-tls-verify=false", f"oci:{tmp_path / 'layout'}:v1",
           f"docker://{ref}")  # fmt: skip
    return ref


def build_context(registry: OCIRegistry, tmp_path: Path, label: str, file_name: str) -> Path:
    """A build context whose ``file_name`` (Dockerfile, Containerfile) builds FROM :func:`runnable` ``label``,
    pushed to ``foo/base:v1``, runs a step and sets a command printing ``built``."""
    registry.push("foo/base", runnable(label).content, "v1")
    context = tmp_path / "context"
    context.mkdir()
    (context / file_name).write_text(
        f"FROM {registry.host}/foo/base:v1\n"
        'RUN ["/bin/busybox", "sh", "-c", "echo built > /built.txt"]\n'
        'CMD ["/bin/busybox", "cat", "/built.txt"]\n'
    )
    return context
