"""Images in and out of the store as files: OCI image layouts (a directory, or an ``oci-archive`` tar, plain or
compressed) and ``docker save`` tarballs.

Reading verifies everything before the store sees any of it: each blob's size and digest while its bytes are read
(once, into the buffer the store keeps, or past the store's ``blob_spill_size`` into a spilled file), every file a
manifest needs, the layout's version, and each tar member's name. A problem raises :class:`LayoutError` naming the
file and what is wrong, and nothing is stored.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

from .errors import RegistryError
from .manifest import DOCKER_MANIFEST, NON_DISTRIBUTABLE_PREFIXES, Descriptor
from .names import ALGORITHMS, digest_of, is_digest, is_repository, is_tag, new_hash
from .spill import BlobData, SpillFile
from .store import Store

REF_NAME = "org.opencontainers.image.ref.name"
"""The annotation naming a manifest in a layout's ``index.json``: a tag, or a whole reference ``repo:tag``."""
IMAGE_NAME = "io.containerd.image.name"
"""containerd's (and Docker's) annotation holding the full name, ``repo:tag`` or ``repo@digest``."""
LAYOUT_VERSION = "1.0.0"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
_CHUNK = 1 << 20
_LINK_DEPTH = 16


class LayoutError(ValueError):
    """A layout or archive that cannot be loaded (or written): the message names the file and the problem."""


Data = BlobData


# Where the files come from: a directory, or a tar read in one pass -------------------------------------------------


class _Files(Protocol):
    where: str

    def has(self, name: str) -> bool: ...

    def read(self, name: str, size: int | None = None, digest: str | None = None) -> tuple[Data, str]:
        """The bytes of ``name`` and their digest (``digest``'s algorithm, else sha256); raises unless they are
        ``size`` bytes and match ``digest`` when those are given."""
        ...


class _Readable(Protocol):
    def readinto(self, buffer: memoryview, /) -> int | None: ...

    def read(self, size: int = ..., /) -> bytes: ...


def _read_verified(f: _Readable, total: int, algorithm: str, spill: int | None = None) -> tuple[Data, str]:
    """Read ``total`` bytes from ``f`` into one buffer, hashing them as they come; fewer or more is an error. Past
    ``spill`` bytes they go to a spilled file instead, a chunk at a time through one small buffer."""
    spilled = SpillFile() if spill is not None and total > spill else None
    data = bytearray(min(total, _CHUNK) if spilled else total)
    view = memoryview(data)
    hasher = new_hash(algorithm)
    done = 0
    while done < total:
        at = 0 if spilled else done  # a spilled read reuses the buffer
        n = f.readinto(view[at : at + min(_CHUNK, total - done)])
        if not n:
            raise LayoutError(f"ended after {done} of {total} bytes")
        hasher.update(view[at : at + n])
        if spilled:
            spilled.append(view[:n])
        done += n
    view.release()
    if f.read(1):
        raise LayoutError(f"holds more than {total} bytes")
    return spilled.contents() if spilled else data, f"{algorithm}:{hasher.hexdigest()}"


def _check(name: str, data: Data, actual: str, size: int | None, digest: str | None) -> None:
    if size is not None and len(data) != size:
        raise LayoutError(f"{name} holds {len(data)} bytes, its descriptor says {size}")
    if digest is not None and actual != digest:
        raise LayoutError(f"{name} does not match its digest {digest} (its content is {actual})")


class _Directory:
    """A layout directory: each file is read when asked for, verified as it is read (spilled past ``spill`` bytes)."""

    def __init__(self, root: Path, spill: int | None = None) -> None:
        self.root = root
        self.where = str(root)
        self.spill = spill

    def has(self, name: str) -> bool:
        return (self.root / name).is_file()

    def read(self, name: str, size: int | None = None, digest: str | None = None) -> tuple[Data, str]:
        algorithm = digest.partition(":")[0] if digest else "sha256"
        try:
            with open(self.root / name, "rb") as f:
                actual_size = os.fstat(f.fileno()).st_size
                if size is not None and actual_size != size:
                    raise LayoutError(f"{name} holds {actual_size} bytes, its descriptor says {size}")
                try:
                    data, actual = _read_verified(f, actual_size, algorithm, self.spill)
                except LayoutError as e:
                    raise LayoutError(f"{name} changed while read: it {e}") from None
        except FileNotFoundError:
            raise LayoutError(f"{name} is missing") from None
        except IsADirectoryError:
            raise LayoutError(f"{name} is not a file") from None
        _check(name, data, actual, size, digest)
        return data, actual


