"""The store alone: no HTTP."""

from __future__ import annotations

import contextlib
import io
import json
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from pytest_ociregistry import Options, RegistryError, Store, memory
from pytest_ociregistry import store as store_module
from pytest_ociregistry.body import Body
from pytest_ociregistry.errors import ErrorCode
from pytest_ociregistry.names import digest_of
from pytest_ociregistry.store import Chunk

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MiB = 1 << 20


@pytest.fixture
def store() -> Store:
    return Store()


def test_blob_round_trip_and_digest_check(store: Store) -> None:
    blob = store.put_blob("r", [b"ab", b"c"], digest_of(b"abc"))
    assert (blob.data, blob.size, blob.digest) == (b"abc", 3, digest_of(b"abc"))
    with pytest.raises(RegistryError, match="DIGEST_INVALID"):
        store.put_blob("r", [b"abc"], digest_of(b"abd"))
    with pytest.raises(RegistryError, match="NAME_UNKNOWN"):
        store.get_blob("other", digest_of(b"abc"))


def test_announced_length_is_checked(store: Store) -> None:
    with pytest.raises(RegistryError, match="SIZE_INVALID"):
        store.put_blob("r", [b"abc"], digest_of(b"abc"), length=4)


def test_upload_offsets_and_rollback(store: Store) -> None:
    upload = store.start_upload("r")
    assert store.write_upload("r", upload.id, [b"abc"], start=0) == 3
    with pytest.raises(RegistryError, match="RANGE_INVALID"):
        store.write_upload("r", upload.id, [b"x"], start=2)

    def broken() -> object:
        yield b"partial"
        raise ConnectionResetError

    with pytest.raises(ConnectionResetError):
        store.write_upload("r", upload.id, broken())
    assert upload.size == 3  # the half-received chunk is gone
    assert store.commit_upload("r", upload.id, digest_of(b"abcd"), [b"d"]).data == b"abcd"
    with pytest.raises(RegistryError, match="BLOB_UPLOAD_UNKNOWN"):
        store.get_upload("r", upload.id)


def test_strict_uploads(store: Store) -> None:
    store.options = Options(strict_upload_ids=True, require_content_range=True)
    with pytest.raises(RegistryError, match="BLOB_UPLOAD_UNKNOWN"):
        store.write_upload("r", "never-handed-out", [b"x"])
    upload = store.start_upload("r")
    store.write_upload("r", upload.id, [b"x"])
    with pytest.raises(RegistryError, match="BLOB_UPLOAD_INVALID"):
        store.write_upload("r", upload.id, [b"y"])


def test_mount_links_the_same_blob(store: Store) -> None:
    blob = store.put_blob("a", [b"x"], digest_of(b"x"))
    assert store.mount_blob("b", "a", blob.digest) is blob
    assert store.mount_blob("b", "nowhere", blob.digest) is None
    store.delete_blob("a", blob.digest)
    assert store.get_blob("b", blob.digest).data == b"x"


def test_tags_and_catalog_pages(store: Store) -> None:
    for tag in ["b", "a", "d", "c"]:
        store.put_manifest("r", tag, b"m")
    assert store.tags("r") == (["a", "b", "c", "d"], False)
    assert store.tags("r", 2) == (["a", "b"], True)
    assert store.tags("r", 2, "b") == (["c", "d"], False)
    assert store.tags("r", 10, "zz") == ([], False)
    store.put_blob("q", [b"x"], digest_of(b"x"))
    assert store.repositories() == (["q", "r"], False)


def test_manifest_by_tag_and_digest_and_delete(store: Store) -> None:
    manifest = store.put_manifest("r", "v1", b"body", "text/x")
    store.put_manifest("r", "v2", b"body", "text/x")
    assert store.get_manifest("r", "v1") == store.get_manifest("r", manifest.digest) == manifest
    store.delete_manifest("r", "v1")
    assert store.tags("r") == (["v2"], False)
    store.delete_manifest("r", manifest.digest)
    assert store.tags("r") == ([], False)
    with pytest.raises(RegistryError, match="MANIFEST_UNKNOWN"):
        store.get_manifest("r", manifest.digest)


def test_reset_forgets_everything(store: Store) -> None:
    store.put_blob("r", [b"x"], digest_of(b"x"))
    store.reset()
    assert store.repositories() == ([], False)


def test_a_request_begun_after_a_reset_or_new_options_sees_them(store: Store) -> None:
    """A request is bound to the store's generation and options of its start: one begun after a reset writes
    into the new generation, one begun after an assignment sees the new options (and one begun before, the old)."""
    before = store.request()
    store.reset()
    with store.request():
        assert store.put_blob("r", [b"x"], digest_of(b"x")).digest == digest_of(b"x")
    with before, pytest.raises(RegistryError, match="NAME_UNKNOWN"):
        store.put_blob("r", [b"y"], digest_of(b"y"))
    changed = Options(delete_enabled=False)
    store.options = changed
    with store.request():
        assert store.options is changed


