"""Blob bytes kept on disk instead of in memory (the ``blob_spill_size`` option): an unlinked temporary file that a
stored blob reads through a read-only memory map. Nothing is left on disk: the file has no name, and its space is
freed when the last blob or upload using it is dropped (a reset, the end of the process)."""

from __future__ import annotations

import mmap
import tempfile

BlobData = bytes | bytearray | mmap.mmap
"""What a stored blob's bytes are: in memory, or a read-only map of a spilled file."""


class SpillFile:
    """Bytes appended to an unlinked temporary file (in ``$TMPDIR``), starting with ``initial``."""

    def __init__(self, initial: bytes | bytearray = b"") -> None:
        self._file = tempfile.TemporaryFile(prefix="pytest-ociregistry-blob-")  # noqa: SIM115  # lives with the blob
        self.size = 0
        self.append(initial)

    def append(self, chunk: bytes | bytearray | memoryview) -> None:
        self._file.write(chunk)
        self.size += len(chunk)

    def truncate(self, size: int) -> None:
        self._file.flush()
        self._file.truncate(size)
        self._file.seek(size)
        self.size = size

    def contents(self) -> BlobData:
        """The bytes so far, mapped read-only (never copied into memory); valid as long as nothing is truncated."""
        if self.size == 0:
            return b""  # an empty file cannot be mapped
        self._file.flush()
        return mmap.mmap(self._file.fileno(), self.size, access=mmap.ACCESS_READ)