@dataclass
class _Member:
    data: Data
    digests: dict[str, str] = field(default_factory=dict)


class _Archive:
    """A tar (plain, gzip, bzip2 or xz), read in one pass in order: every regular member hashed as it is read, every
    name checked, links resolved within the archive; a member past ``spill`` bytes is kept in a spilled file."""

    def __init__(self, path: Path, spill: int | None = None) -> None:
        self.where = str(path)
        self.members: dict[str, _Member] = {}
        links: dict[str, str] = {}
        try:
            with tarfile.open(path, "r:*") as tar:
                for info in tar:
                    name = _member_name(info.name)
                    if info.isdir():
                        continue
                    if info.issym() or info.islnk():
                        links[name] = _link_target(name, info)
                    elif info.isreg():
                        self.members[name] = self._read_member(tar, info, name, spill)
                    else:
                        raise LayoutError(f"member {info.name!r} is not a regular file, a directory or a link")
        except (tarfile.TarError, EOFError, OSError) as e:
            raise LayoutError(f"not a readable tar archive: {e}") from None
        for name in links:
            self.members[name] = self.members[_resolve(name, links, self.members)]

    @staticmethod
    def _read_member(tar: tarfile.TarFile, info: tarfile.TarInfo, name: str, spill: int | None) -> _Member:
        f = cast(io.BufferedReader, tar.extractfile(info))  # what tarfile hands out for a regular member
        # A blob is hashed with its own algorithm, everything else with sha256 (a docker save names files by that).
        parts = name.split("/")
        algorithm = parts[1] if len(parts) == 3 and parts[0] == "blobs" and parts[1] in ALGORITHMS else "sha256"
        try:
            data, digest = _read_verified(f, info.size, algorithm, spill)
        except LayoutError as e:
            raise LayoutError(f"member {name} {e}") from None
        return _Member(data, {algorithm: digest})

    def has(self, name: str) -> bool:
        return name in self.members

    def read(self, name: str, size: int | None = None, digest: str | None = None) -> tuple[Data, str]:
        member = self.members.get(name)
        if member is None:
            raise LayoutError(f"{name} is missing")
        algorithm = digest.partition(":")[0] if digest else "sha256"
        actual = member.digests.get(algorithm)
        if actual is None:
            hasher = new_hash(algorithm)
            hasher.update(member.data)  # where it lies: a spilled member is not read into memory
            actual = member.digests[algorithm] = f"{algorithm}:{hasher.hexdigest()}"
        _check(name, member.data, actual, size, digest)
        return member.data, actual


def _member_name(raw: str) -> str:
    """A member's name relative to the archive's root; refuses one that is absolute or climbs out with ``..``."""
    if raw.startswith("/") or "\\" in raw:
        raise LayoutError(f"member {raw!r} has an absolute path")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise LayoutError(f"member {raw!r} escapes the archive")
    return "/".join(parts)


def _link_target(name: str, info: tarfile.TarInfo) -> str:
    """Where a link points, relative to the root: a hard link names a member, a symbolic link a path from its own
    directory. One that leaves the archive is refused."""
    target = info.linkname
    if target.startswith("/"):
        raise LayoutError(f"member {info.name!r} links to an absolute path {target!r}")
    joined = target if info.islnk() else posixpath.join(posixpath.dirname(name), target)
    normal = posixpath.normpath(joined)
    if normal == ".." or normal.startswith("../"):
        raise LayoutError(f"member {info.name!r} links outside the archive ({target!r})")
    return normal


