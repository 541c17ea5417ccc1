"""A raw socket to the server: what it sent, byte for byte, where an HTTP client would hide it."""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
from dataclasses import dataclass


@dataclass
class Answer:
    """One response: its head as sent (without the ``Date`` line, which changes every second) and its body."""

    head: bytes
    body: bytes

    @property
    def status(self) -> bytes:
        return self.head.split(b"\r\n", 1)[0]

    def header(self, name: str) -> str | None:
        match = re.search(rb"\r\n" + name.encode() + rb": ([^\r]*)", self.head, re.IGNORECASE)
        return match[1].decode("latin-1") if match else None


class Wire(contextlib.AbstractContextManager["Wire"]):
    """A connection to ``port`` on 127.0.0.1 (over TLS with ``context``)."""

    def __init__(self, port: int, context: ssl.SSLContext | None = None, timeout: float = 10.0) -> None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock = context.wrap_socket(sock, server_hostname="127.0.0.1") if context else sock
        self.rfile = self.sock.makefile("rb")

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.rfile.close()
        self.sock.close()

    def send(self, data: bytes) -> Wire:
        self.sock.sendall(data)
        return self

    def finish_sending(self) -> Wire:
        self.sock.shutdown(socket.SHUT_WR)
        return self

    def head(self) -> bytes:
        """The next response head, up to and including its blank line, without its ``Date`` line."""
        lines = []
        while (line := self.rfile.readline()) not in (b"\r\n", b""):
            if not line.lower().startswith(b"date: "):
                lines.append(line)
        return b"".join(lines) + line

    def response(self, head_request: bool = False) -> Answer:
        """The next response, read by its framing (Content-Length, chunked, or to the end of the connection)."""
        head = self.head()
        answer = Answer(head, b"")
        length, coding = answer.header("Content-Length"), answer.header("Transfer-Encoding")
        code = int(answer.status.split()[1]) if answer.status else 0
        if head_request or code in (204, 304) or 100 <= code < 200:
            return answer
        if length is not None:
            answer.body = self.rfile.read(int(length))
        elif coding == "chunked":
            while size := int(self.rfile.readline().split(b";")[0], 16):
                answer.body += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
        else:
            answer.body = self.rest()
        return answer

    def rest(self) -> bytes:
        """Everything until the server closes the connection."""
        data = b""
        try:
            while chunk := self.rfile.read1(1 << 16):
                data += chunk
        except ConnectionResetError:
            pass
        return data

    def closed_by_server(self) -> bool:
        """True when the server has closed the connection (nothing more arrives, or it resets)."""
        try:
            return self.rfile.read1(1) == b""
        except ConnectionResetError:
            return True


def exchange(port: int, data: bytes, context: ssl.SSLContext | None = None) -> bytes:
    """Send ``data``, stop sending, and return everything the server answered until it closed the connection."""
    with Wire(port, context) as wire:
        try:
            wire.send(data).finish_sending()
        except OSError:  # the server answered and closed while the request was still being sent
            pass
        return wire.rest()


def without_date(answer: bytes) -> bytes:
    return re.sub(rb"Date: [^\r]*\r\n", b"", answer)
