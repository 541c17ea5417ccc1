"""The in-memory store: repositories of blobs, manifests, tags and open uploads. Thread-safe; knows nothing of HTTP.

Every method either returns domain values or raises :class:`~pytest_ociregistry.errors.RegistryError`. Content is
only ever stored under a digest it matches. Request bodies come in as iterables of byte chunks, so a large blob is
hashed as it arrives and held once.
"""

from __future__ import annotations

import bisect
import dataclasses
import fnmatch
import hashlib
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import NamedTuple

from . import memory
from .acceptance import check_manifest
from .body import CHUNK_SIZE, Body
from .errors import (
    ChunkedUploadRefused,
    ChunkOutOfOrder,
    ChunkTooLarge,
    ContentRangeRequired,
    EmptyUpload,
    ErrorCode,
    ImmutableTag,
    InsufficientStorage,
    ManifestTooLarge,
    RegistryError,
    UploadInvalidated,
)
from .manifest import OCTET_STREAM, Descriptor, ManifestInfo, inspect
from .memory import GrowingMap
from .names import algorithm_of, digest_of, is_tag, new_hash
from .options import Options
from .spill import BlobData, SpillFile

Chunk = bytes | bytearray | memoryview
"""A piece of a request body, as the api hands it over (valid until the next is asked for)."""
MAP_AT = 1 << 20
"""An upload held in memory moves from a ``bytearray`` to a :class:`~.memory.GrowingMap` past this many bytes."""
HASH_LATER_AT = 256 << 10
"""Bytes in a map are hashed in a worker thread once this many are waiting (fewer cost less to hash than to hand
over): a request does not wait for the hash of its own bytes."""


@dataclass(frozen=True)
class Blob:
    """A stored blob. ``data`` is never changed once stored."""

    digest: str
    data: BlobData
    media_type: str = OCTET_STREAM

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class Manifest:
    """A stored manifest: the exact bytes pushed and their media type (see :func:`~.manifest.inspect`: the body's
    ``mediaType``, else the Content-Type of the push that first stored them; lower-case, without parameters).
    Never changed once stored: a re-push of the same bytes only adds tags."""

    digest: str
    data: bytes
    media_type: str
    info: ManifestInfo = field(default_factory=ManifestInfo)

    @property
    def size(self) -> int:
        return len(self.data)

    def descriptor(self) -> Descriptor:
        """This manifest as a referrers-list entry."""
        return Descriptor(
            self.media_type,
            self.digest,
            self.size,
            annotations=self.info.annotations,
            artifact_type=self.info.artifact_type,
        )


@contextmanager
def _disk_errors() -> Iterator[None]:
    """A spilled file's failed write (a full disk, a file size limit) as the clean error a client gets."""
    try:
        yield
    except OSError as e:
        raise InsufficientStorage(e.strerror or str(e)) from e


