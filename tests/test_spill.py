"""Big blobs on disk (``spill.py``, the ``blob_spill_size`` option): memory stays flat through a large chunked push,
the bytes stay verified and immutable, rollbacks work as in memory, and a reset frees the disk space."""

from __future__ import annotations

import gc
import hashlib
import http.client
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from raw_http import exchange
from werkzeug.test import Client

from pytest_ociregistry import OCIRegistry, Options, RegistryApp, RegistryError, Store
from pytest_ociregistry.names import digest_of
from pytest_ociregistry.spill import OVERLAP_SIZE

MiB = 1 << 20


def rss() -> int:
    """This process's resident memory now, in bytes."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]


def spilled_sizes() -> list[int]:
    """The sizes of this process's open spilled files (unlinked temporary files, what a spilled blob lives in)."""
    sizes = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.endswith("(deleted)"):
                sizes.append(os.stat(f"/proc/self/fd/{fd}").st_size)
        except OSError:
            continue
    return sizes


def spilled_files() -> int:
    """How many spilled files this process has open."""
    return len(spilled_sizes())


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads memory use from /proc (Linux)")
@pytest.mark.parametrize("spill", [MiB, None], ids=["spilled", "in-memory"])
def test_memory_stays_flat_through_a_big_chunked_push(spill: int | None) -> None:
    store = Store(Options(blob_spill_size=spill))
    chunk = os.urandom(MiB)
    total = 96 * MiB
    upload = store.start_upload("big")
    hasher = hashlib.sha256()
    before = peak = rss()
    for i in range(total // MiB):
        piece = chunk[i:] + chunk[:i]  # different bytes each time, nothing compressible
        hasher.update(piece)
        store.write_upload("big", upload.id, [piece])
        peak = max(peak, rss())
    blob = store.commit_upload("big", upload.id, f"sha256:{hasher.hexdigest()}")
    peak = max(peak, rss())
    assert blob.size == total
    if spill is None:
        assert peak - before >= total * 0.9  # the measure sees a blob held in memory...
    else:
        assert peak - before < 16 * MiB, f"grew {(peak - before) / MiB:.0f} MiB"  # ...and none held on disk
    assert hashlib.sha256(blob.data).hexdigest() == hasher.hexdigest()


def test_rollbacks_and_other_algorithms_on_disk() -> None:
    store = Store(Options(blob_spill_size=10))
    upload = store.start_upload("r")
    store.write_upload("r", upload.id, [b"0123456789", b"abcdef"])  # past 10 bytes: on disk
    with pytest.raises(RegistryError, match="SIZE_INVALID"):
        store.write_upload("r", upload.id, [b"ghij"], length=5)  # rolled back
    with pytest.raises(RegistryError, match="DIGEST_INVALID"):
        store.commit_upload("r", upload.id, digest_of(b"wrong"), [b"xyz"])  # the final chunk is rolled back
    assert store.upload_sizes("r") == {upload.id: 16}
    data = b"0123456789abcdefghi"
    blob = store.commit_upload("r", upload.id, digest_of(data, "sha512"), [b"ghi"])
    assert bytes(blob.data) == data and blob.size == 19
    assert bytes(store.put_blob("r", [b"x" * 11], digest_of(b"x" * 11)).data) == b"x" * 11
    assert store.put_blob("r", [b""], digest_of(b"")).data == b""


def test_a_reset_frees_the_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Spilled files have no name (the temporary directory stays empty throughout); a reset closes them."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gc.collect()
    before = spilled_files()
    registry = OCIRegistry(Options(blob_spill_size=100))
    registry.push_blob("r", b"a" * 1000)
    registry.open_upload("r", b"b" * 1000)
    registry.push_image("r", "1", [os.urandom(5000)])
    pulled = registry.blob("r", digest_of(b"a" * 1000))
    assert pulled == b"a" * 1000 and spilled_files() > before
    assert list(tmp_path.iterdir()) == []
    registry.reset()
    gc.collect()
    assert spilled_files() == before


def reused_views(data: bytes, sizes: list[int]) -> Iterator[memoryview]:
    """``data`` in chunks of ``sizes`` bytes, each a view of one buffer that is overwritten once the next is asked
    for (as a request body comes): a chunk written after the store moved on would be stored garbled."""
    buffer = bytearray(max(sizes))
    at = 0
    for size in sizes:
        buffer[:size] = data[at : at + size]
        at += size
        yield memoryview(buffer)[:size]
        buffer[:] = bytes(len(buffer))
    assert at == len(data)


SIZES = [10, OVERLAP_SIZE - 1, OVERLAP_SIZE, 3 * MiB + 7, 1, 2 * OVERLAP_SIZE + 3, MiB]


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
def test_chunks_are_stored_as_they_came(algorithm: str) -> None:
    """Big chunks go to the file while they are hashed (on two threads): what is stored, and its digest, are the
    bytes sent in order, whatever the chunk sizes, through a monolithic push and a chunked one."""
    data = os.urandom(sum(SIZES))
    digest = digest_of(data, algorithm)
    store = Store(Options(blob_spill_size=1, digest_algorithms=("sha256", "sha512")))
    blob = store.put_blob("mono", reused_views(data, SIZES), digest)
    assert (type(blob.data).__name__, blob.size, bytes(blob.data)) == ("Spilled", len(data), data)
    upload = store.start_upload("chunked")
    middle = sum(SIZES[:4])
    store.write_upload("chunked", upload.id, reused_views(data[:middle], SIZES[:4]))
    store.write_upload("chunked", upload.id, reused_views(data[middle:-MiB], SIZES[4:-1]), start=middle)
    blob = store.commit_upload("chunked", upload.id, digest, reused_views(data[-MiB:], SIZES[-1:]))
    assert (blob.size, bytes(blob.data)) == (len(data), data)


def rss_file() -> int:
    """This process's resident file-backed memory (mapped pages of files), in bytes."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"RssFile:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads memory use from /proc (Linux)")
def test_a_spilled_blob_goes_out_by_sendfile(oci_registry: OCIRegistry) -> None:
    """On a plain socket a spilled blob is sent from its file by the kernel: its pages are never mapped into this
    process (read through the blob's memory map, they would be, 64 MiB of them); whole, by a Range, and by HEAD."""
    oci_registry.configure(blob_spill_size=MiB)
    data = os.urandom(64 * MiB)
    digest = oci_registry.push_blob("big", data)
    before = rss_file()
    conn = http.client.HTTPConnection(oci_registry.host, timeout=30)
    conn.request("GET", f"/v2/big/blobs/{digest}")
    response = conn.getresponse()
    hasher = hashlib.sha256()
    while chunk := response.read(MiB):
        hasher.update(chunk)
    assert (response.status, response.getheader("Content-Length")) == (200, str(64 * MiB))
    assert f"sha256:{hasher.hexdigest()}" == digest
    assert rss_file() - before < 8 * MiB, f"mapped {(rss_file() - before) / MiB:.0f} MiB of the file"
    # The same connection serves a Range of it next, framed exactly.
    conn.request("GET", f"/v2/big/blobs/{digest}", headers={"Range": "bytes=1000-1999"})
    response = conn.getresponse()
    assert (response.status, response.getheader("Content-Range"), response.read()) == (
        206, f"bytes 1000-1999/{64 * MiB}", data[1000:2000]
    )
    conn.request("HEAD", f"/v2/big/blobs/{digest}")
    response = conn.getresponse()
    assert (response.status, response.getheader("Content-Length"), response.read()) == (200, str(64 * MiB), b"")
    conn.close()


def test_a_spilled_blob_over_tls_wsgi_and_faults(
    oci_registry: OCIRegistry, make_oci_registry: Callable[..., OCIRegistry]
) -> None:
    """Where sendfile cannot go (TLS, any WSGI server) or a fault rewrites the body, the bytes are read from the
    blob's map instead: the same bytes."""
    data = os.urandom(3 * MiB + 5)
    secure = make_oci_registry(tls=True, blob_spill_size=MiB)
    digest = secure.push_blob("big", data)
    r = requests.get(f"{secure.url}/v2/big/blobs/{digest}", verify=str(secure.ca_bundle), timeout=30)
    assert (r.status_code, r.content) == (200, data)
    wsgi = Client(RegistryApp(secure.store))
    assert wsgi.get(f"/v2/big/blobs/{digest}", headers={"Range": "bytes=5-"}).data == data[5:]
    oci_registry.configure(blob_spill_size=MiB)
    oci_registry.push_blob("big", data)
    oci_registry.fail("GET", f"/v2/big/blobs/{digest}", None, cut_after=2 * MiB)
    conn = http.client.HTTPConnection(oci_registry.host, timeout=30)
    conn.request("GET", f"/v2/big/blobs/{digest}")
    with pytest.raises(http.client.IncompleteRead) as info:
        conn.getresponse().read()
    assert info.value.partial == data[: 2 * MiB]
    conn.close()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads memory use from /proc (Linux)")
@pytest.mark.parametrize(
    ("spill", "archive"), [(MiB, False), (MiB, True), (None, False)], ids=["layout", "oci-archive", "in-memory"]
)
def test_load_keeps_big_blobs_on_disk(tmp_path: Path, spill: int | None, archive: bool) -> None:
    """``load`` reads each blob past ``blob_spill_size`` into a spilled file: memory stays flat through a 64 MiB
    layout, where without the option it grows by the content loaded (and no more)."""
    layer = os.urandom(64 * MiB)
    source = OCIRegistry()
    source.push_image("big", "1", [layer], compress=False)
    path = tmp_path / ("big.tar" if archive else "big")
    source.export("big:1", path, archive=archive)
    digest = digest_of(layer)
    del source
    gc.collect()
    registry = OCIRegistry(Options(blob_spill_size=spill))
    before = rss()
    registry.load(path)
    growth = rss() - before
    if spill is None:
        assert 0.9 * len(layer) <= growth <= 1.1 * len(layer), f"grew {growth / MiB:.0f} MiB"
    else:
        assert growth < 16 * MiB, f"grew {growth / MiB:.0f} MiB"
    assert registry.blob("big", digest) == layer


FORKED = """
import hashlib, os, signal, sys
from pytest_ociregistry.spill import OVERLAP_SIZE, SpillFile
SpillFile().append(bytes(OVERLAP_SIZE), hashlib.sha256().update)  # the helper threads start
pid = os.fork()
if pid == 0:
    signal.alarm(20)  # a child that hangs ends anyway
    child = SpillFile()
    child.append(bytes(OVERLAP_SIZE), hashlib.sha256().update)
    os._exit(0 if child.size == OVERLAP_SIZE else 1)
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forks (POSIX)")
def test_a_forked_child_spills_too() -> None:
    """A child forked after spilled writes (their helper threads are the parent's) still writes its own."""
    result = subprocess.run([sys.executable, "-c", FORKED], timeout=30, check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def files_up_to_4mib() -> Iterator[None]:
    """No file of this process may grow past 4 MiB while the test runs (``RLIMIT_FSIZE``: a write past it fails
    with ``EFBIG``, as one fails on a full disk with ``ENOSPC``; Python ignores the signal that comes with it)."""
    resource = pytest.importorskip("resource", reason="sets a file size limit (POSIX)")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4 * MiB, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="reads open files from /proc (Linux)")
def test_a_full_disk_is_a_clean_error_and_stores_nothing(oci_registry: OCIRegistry, files_up_to_4mib: None) -> None:
    """A spilled write that fails answers 507 with an OCI error body; what the request brought is gone (no blob, no
    bytes past the upload's size, in memory or on disk) and the upload goes on from where it was."""
    oci_registry.configure(blob_spill_size=MiB)
    data = os.urandom(5 * MiB)
    digest = digest_of(data)
    refusal = (507, "UNKNOWN", "insufficient storage: cannot write the blob to disk: File too large")
    gc.collect()
    before = spilled_sizes()
    assert exchange(oci_registry, "POST", f"/v2/big/blobs/uploads/?digest={digest}", body=data).error() == refusal
    assert exchange(oci_registry, "HEAD", f"/v2/big/blobs/{digest}").status == 404
    gc.collect()
    assert spilled_sizes() == before  # the monolithic push's file is closed
    location = exchange(oci_registry, "POST", "/v2/big/blobs/uploads/").header("Location")
    assert location is not None
    chunk = exchange(oci_registry, "PATCH", location, {"Content-Range": f"0-{2 * MiB - 1}"}, data[: 2 * MiB])
    assert (chunk.status, chunk.header("Range")) == (202, f"0-{2 * MiB - 1}")
    location = chunk.header("Location")
    assert location is not None
    failed = exchange(oci_registry, "PATCH", location, {"Content-Range": f"{2 * MiB}-{5 * MiB - 1}"}, data[2 * MiB :])
    assert failed.error() == refusal
    assert sorted(spilled_sizes()) == sorted([*before, 2 * MiB])  # the failed chunk's bytes are cut off the file
    status = exchange(oci_registry, "GET", location)
    assert (status.status, status.header("Range")) == (204, f"0-{2 * MiB - 1}")
    target = location + ("&" if "?" in location else "?") + f"digest={digest_of(data[: 3 * MiB])}"
    done = exchange(oci_registry, "PUT", target, body=data[2 * MiB : 3 * MiB])
    assert (done.status, done.header("Docker-Content-Digest")) == (201, digest_of(data[: 3 * MiB]))
    assert oci_registry.blob("big", digest_of(data[: 3 * MiB])) == data[: 3 * MiB]
    assert exchange(oci_registry, "HEAD", f"/v2/big/blobs/{digest}").status == 404