# The store lock ------------------------------------------------------------------------------------------------


def test_manifest_writes_hold_the_store_lock(store: Store) -> None:
    """Threads push to the same tags of the same fresh repositories and delete them, all at once, while the
    interpreter switches threads as often as it can: every repository and every tag is listed once, in order, and
    every tag names a stored manifest. A write outside the lock lists a repository twice or loses a tag."""
    threads, rounds, pushes = 8, 100, 12
    errors: list[BaseException] = []
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for r in range(rounds):
            barrier = threading.Barrier(threads)

            def worker(n: int, r: int = r, barrier: threading.Barrier = barrier) -> None:
                try:
                    barrier.wait()
                    for i in range(pushes):
                        store.put_manifest(f"r{r}-{i % 3}", f"t{i % 4}", f"{n}/{i}".encode())
                        if i % 5 == 4:
                            with contextlib.suppress(RegistryError):  # another thread may have deleted it
                                store.delete_manifest(f"r{r}-{i % 3}", f"t{i % 4}")
                except BaseException as e:  # noqa: BLE001 - reported below
                    errors.append(e)

            running = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
            for thread in running:
                thread.start()
            for thread in running:
                thread.join(30)
    finally:
        sys.setswitchinterval(previous)
    assert not errors, errors[0]
    names = store.repositories()[0]
    assert names == sorted(set(names)) == sorted(f"r{r}-{i}" for r in range(rounds) for i in range(3))
    for name in names:
        tags = store.tags(name)[0]
        assert tags == sorted(set(tags)), (name, tags)
        for tag in tags:
            store.get_manifest(name, tag)  # a tag names a stored manifest


# immutable_tags ------------------------------------------------------------------------------------------------


def test_immutable_tags_edge_cases(store: Store) -> None:
    store.options = Options(immutable_tags=True)
    first = store.put_manifest("r", "v1", b"one", "text/x")
    assert store.put_manifest("r", "v1", b"one", "text/x") == first  # the same push again is no overwrite
    denied = [
        lambda: store.put_manifest("r", "v1", b"two", "text/x"),  # other content
        lambda: store.put_manifest("r", digest_of(b"two"), b"two", "text/x", tags=["v3", "v1"]),  # ?tag=v3&tag=v1
        lambda: store.delete_manifest("r", "v1"),  # a tag
        lambda: store.delete_manifest("r", first.digest),  # a tagged manifest
    ]
    for attempt in denied:
        with pytest.raises(RegistryError, match="DENIED"):
            attempt()
    assert store.get_manifest("r", "v1") == first
    assert store.put_manifest("r", "v2", b"two", "text/x").digest == digest_of(b"two")  # a new tag
    untagged = store.put_manifest("r", digest_of(b"three"), b"three", "text/x")
    store.delete_manifest("r", untagged.digest)  # an untagged manifest may go
    assert store.tags("r") == (["v1", "v2"], False)


def test_immutable_tags_keep_the_blobs_of_tagged_manifests(store: Store) -> None:
    store.options = Options(immutable_tags=True)
    used, spare = (store.put_blob("r", [data], digest_of(data)).digest for data in (b"{}", b"spare"))
    body = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": [],
                       "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": used, "size": 2}})
    store.put_manifest("r", "v1", body.encode(), OCI_MANIFEST)
    with pytest.raises(RegistryError, match="DENIED"):
        store.delete_blob("r", used)
    store.delete_blob("r", spare)
    store.options = Options()
    store.delete_blob("r", used)  # mutable: a blob may go from under a manifest, as in the reference


def test_a_chunk_that_waited_for_an_ended_upload_is_refused(store: Store) -> None:
    """A request holding an upload when it is cancelled or committed (it looked it up, then waited for its lock)
    writes nothing into it: the upload says it is gone."""
    for end in ("cancel", "commit"):
        upload = store.start_upload("r")
        store.write_upload("r", upload.id, [b"abc"])
        if end == "cancel":
            store.cancel_upload("r", upload.id)
        else:
            store.commit_upload("r", upload.id, digest_of(b"abc"))
        with pytest.raises(RegistryError, match="BLOB_UPLOAD_UNKNOWN"):
            upload.check_open()