class _Buffer:
    """Bytes received so far, hashed (sha256) as they arrive; in memory (a ``bytearray``, past ``MAP_AT`` bytes a
    :class:`~.memory.GrowingMap`), or past ``spill`` bytes in a file.

    Bytes in a map are hashed by a worker thread while the next chunks (or the next requests) are read, a batch at a
    time: bytes that come while the worker is busy join its next batch. Only a growth of the map, a rollback or the
    digest wait for the worker.
    """

    def __init__(self) -> None:
        self.data = bytearray()
        self.size = 0
        """How many bytes it holds."""
        self._large: GrowingMap | SpillFile | None = None
        self._sha256 = new_hash("sha256")
        self._hashing: Future[None] | None = None
        self._unhashed = 0
        """Where the bytes in a map that no hash has been asked for begin."""

    def write(
        self,
        chunks: Iterable[Chunk],
        start: int | None = None,
        length: int | None = None,
        *,
        append: bool = True,
        spill: int | None = None,
    ) -> int:
        """Append ``chunks`` at ``start`` (the current end when None); all or nothing. Returns the new size. A
        :class:`~.body.Body` of known length whose bytes go to a map is read straight into it.

        ``length`` is the number of bytes the client announced: receiving another count rolls back and raises.
        Without ``append``, data without a ``start`` is refused once the buffer holds some. Past ``spill`` bytes
        the buffer moves to a file (the ``blob_spill_size`` option).
        """
        mark = self.size
        if start is not None and start != mark:
            raise ChunkOutOfOrder(start, mark)
        needs_range = start is None and mark > 0 and not append
        try:
            if isinstance(chunks, Body) and chunks.length is not None and not needs_range:
                self._read(chunks, chunks.length, spill)
            else:
                for chunk in chunks:
                    if chunk and needs_range:
                        raise ContentRangeRequired()
                    self._append(chunk, spill)
        except BaseException:
            self.truncate(mark)
            raise
        if length is not None and self.size - mark != length:
            received = self.size - mark
            self.truncate(mark)
            raise RegistryError(ErrorCode.SIZE_INVALID, f"expected {length} bytes, received {received}")
        return self.size

    def _read(self, body: Body, n: int, spill: int | None) -> None:
        """Append ``body``, of ``n`` bytes: read in place when they go to a map (a chunk at a time, each hashed by
        the worker while the next is read), in chunks otherwise."""
        large = self._large_for(n, spill)
        if not isinstance(large, GrowingMap):
            for chunk in body:
                self._append(chunk, spill)
            return
        self._make_room(large, n)
        while n > 0:
            wanted = min(n, CHUNK_SIZE)
            came = large.read_in(body.readinto, wanted)
            self._stored_in_map(large)
            if came < wanted:  # the body ended early (the caller counts what came)
                return
            n -= came

    def _append(self, chunk: Chunk, spill: int | None) -> None:
        large = self._large_for(len(chunk), spill)
        if isinstance(large, GrowingMap):
            self._make_room(large, len(chunk))
            large.append(chunk)
            self._stored_in_map(large)
        elif large is not None:
            with _disk_errors():
                large.append(chunk, self._hashed().update)  # hashed while the file is written
            self.size = large.size
        else:
            self.data += chunk
            self._sha256.update(chunk)  # no worker hashes a bytearray
            self.size = len(self.data)

    def _make_room(self, large: GrowingMap, n: int) -> None:
        """Have the map hold ``n`` more bytes (only this thread hands the worker a view: none appears meanwhile)."""
        try:
            large.make_room(n)
        except BufferError:  # the map must grow, which it cannot while the worker holds a view of it
            self._hashed()
            large.make_room(n)

    def _large_for(self, n: int, spill: int | None) -> GrowingMap | SpillFile | None:
        """Where ``n`` more bytes go: a file past ``spill`` bytes, a map past ``MAP_AT`` (the bytes so far move
        there), else (None) the bytearray."""
        large = self._large
        if spill is not None and not isinstance(large, SpillFile) and self.size + n > spill:
            with _disk_errors():
                large = self._large = self._moved(SpillFile())
        elif large is None and self.size + n > MAP_AT and memory.AVAILABLE:
            large = self._large = self._moved(GrowingMap())
        return large

    def _stored_in_map(self, large: GrowingMap) -> None:
        """Bytes were appended to the map: a worker hashes them once enough are waiting."""
        self.size = large.size
        if self.size - self._unhashed >= HASH_LATER_AT:
            self._hash_later(large)

    def _moved(self, large: GrowingMap | SpillFile) -> GrowingMap | SpillFile:
        """``large``, holding the bytes received so far, all hashed (which this buffer then no longer holds)."""
        if isinstance(self._large, GrowingMap):
            self._hash_all()
            with self._large.view() as view:
                large.append(view)
        else:
            large.append(self.data)
            self.data = bytearray()
        self._unhashed = large.size
        return large

    def _hash_later(self, large: GrowingMap) -> None:
        """Hash the map's bytes not hashed yet in a worker thread (which releases the view of them when done), unless
        the worker is still busy with earlier bytes: then these join its next batch (the request goes on)."""
        if self._hashing is not None and not self._hashing.done():
            return
        hasher = self._hashed()
        self._hashing = _HASHERS.submit(_update, hasher, large.view(self._unhashed), large)
        self._unhashed = large.size

    def _hashed(self) -> hashlib._Hash:
        """The sha256 of the bytes received, once the worker is done with them; bytes in a map that are not hashed
        yet are not in it."""
        if self._hashing is not None:
            hashing, self._hashing = self._hashing, None
            hashing.result()
        return self._sha256

    def _hash_all(self) -> hashlib._Hash:
        """The sha256 of every byte received."""
        hasher = self._hashed()
        if isinstance(self._large, GrowingMap) and self._unhashed < self._large.size:
            with self._large.view(self._unhashed) as rest:
                hasher.update(rest)
            self._unhashed = self._large.size
        return hasher

    def contents(self) -> BlobData:
        """The bytes received, for a blob to keep (no copy: once spilled, a read-only map of the file)."""
        self._hashed()  # the worker's view of the map is released (the map is cut to its size)
        return self._large.contents() if self._large is not None else self.data

    def digest(self, algorithm: str) -> str:
        """The digest of the bytes received: sha256 kept as they arrived; another algorithm hashes the buffer where
        it lies (no copy: a sha512 upload needs no more memory than a sha256 one)."""
        if algorithm == "sha256":
            return f"sha256:{self._hash_all().hexdigest()}"
        hasher = new_hash(algorithm)
        hasher.update(self.contents())
        return f"{algorithm}:{hasher.hexdigest()}"

    def truncate(self, size: int) -> None:
        self._hashed()
        if self._large is not None:
            self._large.truncate(size)
        else:
            del self.data[size:]
        self.size = size
        self._sha256 = new_hash("sha256")
        if isinstance(self._large, GrowingMap):
            # hashed where it lies, the map left as it is: a read cut short may still hold a view of it (its
            # traceback's), and a map cannot be cut to size while one is
            with self._large.view() as kept:
                self._sha256.update(kept)
        else:
            self._sha256.update(self.contents())
        self._unhashed = size


