"""The comparison the peer-suite tests rest on: what counts as the same outcome, and how known differences match."""

from __future__ import annotations

from pathlib import Path

from peer_support import Known, Outcome, counts, outcomes, unexplained

PASSED, FAILED = Outcome("passed"), Outcome("failed", "AssertionError: assert [] == ['foo/bar']")
KNOWN = {"m::test_a": Known("failed", "passed", "AssertionError: assert [", "the catalog")}


def test_alike_outcomes_pass() -> None:
    runs = {"m::test_a[x]": PASSED, "m::test_b": Outcome("skipped", "why")}
    assert unexplained(runs, dict(runs), {}) == []


def test_each_difference_is_listed_with_both_outcomes() -> None:
    lines = unexplained({"m::test_a": FAILED, "m::test_c": PASSED}, {"m::test_a": PASSED, "m::test_d": PASSED}, {})
    assert lines == [
        "m::test_a:\n    us: failed (AssertionError: assert [] == ['foo/bar'])\n    docker-registry: passed",
        "m::test_c:\n    us: passed\n    docker-registry: not run",
        "m::test_d:\n    us: not run\n    docker-registry: passed",
    ]


def test_a_skip_for_another_reason_differs() -> None:
    assert unexplained({"m::t": Outcome("skipped", "a")}, {"m::t": Outcome("skipped", "b")}, {}) != []


def test_a_known_difference_matches_exactly_and_must_happen() -> None:
    assert unexplained({"m::test_a[x]": FAILED}, {"m::test_a[x]": PASSED}, KNOWN) == []
    other = Outcome("failed", "TypeError: boom")
    assert unexplained({"m::test_a[x]": other}, {"m::test_a[x]": PASSED}, KNOWN)[0].startswith("m::test_a[x]:")
    assert unexplained({"m::test_a[x]": PASSED}, {"m::test_a[x]": PASSED}, KNOWN) == [
        "m::test_a: known to differ (the catalog), but answered alike"
    ]


def test_junit_outcomes(tmp_path: Path) -> None:
    junit = tmp_path / "j.xml"
    junit.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="m" name="test_p"/>'
        '<testcase classname="m" name="test_f"><failure message="AssertionError: no&#10;more">x</failure></testcase>'
        '<testcase classname="m" name="test_s"><skipped message="needs X"/></testcase>'
        '<testcase classname="m" name="test_t"/><testcase classname="m" name="test_t"><error message="teardown"/>'
        "</testcase></testsuite></testsuites>"
    )
    found = outcomes(junit)
    assert found == {"m::test_p": PASSED, "m::test_f": Outcome("failed", "AssertionError: no"),
                     "m::test_s": Outcome("skipped", "needs X"), "m::test_t": Outcome("error", "teardown")}
    assert counts(found) == "1 error, 1 failed, 1 passed, 1 skipped"