def _resolve(name: str, links: dict[str, str], members: dict[str, _Member]) -> str:
    seen = name
    for _ in range(_LINK_DEPTH):
        seen = links[seen]
        if seen in members:
            return seen
        if seen not in links:
            raise LayoutError(f"member {name!r} links to {seen!r}, which the archive does not hold")
    raise LayoutError(f"member {name!r}: too many levels of links")


def _open(path: Path, spill: int | None) -> _Files:
    if path.is_dir():
        return _Directory(path, spill)
    if path.is_file():
        return _Archive(path, spill)
    raise LayoutError("no such file or directory")


# References ---------------------------------------------------------------------------------------------------------


def parse_name(value: str) -> tuple[str | None, str | None, str | None]:
    """``(repository, tag, digest)`` of an image name as layouts and archives write it: a bare tag (``latest``), or
    ``[host/]repo[:tag][@digest]`` (a first component with a dot or a colon, or ``localhost``, is a registry host and
    is dropped). Raises ``ValueError`` when it is neither."""
    if is_tag(value):
        return None, value, None
    name, at, digest = value.partition("@")
    if at and not is_digest(digest):
        raise ValueError(f"invalid digest in {value!r}")
    tag: str | None = None
    head, slash, last = name.rpartition("/")
    if ":" in last:
        last, _, tag = last.partition(":")
        if not is_tag(tag):
            raise ValueError(f"invalid tag in {value!r}")
    name = f"{head}{slash}{last}"
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        name = rest
    if not is_repository(name):
        raise ValueError(f"{value!r} is not a tag or an image name")
    return name, tag, digest or None


def parse_load_spec(spec: str) -> tuple[Path, str | None]:
    """``PATH[=REPO]``, as ``--load`` and ini ``oci_registry_load`` take it."""
    path, sep, repo = spec.rpartition("=")
    if not sep or not is_repository(repo):
        return Path(spec), None
    return Path(path), repo


# Reading ------------------------------------------------------------------------------------------------------------


@dataclass
class _Manifest:
    repo: str
    digest: str
    data: Data
    media_type: str
    tags: list[str] = field(default_factory=list)


@dataclass
class Loaded:
    """What a layout holds, every byte verified and nothing stored yet."""

    blobs: dict[str, dict[str, Data]] = field(default_factory=dict)
    """Repository → digest → bytes."""
    manifests: list[_Manifest] = field(default_factory=list)
    """In the order they can be stored: children before the indexes that list them."""
    descriptors: list[Descriptor] = field(default_factory=list)
    """The top-level entries (``index.json``'s, or one per image of a ``docker save``)."""


def _descriptor(value: Any, where: str) -> Descriptor:
    if not isinstance(value, dict):
        raise LayoutError(f"{where} is not a descriptor object")
    digest, size, media_type = value.get("digest"), value.get("size"), value.get("mediaType")
    if not isinstance(digest, str) or not is_digest(digest):
        raise LayoutError(f"{where} has an invalid digest {digest!r}")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise LayoutError(f"{where} has an invalid size {size!r}")
    if not isinstance(media_type, str) or not media_type:
        raise LayoutError(f"{where} has no mediaType")
    annotations, platform, artifact_type = value.get("annotations"), value.get("platform"), value.get("artifactType")
    return Descriptor(
        media_type,
        digest,
        size,
        annotations=annotations if isinstance(annotations, dict) and annotations else None,
        artifact_type=artifact_type if isinstance(artifact_type, str) and artifact_type else None,
        platform=platform if isinstance(platform, dict) and platform else None,
    )


def _json(data: Data, what: str) -> Any:
    try:
        return json.loads(data if isinstance(data, (bytes, bytearray)) else bytes(data))  # a spilled one is a map
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise LayoutError(f"{what} is not valid JSON ({e})") from None


def _json_object(data: Data, what: str) -> dict[str, Any]:
    doc = _json(data, what)
    if not isinstance(doc, dict):
        raise LayoutError(f"{what} is not a JSON object")
    return doc


def _list(doc: dict[str, Any], key: str, what: str) -> list[Any]:
    value = doc.get(key) or []
    if not isinstance(value, list):
        raise LayoutError(f"{what}: {key} is not a list")
    return value