def test_a_put_precondition_is_checked_with_the_write() -> None:
    """Eight writers, each expecting the tag's current digest: one wins, whatever the time their bodies take to read."""
    store = Store()
    current = store.put_manifest("foo", "list", b'{"n":0}').digest
    bodies = [json.dumps({"n": i, "pad": [{"k": "v"}] * 100_000}).encode() for i in range(1, 9)]
    start = threading.Barrier(len(bodies))
    outcomes: list[str] = []

    def expect_current(digest: str | None) -> None:
        if digest != current:
            raise RegistryError(ErrorCode.DENIED, "stale")

    def writer(body: bytes) -> None:
        start.wait()
        try:
            store.put_manifest("foo", "list", body, "application/vnd.oci.image.index.v1+json",
                               precondition=expect_current)
            outcomes.append("won")
        except RegistryError:
            outcomes.append("refused")

    threads = [threading.Thread(target=writer, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["refused"] * 7 + ["won"]


def large_blob(size: int) -> bytes:
    return bytes(i * 7 % 251 for i in range(251)) * (size // 251) + b"!" * (size % 251)


def chunks_of(data: bytes | memoryview, announced: int | None = None) -> Iterable[Chunk]:
    """``data`` as one chunk (``announced``, the length the client says, is the caller's to pass on)."""
    return [data]


def body_of(data: bytes | memoryview, announced: int | None = None) -> Body:
    """``data`` as a request body of ``announced`` bytes (default: its length), read from a stream."""
    return Body(io.BytesIO(bytes(data)), len(data) if announced is None else announced)


@pytest.mark.parametrize("feed", [chunks_of, body_of])
def test_a_large_upload_is_hashed_right_whatever_its_chunks(
    store: Store, monkeypatch: pytest.MonkeyPatch, feed: Callable[..., Iterable[Chunk]]
) -> None:
    """Past MAP_AT an upload is in a map and hashed in a worker thread behind the requests: every byte is hashed
    once, in order, through small and large chunks (or bodies read in place), a map that grows under it, a rollback,
    a refused digest, the last bytes that no worker was handed, and another algorithm."""
    monkeypatch.setattr(memory, "RESERVE", memory.HUGE_PAGE)  # the map grows several times
    sizes = [16 << 10] * 100 + [MiB] * 3 + [5000, 3 * MiB, 1]
    data = large_blob(sum(sizes) + 777)
    view = memoryview(data)
    upload = store.start_upload("r")
    at = 0
    for size in sizes:
        assert store.write_upload("r", upload.id, feed(view[at : at + size]), start=at) == at + size
        at += size
        if at > 2 * MiB and size == MiB:  # a body cut short inside the map: rolled back, then sent again
            with pytest.raises(RegistryError, match="SIZE_INVALID"):
                store.write_upload("r", upload.id, feed(view[at : at + 100], 200), start=at, length=200)
            assert upload.size == at
    with pytest.raises(RegistryError, match="DIGEST_INVALID"):
        store.commit_upload("r", upload.id, digest_of(data), feed(view[at:-1]))  # one byte short
    assert upload.size == at
    store.write_upload("r", upload.id, feed(view[at:-7]))
    blob = store.commit_upload("r", upload.id, digest_of(data), feed(view[-7:]))
    assert (blob.digest, len(blob.data)) == (digest_of(data), len(data)) and blob.data == data
    for algorithm in ("sha512", "sha256"):  # the other algorithm hashes the map where it lies
        upload = store.start_upload("r")
        store.write_upload("r", upload.id, [view[: 3 * MiB]])
        digest = digest_of(data, algorithm)
        assert store.commit_upload("r", upload.id, digest, [view[3 * MiB :]]).data == data


@pytest.mark.skipif(not memory.AVAILABLE, reason="uploads are hashed by a worker only in maps (64-bit Linux)")
def test_a_write_does_not_wait_for_a_busy_hash_worker(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bytes that come while the worker hashes earlier ones join its next batch: with the worker held, writes go on
    (the old code waited for it at each batch); the digest, which waits, still covers every byte once."""
    release = threading.Event()
    batches: list[int] = []
    update = store_module._update

    def held(*batch: Any) -> None:
        batches.append(1)
        release.wait(60)
        update(*batch)

    monkeypatch.setattr(store_module, "_update", held)
    data = large_blob(4 * MiB + 5)
    upload = store.start_upload("r")
    written = threading.Event()

    def write_all() -> None:
        for at in range(0, len(data), 16 << 10):
            store.write_upload("r", upload.id, [data[at : at + (16 << 10)]], start=at)
        written.set()

    writer = threading.Thread(target=write_all)
    writer.start()
    try:
        assert written.wait(30), "a write waited for the hash worker"
        assert len(batches) <= 1  # the first batch is not hashed yet: nothing else was handed over
    finally:
        release.set()
        writer.join(30)
    assert store.commit_upload("r", upload.id, digest_of(data)).data == data


@pytest.mark.parametrize("chunk", [70_001, 100 << 10, 300 << 10])
def test_a_large_upload_spills_with_its_hash(chunk: int) -> None:
    """A map's bytes (hashed in the worker or not yet) move to the file whole when the upload outgrows
    ``blob_spill_size``."""
    store = Store(Options(blob_spill_size=4 * MiB))
    data = large_blob(6 * MiB + 7)
    upload = store.start_upload("r")
    for at in range(0, len(data), chunk):
        store.write_upload("r", upload.id, [data[at : at + chunk]])
    blob = store.commit_upload("r", upload.id, digest_of(data))
    assert bytes(blob.data) == data and type(blob.data).__name__ == "Spilled"


class Recording(io.BytesIO):
    """A body's stream that records what each read was given to fill, and can fail after ``fail_after`` bytes."""

    def __init__(self, data: bytes, fail_after: int | None = None) -> None:
        super().__init__(data)
        self.fail_after = fail_after
        self.given: list[object] = []

    def readinto(self, buffer: Any) -> int:
        self.given.append(buffer.obj)
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise ConnectionResetError("the client is gone")
        return super().readinto(buffer[: 4096 if self.fail_after is not None else None])


@pytest.mark.skipif(not memory.AVAILABLE, reason="uploads are in maps only on 64-bit Linux")
def test_a_body_bound_for_a_map_is_read_into_it(store: Store) -> None:
    """A body of known length read in place: its stream is given the map's own memory (no buffer, no copy); the
    first MiB, in a bytearray, and a body of unknown length, come in chunks."""
    data = large_blob(2 * MiB + 16 * 1024)
    upload = store.start_upload("r")
    first = Recording(data[:MiB])
    store.write_upload("r", upload.id, Body(first, MiB))
    second = Recording(data[MiB : 2 * MiB])
    store.write_upload("r", upload.id, Body(second, MiB))
    unknown = Recording(data[2 * MiB :])
    store.write_upload("r", upload.id, Body(unknown, None))
    assert {type(obj) for obj in first.given} == {bytearray}
    assert {type(obj) for obj in second.given} == {memory.MappedBytes}
    assert {type(obj) for obj in unknown.given} == {bytearray}
    assert store.commit_upload("r", upload.id, digest_of(data)).data == data


@pytest.mark.skipif(not memory.AVAILABLE, reason="uploads are in maps only on 64-bit Linux")
def test_a_large_body_read_into_a_map_is_hashed_behind_its_reads(store: Store) -> None:
    """A monolithic 8 MiB body read in place goes to the hash worker a chunk at a time, while the rest is still
    being read (hashing it only once it has all come made a single-POST push 0.4x sha256 instead of 0.65x)."""
    data = large_blob(8 * MiB)
    upload = store.start_upload("r")
    asked: list[int] = []  # at each read (of at most 1 MiB): how many bytes the worker had been asked to hash

    class Watched(io.BytesIO):
        def readinto(self, buffer: Any) -> int:
            asked.append(upload.buffer._unhashed)
            return super().readinto(buffer[:MiB])

    store.write_upload("r", upload.id, Body(Watched(data), len(data)))
    assert len(asked) == 8 and 0 < asked[-1] < len(data), asked  # a worker had bytes before the last MiB came
    assert store.commit_upload("r", upload.id, digest_of(data)).data == data


@pytest.mark.skipif(not memory.AVAILABLE, reason="uploads are in maps only on 64-bit Linux")
def test_a_body_that_fails_while_read_into_a_map_is_rolled_back(store: Store) -> None:
    """The stream fails halfway through a body read in place (its traceback still holds views of the map): the
    stream's error, not a ``BufferError``; the upload is as before, and goes on to the right digest."""
    data = large_blob(3 * MiB)
    upload = store.start_upload("r")
    store.write_upload("r", upload.id, body_of(data[: 2 * MiB]))
    with pytest.raises(ConnectionResetError):
        store.write_upload("r", upload.id, Body(Recording(data[2 * MiB :], fail_after=MiB // 2), MiB))
    assert upload.size == 2 * MiB
    store.write_upload("r", upload.id, body_of(data[2 * MiB :]), start=2 * MiB)
    assert store.commit_upload("r", upload.id, digest_of(data)).data == data


def test_a_body_past_the_spill_size_goes_to_the_file() -> None:
    store = Store(Options(blob_spill_size=2 * MiB))
    data = large_blob(3 * MiB + 5)
    upload = store.start_upload("r")
    for at in range(0, len(data), MiB):
        store.write_upload("r", upload.id, body_of(data[at : at + MiB]), start=at)
    blob = store.commit_upload("r", upload.id, digest_of(data))
    assert bytes(blob.data) == data and type(blob.data).__name__ == "Spilled"
