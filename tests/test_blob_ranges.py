"""Range requests on blobs over a socket, as RFC 9110 section 14 has them (and Go's net/http, which distribution
serves blobs with): what is ignored, what is served in parts, and what alone is unsatisfiable."""

from __future__ import annotations

import re

import pytest
from raw_http import Answer, exchange, put_blob

from pytest_ociregistry import DISTRIBUTION, SPEC, OCIRegistry, Options
from pytest_ociregistry.ranges import InvalidRange, UnsatisfiableRange, byte_ranges

DATA = b"hello world"
PRESETS = {"reference": Options(), "spec": SPEC, "distribution": DISTRIBUTION}


@pytest.fixture
def digest(oci_registry: OCIRegistry) -> str:
    return put_blob(oci_registry, "foo", DATA)


def get(registry: OCIRegistry, digest: str, *headers: tuple[str, str]) -> Answer:
    return exchange(registry, "GET", f"/v2/foo/blobs/{digest}", list(headers))


def assert_whole(answer: Answer) -> None:
    assert (answer.status, answer.body, answer.header("Content-Length")) == (200, DATA, "11"), answer
    assert answer.header("Content-Range") is None


@pytest.mark.parametrize("preset", ["reference", "spec"])
@pytest.mark.parametrize(
    "value", ["items=0-1", "bytes=abc", "bytes=3-1", "bytes = 1-4", "bytes=", "bytes=1-2-3", "bytes=0x1-2", "bytes=\u00b2-"]
)
def test_a_range_that_does_not_parse_is_ignored(oci_registry: OCIRegistry, digest: str, preset: str, value: str) -> None:
    oci_registry.options = PRESETS[preset]
    assert_whole(get(oci_registry, digest, ("Range", value.encode().decode("latin-1"))))


@pytest.mark.parametrize("preset", list(PRESETS))
def test_the_unit_is_case_insensitive_but_not_for_go(oci_registry: OCIRegistry, digest: str, preset: str) -> None:
    oci_registry.options = PRESETS[preset]
    answer = get(oci_registry, digest, ("Range", "Bytes=1-4"))
    if preset == "distribution":  # Go compares "bytes=" exactly: 416 "invalid range"
        assert answer.status == 416
        return
    assert (answer.status, answer.header("Content-Range"), answer.body) == (206, "bytes 1-4/11", b"ello")


@pytest.mark.parametrize("preset", list(PRESETS))
@pytest.mark.parametrize(
    ("value", "parts"),
    [
        ("bytes=0-1,3-4", [(0, 1), (3, 4)]),
        ("bytes=0-1, 3-4", [(0, 1), (3, 4)]),
        ("bytes=9-,-3,0-0", [(9, 10), (8, 10), (0, 0)]),
        ("bytes=1-2,3-4,5-6", [(1, 2), (3, 4), (5, 6)]),
    ],
)
def test_several_ranges_are_multipart_byteranges(
    oci_registry: OCIRegistry, digest: str, preset: str, value: str, parts: list[tuple[int, int]]
) -> None:
    """Go's format (measured against distribution 2.8): a part per range, in the order asked."""
    oci_registry.options = PRESETS[preset]
    answer = get(oci_registry, digest, ("Range", value))
    assert answer.status == 206, answer
    content_type = answer.header("Content-Type")
    assert content_type is not None
    match = re.fullmatch(r"multipart/byteranges; boundary=([0-9a-f]{60})", content_type)
    assert match is not None, content_type
    boundary = match[1].encode()
    wanted = b"".join(
        (b"\r\n" if i else b"")
        + b"--%s\r\nContent-Range: bytes %d-%d/11\r\nContent-Type: application/octet-stream\r\n\r\n%s"
        % (boundary, first, last, DATA[first : last + 1])
        for i, (first, last) in enumerate(parts)
    ) + b"\r\n--%s--\r\n" % boundary
    assert answer.body == wanted
    assert answer.header("Content-Length") == str(len(wanted))
    assert answer.header("Content-Range") is None
    assert answer.header("Docker-Content-Digest") == digest


