"""A request body as the store takes it: chunks to iterate, or bytes read straight into the store's own memory."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

CHUNK_SIZE = 1 << 20
"""The most bytes a chunk of a :class:`Body` holds."""


class Body:
    """``length`` bytes (None: unknown, until the stream ends) of ``stream``, a binary stream with ``readinto``.

    Iterated, it gives its chunks as they arrive: views of one reused buffer, each valid until the next is read (the
    store copies each once). :meth:`readinto` reads it into memory the caller gives instead (the store's own: no
    buffer, no copy). Either way the stream is never asked for more than is left of the body (werkzeug's
    ``LimitedStream`` would read into a temporary buffer of its own).
    """

    def __init__(self, stream: Any, length: int | None) -> None:
        self._stream = stream
        self.length = length
        self._left = length  # None: until the stream ends

    def __iter__(self) -> Iterator[memoryview]:
        left = self._left
        if left == 0:
            return
        # A buffer no larger than the body: a 16 KiB PATCH does not allocate (and zero) a whole chunk.
        view = memoryview(bytearray(CHUNK_SIZE if left is None else min(CHUNK_SIZE, left)))
        while left is None or left > 0:
            n = self._stream.readinto(view if left is None else view[: min(CHUNK_SIZE, left)])
            if not n:
                return
            if left is not None:
                left -= n
                self._left = left
            yield view[:n]

    def readinto(self, view: memoryview) -> int:
        """Fill ``view`` with the body's next bytes, unless it ends first (or holds fewer): how many were read."""
        wanted = view.nbytes if self._left is None else min(view.nbytes, self._left)
        filled = 0
        while filled < wanted:
            n = self._stream.readinto(view[filled:wanted])
            if not n:
                break
            filled += n
        if self._left is not None:
            self._left -= filled
        return filled
