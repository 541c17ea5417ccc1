"""benchmarks/stats.py: interleaved rounds, and ratios paired round by round (the benchmarks' drift-proof ratios)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from benchmarks.report import table, targets_section, to_json
from benchmarks.stats import Key, Results, Row, Stat, interleaved
from benchmarks.targets import Target

# A machine slowing down over three rounds: the floor measured at 100, 60 and 200 req/s; the server beside it at 80,
# 90 and 150. Round by round the server made 0.8x, 1.5x and 0.75x the floor (median 0.8x); its median over the floor's
# median is 90 / 100 = 0.9x, pairing the second round's server with the first round's floor.
FLOOR = (100.0, 60.0, 200.0)
SERVER = (80.0, 90.0, 150.0)
PAIRED, OF_MEDIANS = 0.8, 0.9


def results(floor: Stat, server: Stat) -> Results:
    found = Results()
    found.add(Row("small.floor.t1", "floor", floor, "req/s", True))
    found.add(Row("small.ping.t1", "server", server, "req/s", True, baseline=("small.floor.t1", "floor")))
    return found


def test_same_rounds_pair_round_by_round() -> None:
    assert Stat(SERVER, "small").ratio(Stat(FLOOR, "small")) == pytest.approx(PAIRED)


@pytest.mark.parametrize(
    ("server", "floor"),
    [
        (Stat(SERVER), Stat(FLOOR)),  # not measured in rounds
        (Stat(SERVER, "small"), Stat(FLOOR, "chunked")),  # other rounds
        (Stat(SERVER, "small"), Stat(FLOOR)),
        (Stat(SERVER, "small"), Stat((*FLOOR, 100.0), "small")),  # as many samples or none is paired
    ],
    ids=["no-rounds", "other-rounds", "one-in-rounds", "other-count"],
)
def test_others_compare_medians(server: Stat, floor: Stat) -> None:
    assert server.ratio(floor) == pytest.approx(OF_MEDIANS)


def test_a_zero_baseline_has_no_ratio() -> None:
    assert Stat(SERVER, "small").ratio(Stat((100.0, 0.0, 200.0), "small")) is None
    assert Stat(SERVER).ratio(Stat((0.0,))) is None


def test_the_report_and_the_targets_use_the_paired_ratio() -> None:
    found = results(Stat(FLOOR, "small"), Stat(SERVER, "small"))
    key: Key = ("small.ping.t1", "server")
    assert found.ratio(key, ("small.floor.t1", "floor")) == pytest.approx(PAIRED)
    assert Target("ping", key, ("small.floor.t1", "floor"), 0.85).status(found) == "MISS"
    assert Target("ping", key, ("small.floor.t1", "floor"), 0.8).status(found) == "PASS"
    server_line = next(line for line in table(found).splitlines() if line.startswith("small.ping.t1"))
    assert " 0.80x  small.floor.t1/floor " in server_line
    row = to_json(found, [])["rows"][1]
    assert (row["ratio"], row["rounds"], row["samples"]) == (pytest.approx(PAIRED), "small", list(SERVER))


def test_a_target_shows_the_reference_servers_ratios_over_the_same_baseline() -> None:
    found = results(Stat(FLOOR, "small"), Stat(SERVER, "small"))
    # the reference made 0.9x, 2x and 1.2x the floor round by round: 1.2x; the replay 0.5x, 0.8x, 0.7x: 0.7x
    found.add(Row("small.ping.t1", "ref", Stat((90.0, 120.0, 240.0), "small"), "req/s", True))
    found.add(Row("small.ping.t1", "replay", Stat((50.0, 48.0, 140.0), "small"), "req/s", True))
    key, base = ("small.ping.t1", "server"), ("small.floor.t1", "floor")
    target = Target("ping", key, base, 0.85, references=("ref", "absent", "replay"))
    assert target.reference_values(found) == {"ref": pytest.approx(1.2), "replay": pytest.approx(0.7)}
    assert targets_section(found, [target]).splitlines()[1].split()[-5:] == ["0.8", "(ref:", "1.2,", "replay:", "0.7)"]
    assert to_json(found, [target])["targets"][0]["references"] == pytest.approx({"ref": 1.2, "replay": 0.7})
    without = Target("ping", key, base, 0.85, references=("absent",))
    assert without.reference_values(found) == {}
    assert targets_section(found, [without]).splitlines()[1].split()[-1] == "0.8"


def test_interleaved_runs_every_measurement_in_each_round_alternating_order() -> None:
    calls: list[str] = []

    def measure(name: str, values: list[float]) -> Callable[[], float]:
        def one() -> float:
            calls.append(name)
            return values.pop(0)

        return one

    floor = [10.0, 30.0, 1.0, 3.0, 5.0, 7.0]  # measured twice per round: the round's sample is their mean
    plan = [("floor", measure("floor", floor)), ("a", measure("a", [1.0, 2.0, 3.0])), ("floor", measure("floor", floor)),
            ("b", measure("b", [4.0, 5.0, 6.0]))]
    stats = interleaved("test", 3, plan)
    assert calls == ["floor", "a", "floor", "b"] + ["b", "floor", "a", "floor"] + ["floor", "a", "floor", "b"]
    assert list(stats) == ["floor", "a", "b"]
    assert stats["floor"] == Stat((20.0, 2.0, 6.0), "test")
    assert stats["a"] == Stat((1.0, 2.0, 3.0), "test")
    assert stats["b"] == Stat((4.0, 5.0, 6.0), "test")