def references(data: Data, what: str) -> tuple[list[Descriptor], list[Descriptor]]:
    """The child manifests and the blobs a manifest refers to (an index's ``manifests``; an image's or artifact's
    ``config``, ``layers`` and ``blobs``), whatever its media type."""
    doc = _json_object(data, what)
    children = [_descriptor(d, f"{what}: manifests[{i}]") for i, d in enumerate(_list(doc, "manifests", what))]
    blobs = [_descriptor(doc["config"], f"{what}: config")] if doc.get("config") is not None else []
    for key in ("layers", "blobs"):
        blobs += [_descriptor(d, f"{what}: {key}[{i}]") for i, d in enumerate(_list(doc, key, what))]
    return children, blobs


def _blob_path(digest: str) -> str:
    algorithm, _, encoded = digest.partition(":")
    return f"blobs/{algorithm}/{encoded}"


class _Reader:
    """Collects the content a layout's entries need, into :class:`Loaded`."""

    def __init__(self, files: _Files, repo: str | None) -> None:
        self.files = files
        self.repo = repo
        self.loaded = Loaded()
        self.cache: dict[str, Data] = {}
        """Content already read and verified, by digest."""
        self._manifests: dict[tuple[str, str], _Manifest] = {}
        self._tags: dict[tuple[str, str], str] = {}

    def blob(self, descriptor: Descriptor, needed_by: str) -> Data | None:
        data = self.cache.get(descriptor.digest)
        if data is not None:
            if len(data) != descriptor.size:
                raise LayoutError(f"{needed_by} gives {descriptor.digest} size {descriptor.size}, not {len(data)}")
            return data
        path = _blob_path(descriptor.digest)
        if not self.files.has(path):
            if descriptor.media_type.startswith(NON_DISTRIBUTABLE_PREFIXES):
                return None
            raise LayoutError(f"{path} is missing (needed by {needed_by})")
        data, _ = self.files.read(path, descriptor.size, descriptor.digest)
        self.cache[descriptor.digest] = data
        return data

    def manifest(self, repo: str, descriptor: Descriptor, needed_by: str) -> None:
        key = (repo, descriptor.digest)
        if key in self._manifests:
            return
        data = self.blob(descriptor, needed_by)
        assert data is not None  # a manifest's media type is never non-distributable
        what = _blob_path(descriptor.digest)
        children, blobs = references(data, what)
        for child in children:
            self.manifest(repo, child, what)
        for blob in blobs:
            found = self.blob(blob, what)
            if found is not None:
                self.loaded.blobs.setdefault(repo, {})[blob.digest] = found
        manifest = self._manifests[key] = _Manifest(repo, descriptor.digest, data, descriptor.media_type)
        self.loaded.manifests.append(manifest)

    @staticmethod
    def parse(name: str, where: str) -> tuple[str | None, str | None, str | None]:
        try:
            return parse_name(name)
        except ValueError as e:
            raise LayoutError(f"{where}: {e}") from None

    def entry(self, descriptor: Descriptor, names: Iterable[str | None], where: str) -> None:
        """A top-level entry, stored in its repository under each of ``names`` (a tag or an image name)."""
        targets: list[tuple[str | None, str | None]] = []
        for name in names:
            if name is None:
                targets.append((None, None))
                continue
            repo, tag, digest = self.parse(name, where)
            if digest is not None and digest != descriptor.digest:
                raise LayoutError(f"{where}: the name {name!r} does not match its digest {descriptor.digest}")
            targets.append((repo, tag))
        for repo, tag in targets:
            repo = self.repo or repo
            if repo is None:
                raise LayoutError(f"{where} names no repository ({descriptor.digest}): pass one (repo=, PATH=REPO)")
            self.manifest(repo, descriptor, where)
            if tag is not None:
                previous = self._tags.setdefault((repo, tag), descriptor.digest)
                if previous != descriptor.digest:
                    raise LayoutError(f"{where}: {repo}:{tag} names both {previous} and {descriptor.digest}")
                if tag not in self._manifests[(repo, descriptor.digest)].tags:
                    self._manifests[(repo, descriptor.digest)].tags.append(tag)
        self.loaded.descriptors.append(descriptor)