_HASHERS = ThreadPoolExecutor(thread_name_prefix="ociregistry-hash")
"""The threads that hash bytes in maps (sha256 releases the GIL: they hash while requests are read and answered)."""


def _new_hashers() -> None:
    """A forked child has none of its parent's threads: it starts its own pool."""
    global _HASHERS
    _HASHERS = ThreadPoolExecutor(thread_name_prefix="ociregistry-hash")


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_new_hashers)


def _update(hasher: hashlib._Hash, view: memoryview, large: GrowingMap) -> None:
    """A worker's batch: hash ``view`` (then let it go), and have the map's next memory faulted in."""
    with view:
        hasher.update(view)
    large.fault_ahead()


class Upload:
    """An open blob upload session."""

    def __init__(self, upload_id: str, *, made_up: bool = False) -> None:
        self.id = upload_id
        self.made_up = made_up
        """Whether the store chose the id (not a client or a seed): after a reset, such an id is never reopened."""
        self.buffer = _Buffer()
        self.lock = threading.Lock()
        self.closed = False
        """Set, under ``lock``, once the upload is committed or cancelled: its buffer may now be a stored blob."""
        self.first_chunk_end: int | None = None
        """The upload's size after its first chunk that held data (``stale_upload_range``)."""
        self.last_chunk_start = 0
        """Where the latest chunk began (``chunk_upload_range``)."""
        self.patched = False
        """Whether a PATCH wrote to it (``put_body_needs_patch``)."""
        self.invalid = False
        """Ended by a retried or broken chunk (``chunk_retry_invalidates``): every request to it is refused."""

    def check_open(self) -> None:
        """Raise ``BLOB_UPLOAD_UNKNOWN`` if the upload ended while the caller waited for its lock."""
        if self.closed:
            raise RegistryError(ErrorCode.BLOB_UPLOAD_UNKNOWN)

    @property
    def size(self) -> int:
        return self.buffer.size


class Repository:
    """One repository's content and open uploads. Guarded by the store's lock.

    It exists for clients once it has held content (a blob, a manifest): uploads alone do not make it. What it has
    ever held decides what lists it (the ``had_*`` flags never go back, as a real registry's directories stay).
    """

    def __init__(self) -> None:
        self.blobs: dict[str, Blob] = {}
        self.manifests: dict[str, Manifest] = {}
        self.tags: dict[str, str] = {}
        self.sorted_tags: list[str] = []
        self.uploads: dict[str, Upload] = {}
        self.had_blob = False
        self.had_manifest = False
        self.had_tag = False
        self.pushed_by_digest: set[str] = set()
        """The manifests pushed by digest (without ``?tag=``): zot keeps an untagged index entry for each."""
        self.frozen = False
        """Held by a :class:`Snapshot`: never changed; the store works on a copy of it (see ``Store._get``)."""

    def copy(self, *, uploads: bool) -> Repository:
        """A copy sharing the (immutable) blobs and manifests; with or without the open uploads."""
        repo = Repository()
        repo.blobs, repo.manifests, repo.tags = dict(self.blobs), dict(self.manifests), dict(self.tags)
        repo.sorted_tags = list(self.sorted_tags)
        repo.uploads = dict(self.uploads) if uploads else {}
        repo.had_blob, repo.had_manifest, repo.had_tag = self.had_blob, self.had_manifest, self.had_tag
        repo.pushed_by_digest = set(self.pushed_by_digest)
        return repo

    @property
    def exists(self) -> bool:
        """Whether it has held content (an upload is none)."""
        return self.had_blob or self.had_manifest

    def link_blob(self, blob: Blob, digest: str | None = None) -> Blob:
        """Hold ``blob`` under ``digest`` (its own by default) unless one is already held there; returns the one
        held."""
        self.had_blob = True
        return self.blobs.setdefault(digest or blob.digest, blob)

    def set_tag(self, tag: str, digest: str) -> None:
        if tag not in self.tags:
            bisect.insort(self.sorted_tags, tag)
        self.tags[tag] = digest
        self.had_tag = True

    def remove_tag(self, tag: str) -> None:
        del self.tags[tag]
        del self.sorted_tags[bisect.bisect_left(self.sorted_tags, tag)]


