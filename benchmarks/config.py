"""The sizes and repetition counts of a run: the full one and ``--quick``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

KiB = 1 << 10
MiB = 1 << 20
BIG = 16 * MiB
"""Transfers this large are measured ``big_reps`` times."""


@dataclass(frozen=True)
class Config:
    reps: int
    """Runs of each cheap measurement (the median of these is reported)."""
    big_reps: int
    """Runs of each measurement moving tens of MiB or more."""
    fixture_reps: int
    blob_sizes: tuple[int, ...]
    """Push and pull sizes, ascending; the targets apply to all but the first."""
    small_reps: int
    small_seconds: float
    """How long each small-request run lasts."""
    small_threads: tuple[int, ...]
    chunked_total: int
    chunk_sizes: tuple[int, ...]
    slow_patches: int
    """PATCHes per chunked upload on a server that takes ~10 ms for each (distribution)."""
    parallel_threads: int
    parallel_blobs: int
    parallel_size: int
    range_size: int
    range_reads: int
    tags: int
    repositories: int
    page: int
    reset_objects: int
    sample_bytes: int
    """Small transfers are repeated within one run until it moves about this much, so a run is not timer noise."""
    memory_size: int
    spill_size: int
    """Push and pull with ``blob_spill_size`` against in memory, at this size."""
    spill_total: int
    """A chunked push (and pull) through a spilling ``python -m pytest_ociregistry``, its memory measured."""
    spill_chunk: int
    pytest_tests: int
    """Tests in each pytest run measuring the fixture's cost."""
    pytest_reps: int

    @property
    def largest(self) -> int:
        return self.blob_sizes[-1]

    def reps_for(self, size: int) -> int:
        """Runs of a measurement moving ``size`` bytes at a time."""
        return self.big_reps if size >= BIG else self.reps

    def per_sample(self, size: int) -> int:
        """Transfers of ``size`` in one run."""
        return max(1, self.sample_bytes // size)


FULL = Config(
    reps=5,
    big_reps=3,
    fixture_reps=20,
    blob_sizes=(1 * MiB, 64 * MiB, 256 * MiB),
    small_reps=5,
    small_seconds=0.5,
    small_threads=(1, 8),
    chunked_total=64 * MiB,
    chunk_sizes=(1 * MiB, 256 * KiB, 16 * KiB),
    slow_patches=512,
    parallel_threads=8,
    parallel_blobs=16,
    parallel_size=4 * MiB,
    range_size=1 * MiB,
    range_reads=32,
    tags=5000,
    repositories=1000,
    page=100,
    reset_objects=1000,
    sample_bytes=32 * MiB,
    memory_size=256 * MiB,
    spill_size=1024 * MiB,
    spill_total=16384 * MiB,
    spill_chunk=16 * MiB,
    pytest_tests=1000,
    pytest_reps=5,
)

QUICK = dataclasses.replace(
    FULL,
    reps=3,
    fixture_reps=5,
    blob_sizes=(1 * MiB, 16 * MiB, 32 * MiB),
    small_seconds=0.1,
    chunked_total=4 * MiB,
    chunk_sizes=(1 * MiB, 64 * KiB, 16 * KiB),
    slow_patches=64,
    parallel_blobs=4,
    parallel_size=2 * MiB,
    range_reads=8,
    tags=500,
    repositories=100,
    sample_bytes=4 * MiB,
    memory_size=32 * MiB,
    spill_size=32 * MiB,
    spill_total=256 * MiB,
    spill_chunk=4 * MiB,
    pytest_reps=2,
)
"""The same workloads, smaller: under a minute."""


def size_label(size: int) -> str:
    """``64MiB``, ``16KiB``."""
    return f"{size // MiB}MiB" if size >= MiB and size % MiB == 0 else f"{size // KiB}KiB"