def _read_oci(files: _Files, repo: str | None) -> Loaded:
    version = _json_object(files.read("oci-layout")[0], "oci-layout").get("imageLayoutVersion")
    if version != LAYOUT_VERSION:
        raise LayoutError(f"oci-layout: unsupported imageLayoutVersion {version!r} (supported: {LAYOUT_VERSION})")
    index = _json_object(files.read("index.json")[0], "index.json")
    entries = index.get("manifests")
    if not isinstance(entries, list):
        raise LayoutError("index.json: manifests is not a list")
    reader = _Reader(files, repo)
    for i, value in enumerate(entries):
        where = f"index.json: manifests[{i}]"
        descriptor = _descriptor(value, where)
        annotations = descriptor.annotations or {}
        name, image_name = annotations.get(REF_NAME), annotations.get(IMAGE_NAME)
        if isinstance(image_name, str):
            # Docker, nerdctl and export write the tag as ref.name and the full name as containerd's.
            if name is None:
                name = image_name
            elif is_tag(name) and repo is None:
                image_repo = reader.parse(image_name, where)[0]
                name = f"{image_repo}:{name}" if image_repo else name
        reader.entry(descriptor, [name if isinstance(name, str) else None], where)
    return reader.loaded


def _read_docker(files: _Files, repo: str | None) -> Loaded:
    """A ``docker save`` tarball: each image's config and layer tars, under a Docker schema 2 manifest made for it
    (uncompressed layers, as the archive holds them, each checked against the config's ``diff_ids``)."""
    images = _json(files.read("manifest.json")[0], "manifest.json")
    if not isinstance(images, list):
        raise LayoutError("manifest.json is not a list of images")
    reader = _Reader(files, repo)
    for i, image in enumerate(images):
        where = f"manifest.json: [{i}]"
        if not isinstance(image, dict) or not isinstance(image.get("Config"), str):
            raise LayoutError(f"{where} has no Config")
        config, config_digest = files.read(image["Config"])
        rootfs = _json_object(config, image["Config"]).get("rootfs")
        diff_ids = _list(rootfs if isinstance(rootfs, dict) else {}, "diff_ids", f"{image['Config']}: rootfs")
        layers = _list(image, "Layers", where)
        if len(layers) != len(diff_ids):
            raise LayoutError(f"{where}: {len(layers)} layers, but its config lists {len(diff_ids)} diff_ids")
        descriptors = [{"mediaType": DOCKER_CONFIG, "size": len(config), "digest": config_digest}]
        blobs = {config_digest: config}
        for path, diff_id in zip(layers, diff_ids):
            if not isinstance(path, str):
                raise LayoutError(f"{where}: Layers holds {path!r}, not a file name")
            data, digest = files.read(path)
            gzipped = bytes(data[:2]) == b"\x1f\x8b"
            if not gzipped and digest != diff_id:
                raise LayoutError(f"{path} does not match its diff_id {diff_id} (its content is {digest})")
            blobs[digest] = data
            descriptors.append({"mediaType": DOCKER_LAYER_GZIP if gzipped else DOCKER_LAYER, "size": len(data),
                                "digest": digest})
        doc = {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST, "config": descriptors[0], "layers": descriptors[1:]}
        manifest = json.dumps(doc, separators=(",", ":")).encode()
        digest = digest_of(manifest)
        reader.cache.update(blobs)  # read and checked above: the reader finds everything here
        reader.cache[digest] = manifest
        tags = image.get("RepoTags") or [None]
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags if t is not None):
            raise LayoutError(f"{where}: RepoTags is not a list of names")
        reader.entry(Descriptor(DOCKER_MANIFEST, digest, len(manifest)), tags, where)
    return reader.loaded