def _refuses_same_digest(options: Options) -> bool:
    """Whether a push of the content an immutable tag already names is refused too (ECR, Quay, Harbor do)."""
    return options.immutable_tag_refusal != "denied"


def page(items: list[str], n: int | None, last: str | None) -> tuple[list[str], bool]:
    """One page of a sorted list: at most ``n`` items after ``last`` (exclusive), and whether more follow."""
    start = bisect.bisect_right(items, last) if last else 0
    if n is None:
        return items[start:], False
    return items[start : start + n], start + n < len(items)


@dataclass(frozen=True)
class Snapshot:
    """The store's content at one moment (:meth:`Store.snapshot`), to go back to with :meth:`Store.reset`."""

    repos: Mapping[str, Repository]
    sorted_repos: tuple[str, ...]

    @property
    def objects(self) -> int:
        """How many blobs and manifests it holds (a blob in two repositories counts twice)."""
        return sum(len(r.blobs) + len(r.manifests) for r in self.repos.values())


class _Request(NamedTuple):
    """What the request being served sees of a store (bound by :meth:`Store.request`)."""

    store: Store
    options: Options
    generation: int


_REQUEST: ContextVar[_Request | None] = ContextVar("ociregistry_request", default=None)


class _Binding:
    """``with``: the block runs as ``request`` (a class, not a generator: it is entered on every request)."""

    __slots__ = ("_request", "_token")

    def __init__(self, request: _Request) -> None:
        self._request = request

    def __enter__(self) -> None:
        self._token = _REQUEST.set(self._request)

    def __exit__(self, *exc_info: object) -> None:
        _REQUEST.reset(self._token)


