"""The OCI grammar: repository names, tags and digests, and hashing content into a digest."""

from __future__ import annotations

import hashlib
import re

_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_LOWER_HEX = re.compile(r"[0-9a-f]*")
# The algorithms a digest may name, and the length of their lower-case hex encoding.
ALGORITHMS = {"sha256": 64, "sha384": 96, "sha512": 128}

# Distribution caps a repository name at 255 characters.
MAX_REPOSITORY_LENGTH = 255


def is_repository(name: str) -> bool:
    """Whether ``name`` is a valid repository name (``a/b-c/d``), as the OCI spec and distribution define it."""
    return len(name) <= MAX_REPOSITORY_LENGTH and _REPOSITORY.fullmatch(name) is not None


def is_tag(tag: str) -> bool:
    """Whether ``tag`` is a valid tag: ``[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}``."""
    return _TAG.fullmatch(tag) is not None


def is_digest(digest: str) -> bool:
    """Whether ``digest`` is ``<algorithm>:<hex>`` for a supported algorithm, lower-case and of the right length."""
    algorithm, _, encoded = digest.partition(":")
    length = ALGORITHMS.get(algorithm)
    return length is not None and len(encoded) == length and _LOWER_HEX.fullmatch(encoded) is not None


def new_hash(algorithm: str = "sha256") -> hashlib._Hash:
    """A fresh hash object for a supported digest algorithm."""
    return hashlib.new(algorithm)


def algorithm_of(digest: str) -> str:
    """The algorithm part of a (valid) digest."""
    return digest.partition(":")[0]


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    """The digest of ``data``: ``sha256:<hex>`` by default."""
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"
