"""Measurements: samples of one figure, and the rows of the results table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

MB = 1e6

Key = tuple[str, str]
"""A row's identity: (benchmark, server)."""


@dataclass(frozen=True)
class Stat:
    """Several runs of one figure."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)


@dataclass(frozen=True)
class Row:
    bench: str
    server: str
    stat: Stat
    unit: str
    higher_is_better: bool
    baseline: Key | None = None
    note: str = ""

    @property
    def key(self) -> Key:
        return (self.bench, self.server)


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def get(self, bench: str, server: str) -> Row | None:
        return next((r for r in self.rows if r.bench == bench and r.server == server), None)

    def ratio(self, key: Key, base: Key) -> float | None:
        row, baseline = self.get(*key), self.get(*base)
        if row is None or baseline is None or baseline.stat.median == 0:
            return None
        return row.stat.median / baseline.stat.median


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def runs(reps: int, fn: Callable[[], float]) -> Stat:
    """``fn`` called ``reps`` times; each call returns one sample."""
    return Stat(tuple(fn() for _ in range(reps)))


def rate(nbytes: int, seconds: Iterable[float]) -> Stat:
    """MB/s for each run that moved ``nbytes`` in the given seconds."""
    return Stat(tuple(nbytes / s / MB for s in seconds))


def millis(seconds: Stat) -> Stat:
    return Stat(tuple(s * 1e3 for s in seconds.samples))
