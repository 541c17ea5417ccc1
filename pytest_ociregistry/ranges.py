"""Range requests on blobs: parsing a ``Range`` header (RFC 9110 section 14, or as Go's ``net/http`` does) and the
``multipart/byteranges`` body several ranges are answered with. Pure functions, no I/O."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator, Sequence

_INT_RANGE = re.compile(r"([0-9]{1,18})-([0-9]{0,18})")
_SUFFIX_RANGE = re.compile(r"-([0-9]{1,18})")
_OWS = " \t"


class InvalidRange(ValueError):
    """A ``Range`` header that is no byte range set this registry reads: an unknown unit or a malformed value."""


class UnsatisfiableRange(ValueError):
    """A well-formed byte range set of which no range overlaps the blob."""


def byte_ranges(header: str, size: int, *, go: bool = False) -> list[tuple[int, int]]:
    """The ranges of ``size`` bytes that a ``Range`` header asks for, as ``(start, end)`` with ``end`` exclusive,
    in the order asked, each clamped to the blob; ranges past the end are dropped.

    RFC 9110 section 14: the unit is case-insensitive; ``a-b``, ``a-`` and ``-n`` (the last n bytes), separated by
    commas with optional whitespace. Raises :class:`InvalidRange` for another unit or a malformed value (a
    ``last`` before its ``first`` included), and :class:`UnsatisfiableRange` when no range overlaps the blob (a
    suffix of 0 bytes, or a start at or past the end). On an empty blob a non-zero suffix is satisfiable but
    selects nothing: no range is returned (the whole, empty, blob is the answer). Ranges adding up to more than the
    blob are not served either (a broken client or an attack, RFC 9110 section 17.15; Go does the same): none is
    returned.

    With ``go``, as Go's ``http.ServeContent`` reads it (distribution): the unit must be ``bytes`` exactly, and a
    range starting at or past the end is not overlapping even if its last is before its first.
    """
    unit, equals, spec = header.partition("=")
    if not equals or (unit != "bytes" if go else unit.lower() != "bytes"):
        raise InvalidRange(header)
    ranges: list[tuple[int, int]] = []
    past_end = False
    for part in spec.split(","):
        part = part.strip(_OWS)
        if not part:
            continue  # an empty list element (RFC 9110 section 5.6.1)
        if go:
            part = re.sub(r"[ \t]*-[ \t]*", "-", part, count=1)  # textproto.TrimString on each side
        suffix = _SUFFIX_RANGE.fullmatch(part)
        if suffix is not None:
            length = int(suffix[1])
            if length == 0:
                past_end = True
                continue
            ranges.append((max(size - length, 0), size))
            continue
        match = _INT_RANGE.fullmatch(part)
        if match is None:
            raise InvalidRange(header)
        first = int(match[1])
        last = int(match[2]) if match[2] else None
        if go and first >= size:
            past_end = True
            continue
        if last is not None and last < first:
            raise InvalidRange(header)
        if first >= size:
            past_end = True
            continue
        ranges.append((first, size if last is None else min(last + 1, size)))
    if not ranges and past_end:
        raise UnsatisfiableRange(header)
    if not ranges and not go:
        raise InvalidRange(header)  # "bytes=" or "bytes=,": no range at all
    if sum(end - start for start, end in ranges) > size:
        return []
    return [(start, end) for start, end in ranges if start < end]


Slicer = Callable[[int, int], Iterator[bytes]]
"""Gives the bytes from ``start`` to ``end`` of a blob, in pieces."""


def multipart_byteranges(
    slices: Slicer, ranges: Sequence[tuple[int, int]], content_type: str, size: int
) -> tuple[str, int, Iterator[bytes]]:
    """A ``multipart/byteranges`` body for ``ranges`` of a blob of ``size`` bytes (read with ``slices``), in Go's
    ``ServeContent`` format: its Content-Type (with a random boundary), its length, and its pieces."""
    boundary = secrets.token_hex(30)
    heads = [
        (
            ("\r\n" if i else "") + f"--{boundary}\r\nContent-Range: bytes {start}-{end - 1}/{size}\r\n"
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        for i, (start, end) in enumerate(ranges)
    ]
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = sum(len(head) for head in heads) + sum(end - start for start, end in ranges) + len(tail)

    def pieces() -> Iterator[bytes]:
        for head, (start, end) in zip(heads, ranges, strict=True):
            yield head
            yield from slices(start, end)
        yield tail

    return f"multipart/byteranges; boundary={boundary}", length, pieces()
