"""Large uploads in memory: the growing anonymous map (64-bit Linux only)."""

from __future__ import annotations

import platform
import resource

import pytest

from pytest_ociregistry import memory
from pytest_ociregistry.memory import FAULT_AHEAD, HUGE_PAGE, GrowingMap

pytestmark = pytest.mark.skipif(not memory.AVAILABLE, reason="growing maps are used on 64-bit Linux only")


def test_a_map_grows_past_its_reservation_keeping_its_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "RESERVE", HUGE_PAGE)
    grown = GrowingMap()
    piece = bytes(range(256)) * 4096  # 1 MiB
    for _ in range(5):  # 5 MiB: grown twice
        grown.append(memoryview(piece))
    assert grown.size == 5 * len(piece) and len(grown._map) == 4 * HUGE_PAGE  # 2 MiB, doubled: 4, then 8 MiB
    with grown.view(len(piece) - 3) as view:
        assert bytes(view[:6]) == piece[-3:] + piece[:3]
    grown.truncate(len(piece) + 1)
    grown.append(b"end")
    data = grown.contents()
    assert len(data) == len(piece) + 4 and data == piece + piece[:1] + b"end"  # cut to size, equal as bytes are
    assert data != piece and bytes(data[-3:]) == b"end"


def test_a_map_cannot_grow_under_a_view(monkeypatch: pytest.MonkeyPatch) -> None:
    """Why a worker's view of an upload must be let go before the upload grows (the store waits for it)."""
    monkeypatch.setattr(memory, "RESERVE", HUGE_PAGE)
    grown = GrowingMap()
    grown.append(b"x" * HUGE_PAGE)
    with grown.view(), pytest.raises(BufferError):
        grown.append(b"y")
    grown.append(b"y")
    assert grown.contents() == b"x" * HUGE_PAGE + b"y"


def test_bytes_read_in_place_grow_the_map_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """``read_in``: the reader writes into the map's next bytes (grown first if need be); only what it says came
    counts; under a view the map refuses to grow before anything is read."""
    monkeypatch.setattr(memory, "RESERVE", HUGE_PAGE)
    grown = GrowingMap()
    grown.append(b"x" * (HUGE_PAGE - 2))
    given: list[int] = []

    def reader(view: memoryview) -> int:
        given.append(view.nbytes)
        view[:5] = b"hello"
        return 5

    with grown.view(), pytest.raises(BufferError):
        grown.read_in(reader, 10)
    assert given == [] and grown.size == HUGE_PAGE - 2
    assert grown.read_in(reader, 10) == 5
    assert given == [10] and grown.size == HUGE_PAGE + 3 and len(grown._map) == 2 * HUGE_PAGE
    assert grown.contents() == b"x" * (HUGE_PAGE - 2) + b"hello"


def test_an_empty_map_has_empty_contents() -> None:
    assert GrowingMap().contents() == b""


def _kernel_at_least(major: int, minor: int) -> bool:
    release = platform.release().split("-")[0].split(".")
    return (int(release[0]), int(release[1])) >= (major, minor)


@pytest.mark.skipif(not _kernel_at_least(5, 14), reason="MADV_POPULATE_WRITE is Linux 5.14+ (older: appends fault)")
def test_memory_is_faulted_in_ahead_of_the_bytes() -> None:
    """After ``fault_ahead`` the next bytes go into memory already there (no page fault), and the bytes before stay."""
    grown = GrowingMap()
    grown.append(b"abc")
    grown.fault_ahead()
    more = b"x" * (FAULT_AHEAD - HUGE_PAGE)
    faults = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    grown.append(more)
    assert resource.getrusage(resource.RUSAGE_THREAD).ru_minflt == faults
    fresh = GrowingMap()  # and without it, the same append faults
    fresh.append(b"abc")
    faults = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    fresh.append(more)
    assert resource.getrusage(resource.RUSAGE_THREAD).ru_minflt > faults
    assert grown.contents() == fresh.contents() == b"abc" + more