def read(path: str | os.PathLike[str], repo: str | None = None, *, spill: int | None = None) -> Loaded:
    """Read and verify a layout directory, an ``oci-archive`` (plain or compressed) or a ``docker save`` tarball;
    each file past ``spill`` bytes is kept in a spilled file, not in memory (see ``blob_spill_size``).

    Every manifest and index its ``index.json`` names is read, with everything it needs, into the repository its
    name gives (``org.opencontainers.image.ref.name``: ``repo:tag``, or a bare tag with ``io.containerd.image.name``
    giving the repository; a docker save's ``RepoTags``), or into ``repo``, which overrides it.
    """
    path = Path(path)
    if repo is not None and not is_repository(repo):
        raise LayoutError(f"{path}: invalid repository name {repo!r}")
    try:
        files = _open(path, spill)
        if files.has("index.json") or files.has("oci-layout"):
            return _read_oci(files, repo)
        if files.has("manifest.json"):
            return _read_docker(files, repo)
        raise LayoutError("holds neither an OCI layout (oci-layout, index.json) nor a docker save (manifest.json)")
    except LayoutError as e:
        raise LayoutError(f"{path}: {e}") from None


def load(store: Store, path: str | os.PathLike[str], repo: str | None = None) -> list[Descriptor]:
    """Read ``path`` (see :func:`read`) and store all of it, or nothing; returns the top-level descriptors. Blobs past
    the store's ``blob_spill_size`` are read into spilled files."""
    loaded = read(path, repo, spill=store.options.blob_spill_size)
    with store.atomic():
        for name, blobs in loaded.blobs.items():
            for digest, data in blobs.items():
                store.add_blob(name, digest, data)
        for m in loaded.manifests:
            try:
                store.put_manifest(m.repo, m.digest, bytes(m.data), m.media_type, tags=m.tags)
            except RegistryError as e:
                raise LayoutError(f"{path}: {m.repo}@{m.digest}: {e}") from None
    return loaded.descriptors


# Writing ------------------------------------------------------------------------------------------------------------


def _collect(store: Store, repo: str, digest: str, found: dict[str, tuple[BlobData, str]], where: str) -> None:
    """A stored manifest and everything it needs, by digest: ``(bytes, media type)`` (blobs carry no media type)."""
    manifest = store.get_manifest(repo, digest)
    found[digest] = (manifest.data, manifest.media_type)
    children, blobs = references(manifest.data, f"{where} manifest {digest}")
    for child in children:
        if child.digest not in found:
            _collect(store, repo, child.digest, found, where)
    for blob in blobs:
        if blob.digest in found:
            continue
        try:
            found[blob.digest] = (store.get_blob(repo, blob.digest).data, blob.media_type)
        except RegistryError:
            if not blob.media_type.startswith(NON_DISTRIBUTABLE_PREFIXES):
                raise LayoutError(f"{where}: blob {blob.digest} of {digest} is not in the registry") from None


def export(
    store: Store,
    reference: str,
    path: str | os.PathLike[str],
    *,
    archive: bool = False,
    referrers: bool = False,
) -> Descriptor:
    """Write ``repo:tag`` or ``repo@digest`` and everything it needs as an OCI image layout directory at ``path``
    (added to the layout already there), or with ``archive`` as an ``oci-archive`` tar (gzip when ``path`` ends in
    ``.gz`` or ``.tgz``). With ``referrers``, the manifests whose subject it is go too (untagged). Returns its
    descriptor in ``index.json``: ``org.opencontainers.image.ref.name`` is the tag, ``io.containerd.image.name`` the
    full name, so :func:`load` puts it back where it was."""
    path = Path(path)
    try:
        repo, tag, digest = parse_name(reference)
    except ValueError as e:
        raise LayoutError(str(e)) from None
    if repo is None:
        raise LayoutError(f"{reference!r} names no repository: export takes repo:tag or repo@digest")
    try:
        top = store.get_manifest(repo, digest or tag or "latest")
        found: dict[str, tuple[BlobData, str]] = {}
        _collect(store, repo, top.digest, found, reference)
        entries = [(top, {REF_NAME: tag, IMAGE_NAME: f"{repo}:{tag}"} if tag else {IMAGE_NAME: f"{repo}@{top.digest}"})]
        pending = [top.digest] if referrers else []
        while pending:
            for d in store.referrers(repo, pending.pop()):
                if d.digest not in found:
                    _collect(store, repo, d.digest, found, reference)
                    entries.append((store.get_manifest(repo, d.digest), {IMAGE_NAME: f"{repo}@{d.digest}"}))
                    pending.append(d.digest)
    except RegistryError as e:
        raise LayoutError(f"{reference}: {e}") from None
    index = [
        Descriptor(_bare(m.media_type), m.digest, m.size, annotations=annotations).to_json()
        for m, annotations in entries
    ]
    blobs = {digest: data for digest, (data, _) in found.items()}
    if archive:
        _write_archive(path, blobs, index)
    else:
        _write_directory(path, blobs, index)
    return Descriptor(index[0]["mediaType"], top.digest, top.size, annotations=index[0]["annotations"])


