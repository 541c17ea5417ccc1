"""Blob bytes kept on disk instead of in memory (the ``blob_spill_size`` option): an unlinked temporary file that a
stored blob reads through a read-only memory map. Nothing is left on disk: the file has no name, and its space is
freed when the last blob or upload using it is dropped (a reset, the end of the process)."""

from __future__ import annotations

import mmap
import tempfile

BlobData = bytes | bytearray | mmap.mmap
"""What a stored blob's bytes are: in memory, or a read-only map of a spilled file (a :class:`Spilled`)."""


class Spilled(mmap.mmap):
    """A read-only map of a spilled file's bytes. ``fileno()`` of the file stays valid while the map lives, so a
    server can send a range with ``sendfile(2)``, straight from the page cache, never through this process."""

    file: SpillFile

    def file_range(self, start: int, end: int) -> tuple[int, int, int]:
        """``(fd, offset, count)`` of ``self[start:end]`` in the file."""
        return self.file.fileno(), start, end - start


class SpillFile:
    """Bytes appended to an unlinked temporary file (in ``$TMPDIR``), starting with ``initial``. Writes go straight
    to the file (no buffer in between: a chunk is copied once, into the page cache)."""

    def __init__(self, initial: bytes | bytearray = b"") -> None:
        self._file = tempfile.TemporaryFile(prefix="pytest-ociregistry-blob-", buffering=0)  # noqa: SIM115
        self.size = 0
        self.append(initial)

    def fileno(self) -> int:
        return self._file.fileno()

    def append(self, chunk: bytes | bytearray | memoryview) -> None:
        with memoryview(chunk) as view:
            done, total = 0, view.nbytes
            while done < total:
                done += self._file.write(view[done:]) or 0  # a raw write may take part of it
        self.size += total

    def truncate(self, size: int) -> None:
        self._file.truncate(size)
        self._file.seek(size)
        self.size = size

    def contents(self) -> BlobData:
        """The bytes so far, mapped read-only (never copied into memory); valid as long as nothing is truncated."""
        if self.size == 0:
            return b""  # an empty file cannot be mapped
        data = Spilled(self._file.fileno(), self.size, access=mmap.ACCESS_READ)
        data.file = self  # keeps the file open as long as the blob is held
        return data