class Store:
    """The registry's content, in memory. ``options`` is read on each call, so it can change between tests."""

    def __init__(self, options: Options | None = None) -> None:
        self._options = options or Options()
        self._lock = threading.RLock()
        self._repos: dict[str, Repository] = {}
        self._sorted_repos: list[str] = []
        self._generation = 0
        self._now = _Request(self, self._options, 0)  # what a request begun now is bound to
        self._retired: set[str] = set()  # ids this store made up for uploads that a reset() discarded

    @property
    def options(self) -> Options:
        """The behaviour in force; inside :meth:`request`, the options as they were when the request began."""
        bound = _REQUEST.get()
        return bound[1] if bound is not None and bound[0] is self else self._options

    @options.setter
    def options(self, value: Options) -> None:
        with self._lock:  # (reset() replaces the binding too)
            self._options = value
            self._now = _Request(self, value, self._generation)

    def request(self) -> AbstractContextManager[None]:
        """Serve one request in this block: it sees one snapshot of :attr:`options`, whatever is assigned meanwhile,
        and belongs to the store's current generation: after a :meth:`reset`, its writes raise 404 (see
        :meth:`_fence`). Inside another ``request()`` of this store, the outer one holds."""
        bound = _REQUEST.get()
        if bound is not None and bound.store is self:
            return nullcontext()
        return _Binding(self._now)

    def reset(self, snapshot: Snapshot | None = None) -> None:
        """Forget all content (or go back to ``snapshot``'s: O(repositories), sharing its blobs and manifests), and
        start a new generation: requests begun before cannot write into it, and the upload ids this store made up
        are never opened again."""
        with self._lock:
            self._retired.update(u.id for repo in self._repos.values() for u in repo.uploads.values() if u.made_up)
            self._restore(snapshot)
            self._generation += 1
            self._now = _Request(self, self._options, self._generation)

    def _restore(self, snapshot: Snapshot | None) -> None:
        self._repos = dict(snapshot.repos) if snapshot else {}
        self._sorted_repos = list(snapshot.sorted_repos) if snapshot else []

    def _fence(self, code: ErrorCode = ErrorCode.NAME_UNKNOWN) -> None:
        """Refuse a write from a request begun before the last :meth:`reset`: the repository it writes to (or,
        with ``BLOB_UPLOAD_UNKNOWN``, the upload) is gone. A change to the content checks under the lock, so that
        no reset comes between the check and the change."""
        bound = _REQUEST.get()
        if bound is not None and bound.store is self and bound.generation != self._generation:
            raise RegistryError(code, f"{code.message}: the registry was reset while this request was in flight")

    def snapshot(self, *, uploads: bool = False) -> Snapshot:
        """The content now (tags, manifests, blobs; with ``uploads``, the open uploads too), for :meth:`reset`.

        Stored content is immutable, so a snapshot shares it: it costs a copy of each repository's indexes.
        """
        with self._lock:
            repos = {name: repo.copy(uploads=uploads) for name, repo in self._repos.items()}
            for repo in repos.values():
                repo.frozen = True
            return Snapshot(repos, tuple(self._sorted_repos))

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Make a group of changes as one: others wait, and if one raises, every change is undone."""
        with self._lock:
            saved = self.snapshot(uploads=True)
            try:
                yield
            except BaseException:
                self._restore(saved)
                raise

    # Repositories -------------------------------------------------------------------------------------------------

    def _get(self, name: str) -> Repository | None:
        """A repository to read or change: one a snapshot holds is copied first (copy on first use after reset)."""
        repo = self._repos.get(name)
        if repo is not None and repo.frozen:
            repo = self._repos[name] = repo.copy(uploads=True)
        return repo

    def _repo(self, name: str) -> Repository:
        """A repository that exists (see :class:`Repository`); ``NAME_UNKNOWN`` otherwise."""
        repo = self._get(name)
        if repo is None or not repo.exists:
            raise RegistryError(ErrorCode.NAME_UNKNOWN)
        return repo

    def _make_repo(self, name: str) -> Repository:
        repo = self._get(name)
        if repo is None:
            repo = self._repos[name] = Repository()
            bisect.insort(self._sorted_repos, name)
        return repo

    def has_repository(self, name: str) -> bool:
        """Whether ``name`` exists (has held content: see :class:`Repository`)."""
        repo = self._repos.get(name)
        return repo is not None and repo.exists

    def has_project(self, project: str) -> bool:
        """Whether a repository exists in ``project``, the first part of its name (Harbor's projects)."""
        with self._lock:
            return any(n.partition("/")[0] == project and r.exists for n, r in self._repos.items())

    def has_manifest(self, name: str, digest: str) -> bool:
        """Whether repository ``name`` holds a manifest under ``digest``."""
        with self._lock:
            repo = self._repos.get(name)
            return repo is not None and digest in repo.manifests

    def repositories(
        self, n: int | None = None, last: str | None = None, *, with_blobs: bool = True
    ) -> tuple[list[str], bool]:
        """The names of the repositories that have held a manifest (with ``with_blobs``, or a blob: every
        repository that exists), in order, a page at a time (see :func:`page`)."""
        with self._lock:
            repos = self._repos
            names = [
                name for name in self._sorted_repos
                if repos[name].had_manifest or (with_blobs and repos[name].had_blob)
            ]
            return page(names, n, last)

    def tags(self, name: str, n: int | None = None, last: str | None = None) -> tuple[list[str], bool]:
        """A repository's tags in order, a page at a time (see :func:`page`). ``NAME_UNKNOWN`` until it has held a
        manifest (with the ``tags_list_needs_tag`` option: a tag)."""
        with self._lock:
            repo = self._repos.get(name)
            listed = repo is not None and (repo.had_tag if self.options.tags_list_needs_tag else repo.had_manifest)
            if repo is None or not listed:
                raise RegistryError(ErrorCode.NAME_UNKNOWN)
            if self.options.tags_list_digests:
                untagged = set(repo.manifests) - set(repo.tags.values())
                return page(sorted([*repo.sorted_tags, *untagged]), n, last)
            return page(repo.sorted_tags, n, last)

    # Blobs --------------------------------------------------------------------------------------------------------

    def get_blob(self, name: str, digest: str) -> Blob:
        """A blob of a repository: ``NAME_UNKNOWN`` or ``BLOB_UNKNOWN`` when absent."""
        with self._lock:
            blob = self._repo(name).blobs.get(digest)
        if blob is None:
            raise RegistryError(ErrorCode.BLOB_UNKNOWN)
        return blob

    def put_blob(self, name: str, chunks: Iterable[Chunk], digest: str, length: int | None = None) -> Blob:
        """Store the content of ``chunks`` under ``digest`` (a monolithic upload), if it matches."""
        buffer = _Buffer()
        buffer.write(chunks, length=length, spill=self.options.blob_spill_size)
        return self._commit(name, buffer, digest)

    def add_blob(self, name: str, digest: str, data: BlobData) -> Blob:
        """Store ``data`` under ``digest`` without copying it. The caller has verified it (a layout is hashed as it is
        read); ``data`` must never change afterwards."""
        with self._lock:
            self._fence()
            return self._make_repo(name).link_blob(Blob(digest, data))

    def _commit(self, name: str, buffer: _Buffer, digest: str, upload_id: str | None = None) -> Blob:
        """Store the buffer under ``digest`` if it matches; a digest of an algorithm content is not stored under
        (``digest_algorithms``) stays an alias of the blob, stored under its digest in the first of those."""
        if buffer.digest(algorithm_of(digest)) != digest:
            raise RegistryError(ErrorCode.DIGEST_INVALID)
        algorithms = self.options.digest_algorithms
        stored = digest if algorithm_of(digest) in algorithms else buffer.digest(algorithms[0])
        with self._lock:
            self._fence(ErrorCode.NAME_UNKNOWN if upload_id is None else ErrorCode.BLOB_UPLOAD_UNKNOWN)
            repo = self._make_repo(name)
            blob = repo.link_blob(Blob(stored, buffer.contents()))
            repo.link_blob(blob, digest)  # the pushed digest, when another algorithm's, is an alias
            if upload_id is not None:
                repo.uploads.pop(upload_id, None)
        return blob

    def mount_blob(self, name: str, from_name: str, digest: str) -> Blob | None:
        """Link a blob of ``from_name`` (any repository when empty) into ``name``; None when there is none.

        A mount by an alias (a digest of an algorithm outside ``digest_algorithms``) links nothing, as in
        distribution 2.8, but names the alias as mounted."""
        with self._lock:
            sources = [self._repos.get(from_name)] if from_name else list(self._repos.values())
            if self.options.mount_requires_manifest:  # only what a manifest of the source references
                sources = [s for s in sources if s is not None and any(
                    digest in m.info.blobs for m in s.manifests.values())]
            blob = next((s.blobs[digest] for s in sources if s is not None and digest in s.blobs), None)
            if blob is not None and algorithm_of(digest) not in self.options.digest_algorithms:
                return Blob(digest, blob.data, blob.media_type)
            if blob is not None:
                self._fence()
                self._make_repo(name).link_blob(blob)
        return blob

    def delete_blob(self, name: str, digest: str) -> None:
        """Remove a blob from a repository (other repositories keep theirs)."""
        with self._lock:
            self._fence()
            repo = self._repo(name)
            if any(digest in m.info.blobs for m in self._immutably_tagged_manifests(repo)):
                raise RegistryError(ErrorCode.DENIED, "requested access to the resource is denied: blob is in use")
            if repo.blobs.pop(digest, None) is None:
                raise RegistryError(ErrorCode.BLOB_UNKNOWN)

    # Uploads ------------------------------------------------------------------------------------------------------

    def start_upload(self, name: str, upload_id: str | None = None) -> Upload:
        """Open an upload session in a repository (which it does not make exist: see :class:`Repository`)."""
        with self._lock:
            self._fence()
            repo = self._make_repo(name)
            upload = repo.uploads.get(upload_id) if upload_id else None
            if upload is None:
                upload = Upload(upload_id or secrets.token_urlsafe(24), made_up=not upload_id)
                repo.uploads[upload.id] = upload
            return upload

    def get_upload(self, name: str, upload_id: str, *, create: bool = False) -> Upload:
        """An open upload. With ``create`` (the reference's leniency) an unknown id opens that upload, unless this
        store made it up before a reset."""
        with self._lock:
            self._fence(ErrorCode.BLOB_UPLOAD_UNKNOWN)
            repo = self._get(name)
            upload = repo.uploads.get(upload_id) if repo else None
            if upload is None and create and upload_id not in self._retired:
                return self.start_upload(name, upload_id)
        if upload is None:
            raise RegistryError(ErrorCode.BLOB_UPLOAD_UNKNOWN)
        if upload.invalid:
            raise UploadInvalidated()
        return upload

    def write_upload(
        self, name: str, upload_id: str, chunks: Iterable[Chunk], start: int | None = None, length: int | None = None
    ) -> int:
        """Append a chunk to an upload (a PATCH); returns the upload's new size."""
        options = self.options
        upload = self.get_upload(name, upload_id, create=not options.strict_upload_ids)
        with upload.lock:
            upload.check_open()
            if start is not None and not options.chunked_uploads:
                raise ChunkedUploadRefused()
            if start is not None and options.max_chunk_size is not None:
                chunks = _capped(chunks, options.max_chunk_size)
            mark = upload.size
            if options.chunk_retry_invalidates and start is not None and start < mark:
                upload.invalid = True  # a chunk sent again: the session cannot resume
                raise UploadInvalidated()
            try:
                size = upload.buffer.write(
                    chunks, start, length, append=not options.require_content_range, spill=options.blob_spill_size
                )
            except Exception as e:
                broken = not isinstance(e, RegistryError) or e.code is ErrorCode.SIZE_INVALID  # cut short
                upload.invalid = upload.invalid or (options.chunk_retry_invalidates and broken)
                raise
            self._fence(ErrorCode.BLOB_UPLOAD_UNKNOWN)  # the upload written to is gone with the reset
            upload.patched = True
            upload.last_chunk_start = mark
            if upload.first_chunk_end is None and size:
                upload.first_chunk_end = size
            return size

    def commit_upload(
        self,
        name: str,
        upload_id: str,
        digest: str,
        chunks: Iterable[Chunk] = (),
        start: int | None = None,
        length: int | None = None,
    ) -> Blob:
        """Append a final chunk and store the upload's content under ``digest``, if it matches.

        On a mismatch the final chunk is rolled back and the upload stays open.
        """
        options = self.options
        upload = self.get_upload(name, upload_id, create=not options.strict_upload_ids)
        with upload.lock:
            upload.check_open()
            mark = upload.size
            if options.put_body_needs_patch and not upload.patched:
                chunks = _refused_if_any(chunks, RegistryError(ErrorCode.BLOB_UNKNOWN))
            if length != 0 or start is not None:  # a final chunk needs no Content-Range, even when strict
                upload.buffer.write(chunks, start, length, spill=options.blob_spill_size)
            if options.empty_upload_refused and upload.size == 0:
                raise EmptyUpload(name, upload_id)
            try:
                blob = self._commit(name, upload.buffer, digest, upload_id)
            except RegistryError:
                upload.buffer.truncate(mark)
                raise
            upload.closed = True
            return blob

    def upload_sizes(self, name: str) -> dict[str, int]:
        """The open uploads of a repository: id → bytes received."""
        with self._lock:
            repo = self._repos.get(name)
            return {upload_id: upload.size for upload_id, upload in (repo.uploads if repo else {}).items()}

    def cancel_upload(self, name: str, upload_id: str) -> None:
        """Abandon an upload and its data."""
        with self._lock:
            self._fence(ErrorCode.BLOB_UPLOAD_UNKNOWN)
            repo = self._get(name)
            upload = repo.uploads.pop(upload_id, None) if repo else None
        if upload is None:
            raise RegistryError(ErrorCode.BLOB_UPLOAD_UNKNOWN)
        with upload.lock:  # after any chunk in flight
            upload.closed = True

    # Manifests ----------------------------------------------------------------------------------------------------

    def put_manifest(
        self,
        name: str,
        reference: str,
        data: bytes,
        content_type: str | None = None,
        tags: Sequence[str] = (),
        *,
        precondition: Callable[[str | None], None] | None = None,
    ) -> Manifest:
        """Store a manifest under its digest, and under ``reference`` when that is a tag, and under ``tags`` (the
        spec's ``?tag=`` on a PUT by digest). ``content_type`` is the push's (None: it had none). ``precondition``
        is called, under the lock and before any change, with the digest ``reference`` names now (None: nothing);
        what it raises refuses the push (a conditional request's compare-and-set).

        Bytes already stored in the repository keep the manifest they are (type, subject, referrers): the push
        only tags them."""
        options = self.options
        if options.max_manifest_size is not None and len(data) > options.max_manifest_size:
            raise ManifestTooLarge(options.max_manifest_size, len(data))
        tag = reference if is_tag(reference) else None
        digest = digest_of(data, options.digest_algorithms[0] if tag else algorithm_of(reference))
        if tag is None and (digest != reference or algorithm_of(digest) not in options.digest_algorithms):
            raise RegistryError(ErrorCode.DIGEST_INVALID)
        all_tags = [t for t in ([tag] if tag else []) + list(tags)]
        bad = [t for t in all_tags if not is_tag(t)]
        if bad:
            raise RegistryError(ErrorCode.TAG_INVALID, f"invalid tag {bad[0]!r}")
        with self._lock:
            repo = self._repos.get(name)
            known = repo.manifests.get(digest) if repo else None
        known_type = known.media_type if known else None
        info = inspect(data, content_type, strict=options.validate_manifests, known=known_type,
                       layer_urls=options.distribution_layer_urls)
        check_manifest(data, info, options)
        with self._lock:
            self._fence()
            repo = self._repos.get(name) or Repository()
            if precondition is not None:
                precondition(repo.tags.get(tag) if tag else (digest if digest in repo.manifests else None))
            manifest = repo.manifests.get(digest) or Manifest(digest, bytes(data), info.media_type, info)
            self._check_references(repo, manifest.info, options.check_references)
            for t in all_tags:
                if self._immutable(t) and t in repo.tags and (repo.tags[t] != digest or _refuses_same_digest(options)):
                    raise ImmutableTag(name, t, "requested access to the resource is denied: cannot overwrite tag")
            repo = self._make_repo(name)
            repo.manifests[digest] = manifest
            repo.had_manifest = True
            if not all_tags:
                repo.pushed_by_digest.add(digest)
            for t in all_tags:
                repo.set_tag(t, digest)
        return manifest

    @staticmethod
    def _check_references(repo: Repository, info: ManifestInfo, present: bool) -> None:
        """Refuse a manifest for its first refused layer URL, or (``present``) its first missing reference."""
        for i, digest in enumerate(info.blobs):
            if i in info.refused_urls:
                raise RegistryError(  # distribution's 500 (the code's status), copied by distribution_layer_urls
                    ErrorCode.UNKNOWN,
                    f"unknown error: layer {digest}: no layer URL is allowed, and a Docker foreign layer needs one",
                )
            if present and digest not in repo.blobs:
                raise RegistryError(ErrorCode.MANIFEST_BLOB_UNKNOWN, f"blob {digest} not found")
        if not present:
            return
        for digest in info.children:
            if digest not in repo.manifests:
                raise RegistryError(ErrorCode.MANIFEST_BLOB_UNKNOWN, f"manifest {digest} not found")

    def get_manifest(self, name: str, reference: str) -> Manifest:
        """A manifest by tag or digest."""
        with self._lock:
            repo = self._repo(name)
            manifest = repo.manifests.get(repo.tags.get(reference, reference))
        if manifest is None:
            raise RegistryError(ErrorCode.MANIFEST_UNKNOWN)
        return manifest

    def delete_manifest(self, name: str, reference: str) -> None:
        """Delete a tag, or a manifest by digest (and, with ``untag_on_delete``, the tags that point at it)."""
        with self._lock:
            self._fence()
            repo = self._repo(name)
            if is_tag(reference):
                if reference not in repo.tags:
                    raise RegistryError(ErrorCode.MANIFEST_UNKNOWN, "manifest unknown to registry: tag does not exist")
                if self._immutable(reference):
                    raise ImmutableTag(
                        name, reference, "requested access to the resource is denied: tag is immutable", delete=True
                    )
                repo.remove_tag(reference)
                return
            if reference not in repo.manifests:
                raise RegistryError(ErrorCode.MANIFEST_UNKNOWN)
            tags = [t for t, d in repo.tags.items() if d == reference]
            immutable = [t for t in sorted(tags) if self._immutable(t)]
            if immutable:
                raise ImmutableTag(
                    name, immutable[0], "requested access to the resource is denied: manifest is tagged", delete=True
                )
            if self.options.delete_untagged_only and (tags or self._listed_by_index(repo, reference)):
                raise RegistryError(ErrorCode.DENIED)
            del repo.manifests[reference]
            repo.pushed_by_digest.discard(reference)
            if self.options.untag_on_delete:
                for t in tags:
                    repo.remove_tag(t)

    def referrers(self, name: str, digest: str, artifact_type: str | None = None) -> list[Descriptor]:
        """The manifests of a repository whose subject is ``digest``, sorted by digest, optionally filtered by
        ``artifact_type`` (a media type: compared case-insensitively)."""
        options = self.options
        with self._lock:
            repo = self._repo(name)
            found = [m for m in repo.manifests.values() if m.info.subject == digest]
            entries = {m.digest: 1 for m in found}
            if options.referrers_duplicate_on_tag:
                # zot's index.json: an entry per tag, and an untagged one for a push by digest
                entries = {d: int(d in repo.pushed_by_digest) for d in entries}
                for tagged in repo.tags.values():
                    if tagged in entries:
                        entries[tagged] += 1
        wanted = artifact_type.strip().lower() if artifact_type is not None else None
        listed = [
            m.descriptor() if options.referrers_artifact_type else dataclasses.replace(m.descriptor(), artifact_type=None)
            for m in sorted(found, key=lambda m: m.digest)
            if wanted is None or (m.info.artifact_type or "").lower() == wanted
        ]
        return [d for d in listed for _ in range(entries[d.digest])]

    def _immutable(self, tag: str) -> bool:
        """Whether ``tag`` is immutable (``immutable_tags``, and one of ``immutable_tag_patterns`` if any)."""
        options = self.options
        patterns = options.immutable_tag_patterns
        return options.immutable_tags and (not patterns or any(fnmatch.fnmatchcase(tag, p) for p in patterns))

    def _immutably_tagged_manifests(self, repo: Repository) -> list[Manifest]:
        digests = {d for t, d in repo.tags.items() if self._immutable(t)}
        return [repo.manifests[d] for d in digests if d in repo.manifests]

    @staticmethod
    def _listed_by_index(repo: Repository, digest: str) -> bool:
        return any(digest in m.info.children for m in repo.manifests.values())


def _capped(chunks: Iterable[Chunk], limit: int) -> Iterator[Chunk]:
    """``chunks``, refused (:class:`ChunkTooLarge`) as soon as more than ``limit`` bytes came."""
    received = 0
    for chunk in chunks:
        received += len(chunk)
        if received > limit:
            raise ChunkTooLarge(limit)
        yield chunk


def _refused_if_any(chunks: Iterable[Chunk], error: RegistryError) -> Iterator[Chunk]:
    """``chunks``, refused with ``error`` at the first that holds data."""
    for chunk in chunks:
        if chunk:
            raise error
        yield chunk
