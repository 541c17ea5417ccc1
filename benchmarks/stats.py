"""Measurements: samples of one figure, and the rows of the results table."""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

MB = 1e6

Key = tuple[str, str]
"""A row's identity: (benchmark, server)."""
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Stat:
    """Several runs of one figure."""

    samples: tuple[float, ...]
    rounds: str | None = None
    """Names the interleaved rounds (:func:`interleaved`) the samples were taken in, one sample per round, in order."""

    def ratio(self, base: Stat) -> float | None:
        """This figure over ``base``'s. Two figures from the same rounds are paired round by round: the median of the
        per-round ratios, each of two measurements taken seconds apart, so the machine's drift over a run cancels.
        Others: the ratio of the medians. None when ``base`` is zero."""
        if self.rounds is not None and self.rounds == base.rounds and len(self.samples) == len(base.samples):
            if 0 in base.samples:
                return None
            return statistics.median(s / b for s, b in zip(self.samples, base.samples, strict=True))
        return None if base.median == 0 else self.median / base.median

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
        return None if row is None or baseline is None else row.stat.ratio(baseline.stat)


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def runs(reps: int, fn: Callable[[], float]) -> Stat:
    """``fn`` called ``reps`` times; each call returns one sample."""
    return Stat(tuple(fn() for _ in range(reps)))


def interleaved(name: str, reps: int, plan: Sequence[tuple[K, Callable[[], float]]]) -> dict[K, Stat]:
    """Every measurement of ``plan`` in turn, in ``reps`` rounds (odd rounds in reverse order, so that none always
    goes first); each key's figure, one sample per round (the mean of its measurements in that round, when it has
    several), the rounds named ``name``. Whatever drifts over minutes, such as the machine's speed, falls alike on
    every measurement of a round, and :meth:`Stat.ratio` compares them round by round."""
    samples: dict[K, list[float]] = defaultdict(list)
    for rep in range(reps):
        taken: dict[K, list[float]] = defaultdict(list)
        for key, measure in plan if rep % 2 == 0 else plan[::-1]:
            taken[key].append(measure())
        for key, values in taken.items():
            samples[key].append(statistics.fmean(values))
    return {key: Stat(tuple(values), name) for key, values in samples.items()}


def rate(nbytes: int, seconds: Iterable[float]) -> Stat:
    """MB/s for each run that moved ``nbytes`` in the given seconds."""
    return Stat(tuple(nbytes / s / MB for s in seconds))


def millis(seconds: Stat) -> Stat:
    return Stat(tuple(s * 1e3 for s in seconds.samples))
