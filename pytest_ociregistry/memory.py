"""Large upload bytes in memory: an anonymous private memory map, reserved large and grown in place.

A ``bytearray`` grown to a blob's size touches each 4 KiB page of fresh memory once, and on a virtual machine a first
touch of memory costs more than the copy into it. A map reserves address space without using memory (pages never
written are never resident), so it does not move as it fills; and the kernel is asked for huge pages
(``MADV_HUGEPAGE``), so memory is faulted in 2 MiB at a time. A reservation outgrown is extended with ``mremap(2)``
(the kernel moves the mapping, not the bytes). Only 64-bit Linux has all of this: elsewhere uploads stay in a
``bytearray``.

Even 2 MiB at a time, the kernel's allocating and zeroing of fresh memory costs more than the copies into it: a worker
thread has it done ahead of the bytes (:meth:`GrowingMap.fault_ahead`, ``MADV_POPULATE_WRITE``, Linux 5.14), so that
the requests copy into memory already there.
"""

from __future__ import annotations

import ctypes
import mmap
import sys
from collections.abc import Callable

AVAILABLE = sys.platform == "linux" and sys.maxsize > 2**32
"""Whether maps are used: an anonymous map grows with ``mremap(2)``, which only Linux has; the reservations need a
64-bit address space."""
RESERVE = 1 << 30
"""Address space a map reserves at first (1 GiB: no memory until written)."""
HUGE_PAGE = 2 << 20
FAULT_AHEAD = 4 << 20
"""How far past a map's end :meth:`GrowingMap.fault_ahead` has memory faulted in (given back when the map is cut to
its size)."""
_MADV_POPULATE_WRITE = 23  # Linux 5.14: fault pages in writable, as a write would, without writing


class MappedBytes(mmap.mmap):
    """An anonymous map's bytes, equal to bytes of the same content (as a ``bytearray`` is): a stored blob's data."""

    def __eq__(self, other: object) -> bool:
        with memoryview(self) as mine:
            return mine == other

    __hash__ = None  # type: ignore[assignment]  # mutable, as a bytearray


class GrowingMap:
    """Bytes appended to an anonymous private map. Its capacity doubles each time it is outgrown."""

    def __init__(self) -> None:
        self.size = 0
        self._map = _new_map()
        self._faulted = 0
        """Memory below this is faulted in (by :meth:`fault_ahead`, or by the appends themselves)."""

    def append(self, chunk: bytes | bytearray | memoryview) -> None:
        """Append ``chunk``; the map grows if it must (then no view of it may be held: ``BufferError``)."""
        with memoryview(chunk) as view:
            end = self.size + view.nbytes
            self.make_room(view.nbytes)
            self._map[self.size : end] = view.cast("B")
        self.size = end

    def make_room(self, n: int) -> None:
        """Have room for ``n`` more bytes: the map grows if it must (then no view of it may be held:
        ``BufferError``)."""
        end = self.size + n
        if end > len(self._map):
            self._map.resize(-(-max(end, 2 * len(self._map)) // HUGE_PAGE) * HUGE_PAGE)

    def read_in(self, readinto: Callable[[memoryview], int], n: int) -> int:
        """Append up to ``n`` bytes that ``readinto`` writes in place, into the view of the map's next ``n`` bytes
        it is given (returning how many it wrote). The map grows first if it must (then no view of it may be held:
        ``BufferError``, before anything is read). Returns how many bytes came."""
        self.make_room(n)
        with memoryview(self._map) as whole:
            came = readinto(whole[self.size : self.size + n])
        self.size += came
        return came

    def fault_ahead(self) -> None:
        """Have the kernel fault in the memory of the next ``FAULT_AHEAD`` bytes past the end, so that appends copy
        into memory already there. Slow (the kernel zeroes what it allocates), and done without the GIL: meant for a
        worker thread, one at a time per map, while the owner goes on appending (which it may: the contents do not
        change). The map cannot grow meanwhile."""
        end = self.size  # the owner may be appending: one reading of it
        ahead = min(end + FAULT_AHEAD, len(self._map))
        start = max(self._faulted, end) // mmap.PAGESIZE * mmap.PAGESIZE
        if _madvise is None or ahead - start < FAULT_AHEAD // 2:
            return  # far enough ahead already (a call per batch of a few small chunks would cost more than it saves)
        held = ctypes.c_char.from_buffer(self._map, start)  # a view: the map cannot move while it is held
        try:
            failed = _madvise(ctypes.addressof(held), ahead - start, _MADV_POPULATE_WRITE)
        finally:
            del held
        self._faulted = len(self._map) if failed else ahead  # an older kernel refuses: the appends fault as before

    def truncate(self, size: int) -> None:
        self.size = size  # the bytes past it are never read, and are written over by the next append

    def view(self, start: int = 0) -> memoryview:
        """The bytes from ``start`` on, in place (the map cannot grow until the view is released)."""
        with memoryview(self._map) as whole:
            return whole[start : self.size]

    def contents(self) -> bytes | MappedBytes:
        """The bytes so far, as the map itself (no copy), cut to its size: the reservation is given back."""
        if self.size == 0:
            return b""  # a map cannot be empty
        if len(self._map) != self.size:
            self._map.resize(self.size)
        return self._map


def _libc_madvise() -> Callable[[int, int, int], int] | None:
    """``madvise(2)`` through ctypes, which (unlike ``mmap.madvise``) lets other threads run during the call."""
    try:
        madvise = ctypes.CDLL(None, use_errno=True).madvise
    except (AttributeError, OSError):
        return None
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    madvise.restype = ctypes.c_int
    return madvise


_madvise = _libc_madvise() if AVAILABLE else None


def _new_map() -> MappedBytes:
    # private: a shared anonymous map is a file in shmem, whose pages past its first size are unbacked once mremap(2)
    # grows it (SIGBUS on the first write)
    flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
    try:
        data = MappedBytes(-1, RESERVE, flags=flags)
    except OSError:  # strict overcommit (vm.overcommit_memory=2) may refuse the reservation: start small, grow
        data = MappedBytes(-1, HUGE_PAGE, flags=flags)
    try:
        data.madvise(mmap.MADV_HUGEPAGE)
    except (AttributeError, OSError):  # a kernel without transparent huge pages
        pass
    return data
