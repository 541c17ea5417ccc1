"""Blob bytes kept on disk instead of in memory (the ``blob_spill_size`` option): an unlinked temporary file that a
stored blob reads through a read-only memory map. Nothing is left on disk: the file has no name, and its space is
freed when the last blob or upload using it is dropped (a reset, the end of the process)."""

from __future__ import annotations

import mmap
import os
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

BlobData = bytes | bytearray | mmap.mmap
"""What a stored blob's bytes are: in memory, or a read-only map of a spilled file (a :class:`Spilled`)."""


class Spilled(mmap.mmap):
    """A read-only map of a spilled file's bytes. ``fileno()`` of the file stays valid while the map lives, so a
    server can send a range with ``sendfile(2)``, straight from the page cache, never through this process."""

    file: SpillFile

    def file_range(self, start: int, end: int) -> tuple[int, int, int]:
        """``(fd, offset, count)`` of ``self[start:end]`` in the file."""
        return self.file.fileno(), start, end - start


OVERLAP_SIZE = 128 * 1024
"""A chunk at least this big is written on a helper thread while the caller's ``alongside`` work (hashing) runs."""


class _Writers:
    """The helper threads that write chunks to spilled files: made when first needed, and made again in a forked
    child (which has none of its parent's threads: their pool would take work and never do it)."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def submit(self, write: Callable[[memoryview], None], view: memoryview) -> Future[None] | None:
        """``write(view)`` started on a helper thread; None when none can start (the interpreter is exiting)."""
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="pytest-ociregistry-spill")
                self._pid = os.getpid()
            try:
                return self._pool.submit(write, view)
            except RuntimeError:
                return None


_writers = _Writers()


class SpillFile:
    """Bytes appended to an unlinked temporary file (in ``$TMPDIR``), starting with ``initial``. Writes go straight
    to the file (no buffer in between: a chunk is copied once, into the page cache). A write that fails (a full
    disk, a file size limit) raises its :class:`OSError`, leaving ``size`` as it was: :meth:`truncate` to it drops
    what part of the chunk reached the file."""

    def __init__(self, initial: bytes | bytearray = b"") -> None:
        self._file = tempfile.TemporaryFile(prefix="pytest-ociregistry-blob-", buffering=0)  # noqa: SIM115
        self.size = 0
        self.append(initial)

    def fileno(self) -> int:
        return self._file.fileno()

    def append(
        self, chunk: bytes | bytearray | memoryview, alongside: Callable[[memoryview], object] | None = None
    ) -> None:
        """Append ``chunk``, calling ``alongside(chunk)`` (a hash update) meanwhile: for a big chunk on this thread
        while a helper thread writes (both release the GIL, so the copy into the page cache and the hash overlap).
        Returns once both are done: the chunk may then be reused."""
        with memoryview(chunk) as view:
            overlap = alongside is not None and view.nbytes >= OVERLAP_SIZE
            written = _writers.submit(self._write, view) if overlap else None
            if written is None:
                self._write(view)
            try:
                if alongside is not None:
                    alongside(view)
            finally:
                if written is not None:
                    written.result()  # waits even if ``alongside`` failed; a failed write raises here

    def _write(self, view: memoryview) -> None:
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
