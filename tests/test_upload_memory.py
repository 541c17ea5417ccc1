"""What an upload costs in memory: the blob held once, whatever its digest algorithm (measured with tracemalloc)."""

from __future__ import annotations

import hashlib
import tracemalloc

import pytest

from pytest_ociregistry.store import Store

MiB = 1 << 20
DATA = bytes(range(256)) * (16 * MiB // 256)


def peak_of_chunked_upload(algorithm: str) -> int:
    """The peak of Python allocations while a 16 MiB blob is sent in 1 MiB chunks and committed by ``algorithm``."""
    digest = f"{algorithm}:{hashlib.new(algorithm, DATA).hexdigest()}"
    store = Store()
    view = memoryview(DATA)
    tracemalloc.start()
    try:
        upload = store.start_upload("foo")
        for offset in range(0, len(DATA), MiB):
            store.write_upload("foo", upload.id, [view[offset : offset + MiB]])
        assert store.commit_upload("foo", upload.id, digest).digest == digest
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
def test_an_upload_holds_the_blob_once(algorithm: str) -> None:
    peak = peak_of_chunked_upload(algorithm)
    assert peak < 1.25 * len(DATA), f"{algorithm}: peak {peak / MiB:.1f} MiB for a {len(DATA) / MiB:.0f} MiB blob"


def test_sha512_costs_no_more_than_sha256() -> None:
    sha256, sha512 = peak_of_chunked_upload("sha256"), peak_of_chunked_upload("sha512")
    assert sha512 < sha256 + MiB, f"sha512 peak {sha512 / MiB:.1f} MiB, sha256 {sha256 / MiB:.1f} MiB"
