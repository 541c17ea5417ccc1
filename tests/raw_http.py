"""One HTTP/1.1 exchange over a raw socket, for tests that must see exactly what the server sent (every header line
as written, the body as framed) and send exactly what a client would (header case, repeated lines, odd values)."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.names import digest_of


@dataclass
class Answer:
    """A response as it came off the wire."""

    status_line: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def status(self) -> int:
        return int(self.status_line.split(" ", 2)[1])

    def header(self, name: str) -> str | None:
        """The value of the one header line named ``name`` (None when absent; fails when repeated)."""
        values = self.all(name)
        assert len(values) <= 1, f"{name} sent {len(values)} times: {values}"
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)

    def error(self) -> tuple[int, str, str]:
        """(status, code, message) of an OCI error body with exactly one error."""
        doc = self.json()
        assert list(doc) == ["errors"] and len(doc["errors"]) == 1, self.body
        assert self.header("Content-Type") == "application/json", self.headers
        return self.status, doc["errors"][0]["code"], doc["errors"][0]["message"]


def exchange(
    registry: OCIRegistry,
    method: str,
    target: str,
    headers: list[tuple[str, str]] | dict[str, str] | None = None,
    body: bytes = b"",
    *,
    length: bool = True,
) -> Answer:
    """Send one request (with ``Content-Length`` when ``length`` and a body or a method that carries one) on a
    fresh connection and read one response, framed by its ``Content-Length``."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{registry.port}"]
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    if length and (body or method in ("PUT", "POST", "PATCH")):
        pairs.append(("Content-Length", str(len(body))))
    lines += [f"{k}: {v}" for k, v in pairs]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    with socket.create_connection(("127.0.0.1", registry.port), timeout=10) as sock:
        sock.sendall(request)
        reader = sock.makefile("rb")
        status_line = reader.readline().decode("latin-1").rstrip("\r\n")
        response_headers: list[tuple[str, str]] = []
        while (line := reader.readline().decode("latin-1").rstrip("\r\n")) != "":
            name, _, value = line.partition(":")
            response_headers.append((name, value.strip()))
        answer = Answer(status_line, response_headers, b"")
        if method != "HEAD" and answer.status not in (204, 304):
            size = answer.header("Content-Length")
            assert size is not None, f"no Content-Length: {response_headers}"
            answer.body = reader.read(int(size))
        return answer


def put_blob(registry: OCIRegistry, repo: str, data: bytes) -> str:
    """POST then PUT ``data`` to ``repo`` (as every preset takes it); returns its digest."""
    digest = digest_of(data)
    answer = exchange(registry, "POST", f"/v2/{repo}/blobs/uploads/")
    location = answer.header("Location")
    assert answer.status == 202 and location, answer
    location = location.removeprefix(registry.url)
    answer = exchange(registry, "PUT", location + ("&" if "?" in location else "?") + f"digest={digest}", body=data)
    assert answer.status == 201, answer
    return digest
