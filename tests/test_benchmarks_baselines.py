"""benchmarks/baselines.py and httpfloor.py: the replaying floor sends a registry's own answer byte for byte (its
``Date`` refreshed), so a small target can be read against that answer served at the floor's own cost."""

from __future__ import annotations

import re
import socket
import time
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from raw_http import exchange

import benchmarks
from benchmarks.baselines import capture, http_server_floor
from benchmarks.httpfloor import DATE
from pytest_ociregistry import OCIRegistry

MANIFEST = "/v2/bench/small/manifests/latest"
ACCEPT = {"Accept": "application/vnd.oci.image.manifest.v1+json"}


def read_to_close(url: str, request: bytes) -> bytes:
    address = urlsplit(url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while data := sock.recv(1 << 16):
            received += data
    return received


@pytest.fixture
def pushed(oci_registry: OCIRegistry) -> bytes:
    oci_registry.push_image("bench/small", "latest")
    return oci_registry.manifest("bench/small", "latest").data


def test_capture_is_the_registry_answer_as_sent_with_its_date_marked(oci_registry: OCIRegistry, pushed: bytes) -> None:
    for method in ("GET", "HEAD"):
        captured = capture(oci_registry.url, method, MANIFEST, ACCEPT).encode("latin-1")
        head, body = captured.split(b"\r\n\r\n", 1)
        status, *lines = head.decode("latin-1").split("\r\n")
        seen = exchange(oci_registry, method, MANIFEST, ACCEPT)
        assert status == seen.status_line == "HTTP/1.1 200 OK"
        assert [tuple(line.split(": ", 1)) for line in lines] == [
            (name, DATE.decode() if name == "Date" else value) for name, value in seen.headers
        ]
        assert body == (pushed if method == "GET" else b"") == seen.body


def test_the_floor_replays_each_answer_byte_for_byte_on_one_connection(
    oci_registry: OCIRegistry, pushed: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = {f"{method} {MANIFEST}": capture(oci_registry.url, method, MANIFEST, ACCEPT) for method in ("GET", "HEAD")}
    monkeypatch.chdir(Path(benchmarks.__file__).parent.parent)  # python -m benchmarks.httpfloor
    with http_server_floor(answers) as url:
        before = time.time()
        received = read_to_close(
            url,
            f"GET {MANIFEST} HTTP/1.1\r\nHost: x\r\n\r\n"
            f"HEAD {MANIFEST} HTTP/1.1\r\nHost: x\r\n\r\n"
            "GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(),
        )
    dates = re.findall(rb"\r\nDate: ([^\r]*)\r\n", received)
    assert len(dates) == 3
    for date in dates:
        assert before - 1 <= parsedate_to_datetime(date.decode()).timestamp() <= time.time() + 1
    replayed = re.sub(rb"\r\nDate: [^\r]*\r\n", b"\r\nDate: " + DATE + b"\r\n", received)
    expected = (answers[f"GET {MANIFEST}"] + answers[f"HEAD {MANIFEST}"]).encode("latin-1")
    assert replayed[: len(expected)] == expected
    # a request it has no answer for: the floor's own empty 200
    ping = replayed[len(expected) :]
    assert ping.startswith(b"HTTP/1.1 200 OK\r\nServer: ") and ping.endswith(b"\r\nContent-Length: 0\r\n\r\n")
