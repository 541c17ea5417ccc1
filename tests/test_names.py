"""The OCI grammar."""

from __future__ import annotations

import pytest

from pytest_ociregistry.names import digest_of, is_digest, is_repository, is_tag


@pytest.mark.parametrize("name", ["foo", "a/b/c", "a-b", "a--b", "a__b", "a.b", "a_b/c.d-e", "0", "a" * 255])
def test_valid_repository(name: str) -> None:
    assert is_repository(name)


@pytest.mark.parametrize("name", ["", "Foo", "a/", "/a", "a//b", "a..b", "-a", "a-", "a___b", "a/../b", "a" * 256, "é"])
def test_invalid_repository(name: str) -> None:
    assert not is_repository(name)


@pytest.mark.parametrize(("tag", "valid"), [("latest", True), ("_x", True), ("V1.2-3", True), ("a" * 128, True),
                                            ("a" * 129, False), ("-x", False), (".x", False), ("", False), ("a:b", False)])
def test_tag(tag: str, valid: bool) -> None:
    assert is_tag(tag) is valid


def test_digest() -> None:
    assert is_digest(digest_of(b"x"))
    assert is_digest(digest_of(b"x", "sha512"))
    assert not is_digest("sha256:asd")
    assert not is_digest(digest_of(b"x").upper().replace("SHA256", "sha256"))
    assert not is_digest("md5:" + "0" * 32)
    assert digest_of(b"foo") == "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