@pytest.mark.parametrize("preset", list(PRESETS))
def test_unsatisfiable_ranges_among_others_are_dropped(oci_registry: OCIRegistry, digest: str, preset: str) -> None:
    oci_registry.options = PRESETS[preset]
    answer = get(oci_registry, digest, ("Range", "bytes=0-1,20-30"))
    assert (answer.status, answer.header("Content-Range"), answer.body) == (206, "bytes 0-1/11", b"he")


@pytest.mark.parametrize("preset", list(PRESETS))
def test_ranges_adding_up_to_more_than_the_blob_are_not_served(oci_registry: OCIRegistry, digest: str, preset: str) -> None:
    """As Go does (and RFC 9110 section 17.15 allows): many overlapping ranges get the blob once."""
    oci_registry.options = PRESETS[preset]
    assert_whole(get(oci_registry, digest, ("Range", "bytes=" + ",".join(["0-5"] * 3))))


@pytest.mark.parametrize("preset", ["reference", "spec"])
@pytest.mark.parametrize("value", ["bytes=11-", "bytes=-0", "bytes=20-30,40-", "bytes=11-11"])
def test_only_a_range_that_overlaps_nothing_is_416(oci_registry: OCIRegistry, digest: str, preset: str, value: str) -> None:
    oci_registry.options = PRESETS[preset]
    answer = get(oci_registry, digest, ("Range", value))
    status, code, message = answer.error()
    assert (status, message, answer.header("Content-Range")) == (416, "range not satisfiable", "bytes */11")
    assert code == ("UNSUPPORTED" if preset == "spec" else "RANGE_INVALID")


def test_the_reference_keeps_its_pinned_500(oci_registry: OCIRegistry, digest: str) -> None:
    for value, message in [("bytes=20-30", "invalid range [20, 11]; have [0, 11]"),
                           ("bytes=20-", "invalid range [20, 11]; have [0, 11]")]:
        assert get(oci_registry, digest, ("Range", value)).error() == (500, "UNKNOWN", message)


@pytest.mark.parametrize("preset", list(PRESETS))
def test_if_range_must_name_the_blob(oci_registry: OCIRegistry, digest: str, preset: str) -> None:
    """RFC 9110 section 13.1.5: a Range whose If-Range does not match is ignored; the blob's entity tag is its
    quoted digest (distribution's ETag)."""
    oci_registry.options = PRESETS[preset]
    for condition in ('"sha256:0"', f'W/"{digest}"', "Mon, 30 Nov 2026 11:00:00 GMT", digest):
        assert_whole(get(oci_registry, digest, ("Range", "bytes=1-4"), ("If-Range", condition)))
    answer = get(oci_registry, digest, ("Range", "bytes=1-4"), ("If-Range", f'"{digest}"'))
    assert (answer.status, answer.body) == (206, b"ello")


def test_an_empty_blob(oci_registry: OCIRegistry) -> None:
    digest = put_blob(oci_registry, "foo", b"")
    oci_registry.options = SPEC
    answer = get(oci_registry, digest, ("Range", "bytes=-5"))  # satisfiable, selects nothing: the whole empty blob
    assert (answer.status, answer.body, answer.header("Content-Length")) == (200, b"", "0")
    assert get(oci_registry, digest, ("Range", "bytes=0-")).status == 416


@pytest.mark.parametrize(
    ("header", "go", "wanted"),
    [
        ("bytes=500-0", True, UnsatisfiableRange),  # Go: a start past the end overlaps nothing, whatever its last
        ("bytes=500-0", False, InvalidRange),  # RFC 9110: a last before its first is invalid
        ("bytes=3-1", True, InvalidRange),
        ("Bytes=0-1", True, InvalidRange),
        ("bytes=", True, []),
        ("bytes=,", False, InvalidRange),
        ("bytes=0-" + "9" * 19, False, InvalidRange),
        ("bytes=-20", False, [(0, 11)]),
    ],
)
def test_byte_ranges(header: str, go: bool, wanted: object) -> None:
    if isinstance(wanted, type):
        with pytest.raises(wanted):  # type: ignore[call-overload]
            byte_ranges(header, 11, go=go)
    else:
        assert byte_ranges(header, 11, go=go) == wanted
