"""A request body as the store takes it: iterated in chunks, or read into memory the caller gives."""

from __future__ import annotations

import io
import socket

from raw_http import exchange

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.body import CHUNK_SIZE, Body
from pytest_ociregistry.names import digest_of

DATA = bytes(range(256)) * 40  # 10 KiB


class Trickle(io.RawIOBase):
    """A stream that hands out at most ``step`` bytes a read, of more bytes than the body, and records each read's
    size asked for."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step, self.at = data, step, 0
        self.asked: list[int] = []

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        self.asked.append(view.nbytes)
        n = min(view.nbytes, self.step, len(self.data) - self.at)
        view[:n] = self.data[self.at : self.at + n]
        self.at += n
        return n


def test_chunks_as_they_arrive_never_past_the_body() -> None:
    stream = Trickle(DATA + b"next request", 3000)
    assert b"".join(bytes(chunk) for chunk in Body(stream, len(DATA))) == DATA
    assert stream.asked == [len(DATA), len(DATA) - 3000, len(DATA) - 6000, len(DATA) - 9000]
    assert stream.at == len(DATA)  # the next request's bytes are left where they are


def test_chunks_of_a_body_of_unknown_length_until_the_stream_ends() -> None:
    stream = Trickle(DATA, 4096)
    assert b"".join(bytes(chunk) for chunk in Body(stream, None)) == DATA
    assert set(stream.asked) == {CHUNK_SIZE}


def test_an_empty_body_reads_nothing() -> None:
    body = Body(None, 0)
    assert list(body) == []
    assert body.readinto(memoryview(bytearray(10))) == 0


def test_readinto_fills_the_view_through_short_reads_and_stops_at_the_body_end() -> None:
    stream = Trickle(DATA + b"next request", 1000)
    body = Body(stream, len(DATA))
    target = bytearray(len(DATA) + 50)
    assert body.readinto(memoryview(target)) == len(DATA)
    assert target[: len(DATA)] == DATA and target[len(DATA) :] == bytes(50)
    assert stream.at == len(DATA) and max(stream.asked) == len(DATA)
    assert body.readinto(memoryview(target)) == 0  # nothing is left


def test_readinto_a_view_smaller_than_the_body_then_the_rest() -> None:
    body = Body(Trickle(DATA, 700), len(DATA))
    first, rest = bytearray(4000), bytearray(len(DATA))
    assert body.readinto(memoryview(first)) == 4000
    assert body.readinto(memoryview(rest)) == len(DATA) - 4000
    assert bytes(first) + bytes(rest[: len(DATA) - 4000]) == DATA


def test_readinto_says_how_many_came_when_the_stream_ends_early() -> None:
    body = Body(Trickle(DATA[:5000], 2048), len(DATA))
    target = bytearray(len(DATA))
    assert body.readinto(memoryview(target)) == 5000
    assert target[:5000] == DATA[:5000]


def test_a_patch_cut_short_past_the_first_mib_changes_nothing(oci_registry: OCIRegistry) -> None:
    """Over the wire: an upload held in a map (past its first MiB, where a PATCH's body is read in place) and a
    PATCH whose body ends early: a 400 ``SIZE_INVALID``, the upload as it was, and then the right bytes commit."""
    mib = 1 << 20
    data = bytes(range(251)) * (3 * mib // 251)
    started = exchange(oci_registry, "POST", "/v2/cut/blobs/uploads/")
    location = started.header("Location")
    assert started.status == 202 and location
    first = exchange(oci_registry, "PATCH", location, {"Content-Range": f"0-{2 * mib - 1}"}, data[: 2 * mib])
    assert (first.status, first.header("Range")) == (202, f"0-{2 * mib - 1}")
    head = f"PATCH {location} HTTP/1.1\r\nHost: x\r\nContent-Length: {mib}\r\nContent-Range: {2 * mib}-{3 * mib - 1}"
    with socket.create_connection(("127.0.0.1", oci_registry.port), timeout=10) as sock:
        sock.sendall(f"{head}\r\n\r\n".encode() + data[2 * mib : 2 * mib + 100_000])
        sock.shutdown(socket.SHUT_WR)
        answer = sock.makefile("rb").read()
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n") and b'"code":"SIZE_INVALID"' in answer
    status = exchange(oci_registry, "GET", location)
    assert (status.status, status.header("Range")) == (204, f"0-{2 * mib - 1}")
    rest = exchange(oci_registry, "PATCH", location, {"Content-Range": f"{2 * mib}-{len(data) - 1}"}, data[2 * mib :])
    assert (rest.status, rest.header("Range")) == (202, f"0-{len(data) - 1}")
    done = exchange(oci_registry, "PUT", f"{location}?digest={digest_of(data)}")
    assert done.status == 201
    assert oci_registry.store.get_blob("cut", digest_of(data)).data == data