def _bare(media_type: str) -> str:
    return media_type.partition(";")[0].strip()


def _index_json(entries: list[dict[str, Any]]) -> bytes:
    return json.dumps({"schemaVersion": 2, "manifests": entries}, separators=(",", ":")).encode()


_OCI_LAYOUT = json.dumps({"imageLayoutVersion": LAYOUT_VERSION}, separators=(",", ":")).encode()


def _write_directory(root: Path, blobs: dict[str, BlobData], entries: list[dict[str, Any]]) -> None:
    existing: list[Any] = []
    if (root / "index.json").exists():  # add to it; an entry of the same name is replaced, as skopeo does
        names = {_entry_name(e) for e in entries}
        existing = [e for e in read_index(root) if _entry_name(e) not in names]
    elif root.exists() and any(root.iterdir()):
        raise LayoutError(f"{root}: not empty and not an OCI layout")
    for digest, data in blobs.items():
        target = root / _blob_path(digest)
        if target.is_file() and target.stat().st_size == len(data):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_file(target, data)
    _write_file(root / "oci-layout", _OCI_LAYOUT)
    _write_file(root / "index.json", _index_json(existing + entries))


def _entry_name(entry: Any) -> Any:
    annotations = (entry.get("annotations") if isinstance(entry, dict) else None) or {}
    return annotations.get(REF_NAME) or annotations.get(IMAGE_NAME) or entry.get("digest")


def read_index(root: Path) -> list[Any]:
    """The entries of an existing layout's ``index.json``."""
    files = _Directory(root)
    try:
        entries = _json_object(files.read("index.json")[0], "index.json").get("manifests")
    except LayoutError as e:
        raise LayoutError(f"{root}: {e}") from None
    if not isinstance(entries, list):
        raise LayoutError(f"{root}: index.json: manifests is not a list")
    return entries


def _write_file(target: Path, data: BlobData) -> None:
    """Write ``data`` to a temporary name and rename it: a reader never sees half a file."""
    temporary = target.with_name(f".{target.name}.partial")
    with open(temporary, "wb") as f:
        f.write(data)
    os.replace(temporary, target)


class _View(io.RawIOBase):
    """Reads a buffer without copying it (``tarfile`` copies from a file object)."""

    def __init__(self, data: BlobData) -> None:
        self._view = memoryview(data)
        self._at = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), len(self._view) - self._at)
        buffer[:n] = self._view[self._at : self._at + n]
        self._at += n
        return n


def _tar_members(blobs: dict[str, BlobData], entries: list[dict[str, Any]]) -> Iterator[tuple[str, BlobData | None]]:
    """The archive's members in a fixed order (directories as None), as skopeo writes them."""
    yield "oci-layout", _OCI_LAYOUT
    yield "index.json", _index_json(entries)
    yield "blobs", None
    for algorithm in sorted({d.partition(":")[0] for d in blobs}):
        yield f"blobs/{algorithm}", None
    for digest in sorted(blobs):
        yield _blob_path(digest), blobs[digest]


def _write_archive(path: Path, blobs: dict[str, BlobData], entries: list[dict[str, Any]]) -> None:
    gzip = path.name.endswith((".gz", ".tgz"))
    temporary = path.with_name(f".{path.name}.partial")
    with tarfile.open(temporary, "w:gz" if gzip else "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in _tar_members(blobs, entries):
            info = tarfile.TarInfo(name)
            info.mtime = 0
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BufferedReader(_View(data), _CHUNK))
    os.replace(temporary, path)
