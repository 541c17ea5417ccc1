"""The store alone: no HTTP."""

from __future__ import annotations

import pytest

from pytest_ociregistry import Options, RegistryError, Store
from pytest_ociregistry.names import digest_of


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
