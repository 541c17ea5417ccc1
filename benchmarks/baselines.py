"""Floors measured in the same run: hashing, a loopback socket copy, do-nothing werkzeug servers in this process, and
a do-nothing ``http.server`` in its own (:mod:`benchmarks.httpfloor`)."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from urllib.parse import urlsplit

from werkzeug.serving import WSGIRequestHandler, make_server

from pytest_ociregistry.handler import KeepAliveRequestHandler

from .httpfloor import DATE
from .serving import free_port, spawned

COPY_CHUNK = 1 << 20


class QuietRequestHandler(WSGIRequestHandler):
    """werkzeug's own handler, without printing a line per request (the registry prints none either)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


WERKZEUG = "werkzeug"
"""werkzeug's own handler: a new connection for every request."""
KEEPALIVE = "keepalive"
"""pytest_ociregistry's keep-alive handler, the registry's serving path, with a do-nothing application."""
FLOORS: dict[str, type[WSGIRequestHandler]] = {WERKZEUG: QuietRequestHandler, KEEPALIVE: KeepAliveRequestHandler}
HTTP_SERVER = "http.server"
"""The standard library's ``http.server`` doing nothing, in its own process (the issue's floor)."""
REPLAY = "replay"
"""The same do-nothing ``http.server``, sending a registry's answer byte for byte: that answer, served at no cost
beyond the floor's own."""


def sha256_seconds(data: bytes) -> float:
    start = time.perf_counter()
    hashlib.sha256(data).digest()
    return time.perf_counter() - start


def loopback_copy_seconds(data: bytes) -> float:
    """Seconds to send ``data`` over a TCP loopback connection from one thread to a reader in another."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        sender = socket.create_connection(listener.getsockname())
        receiver, _ = listener.accept()
    view = memoryview(data)

    def send() -> None:
        with sender:
            for start in range(0, len(data), COPY_CHUNK):
                sender.sendall(view[start : start + COPY_CHUNK])

    buffer = memoryview(bytearray(COPY_CHUNK))
    with receiver:
        start = time.perf_counter()
        thread = threading.Thread(target=send)
        thread.start()
        received = 0
        while received < len(data):
            n = receiver.recv_into(buffer)
            if not n:
                break
            received += n
        elapsed = time.perf_counter() - start
        thread.join()
    if received != len(data):
        raise AssertionError(f"loopback copy received {received} of {len(data)} bytes")
    return elapsed


def do_nothing(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """A WSGI application answering every request 200 with an empty body."""
    start_response("200 OK", [("Content-Length", "0")])
    return [b""]


@contextmanager
def floor_server(handler: type[WSGIRequestHandler]) -> Iterator[str]:
    """A threaded werkzeug server running :func:`do_nothing` with ``handler``; yields its URL."""
    server = make_server("127.0.0.1", 0, do_nothing, threaded=True, request_handler=handler)
    server.daemon_threads = True  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def http_server_floor(answers: dict[str, str] | None = None) -> Iterator[str]:
    """``python -m benchmarks.httpfloor`` on a free port, replaying ``answers`` (:func:`capture`) if given; yields its
    URL."""
    port = free_port()
    argv = [sys.executable, "-m", "benchmarks.httpfloor", "--port", str(port)]
    with TemporaryDirectory() as scratch:
        if answers:
            path = Path(scratch, "answers.json")
            path.write_text(json.dumps(answers), encoding="utf-8")
            argv += ["--answers", str(path)]
        with spawned(argv, port) as (url, _):
            yield url


def capture(url: str, method: str, target: str, headers: dict[str, str]) -> str:
    """A server's answer to one request, exactly as sent (latin-1 text), its ``Date`` value replaced by the replaying
    floor's marker."""
    address = urlsplit(url)
    head = "".join(f"{name}: {value}\r\n" for name, value in {"Host": address.netloc, **headers}.items())
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(f"{method} {target} HTTP/1.1\r\n{head}\r\n".encode("latin-1"))
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += _received(sock)
        length = re.search(rb"\r\ncontent-length: *(\d+)", answer, re.IGNORECASE)
        end = answer.index(b"\r\n\r\n") + 4 + (int(length[1]) if length and method != "HEAD" else 0)
        while len(answer) < end:
            answer += _received(sock)
    return re.sub(rb"(?m)^(Date: )[^\r]*", lambda date: date[1] + DATE, answer[:end]).decode("latin-1")


def _received(sock: socket.socket) -> bytes:
    data = sock.recv(1 << 16)
    if not data:
        raise ConnectionError("the server closed the connection before its answer ended")
    return data
