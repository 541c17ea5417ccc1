"""The differential tests' rule (``differential_support.compare``): a documented difference is an expected failure
only when the two registries differ exactly as it says. Two in-process registries stand in for the pair here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from differential_support import Difference, Side, compare

from pytest_ociregistry import OCIRegistry, Options


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[str, str]]:
    """Two registries whose ping differs in its Content-Type alone (distribution's JSON ping, the reference's)."""
    with OCIRegistry(Options(ping_json=True)) as first, OCIRegistry() as second:
        yield first.url, second.url


def tags_and_ping(side: Side) -> None:
    side.send("GET", f"/v2/{side.repo}/tags/list")
    side.send("GET", "/v2/")


PING = Difference("a JSON ping", {1: {"Content-Type": ("application/json", None)}})


def test_alike_passes(pair: tuple[str, str]) -> None:
    compare(lambda side: side.send("GET", f"/v2/{side.repo}/tags/list"), pair[0], pair[0], "alike")


def test_a_difference_fails(pair: tuple[str, str]) -> None:
    with pytest.raises(AssertionError, match="distribution 2.8 and the fake differ"):
        compare(tags_and_ping, *pair, "undocumented")


def test_the_documented_difference_is_an_expected_failure(pair: tuple[str, str]) -> None:
    with pytest.raises(pytest.xfail.Exception, match="a JSON ping"):
        compare(tags_and_ping, *pair, "documented", PING)


def test_another_difference_fails(pair: tuple[str, str]) -> None:
    other = Difference("a ping", {1: {"Content-Type": ("application/json; charset=utf-8", None)}})
    with pytest.raises(AssertionError, match=r"expected to differ as documented \(a ping\), but they differ"):
        compare(tags_and_ping, *pair, "otherwise", other)


def test_no_difference_fails(pair: tuple[str, str]) -> None:
    with pytest.raises(pytest.fail.Exception, match="expected to differ .* but distribution 2.8 and the fake answer"):
        compare(tags_and_ping, pair[0], pair[0], "gone", PING)
