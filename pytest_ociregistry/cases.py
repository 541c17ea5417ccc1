"""Table-driven cases: a request, the content to seed first, and the exact answer wanted.

A :class:`Case` has the reference table's columns. :func:`run_case` seeds over HTTP, as the reference's Go test
does, then sends the request to any registry by URL (the fixture, or a real registry), and :func:`check_case`
lists every difference between the answer and what the case wants.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Case:
    """One row of a conformance table."""

    description: str
    method: str
    url: str
    want_status: int
    body: str | bytes = ""
    manifests: Mapping[str, str | bytes] = field(default_factory=dict)
    """Manifests to PUT first, keyed ``repo/manifests/reference``, as ``application/octet-stream``."""
    digests: Mapping[str, str | bytes] = field(default_factory=dict)
    """Blobs to push first into repository ``foo`` by single POST, keyed by digest."""
    blob_stream: Mapping[str, str | bytes] = field(default_factory=dict)
    """Upload streams to open first in repository ``foo`` with a chunked PATCH, keyed by upload id."""
    request_headers: Mapping[str, str] = field(default_factory=dict)
    want_headers: Mapping[str, str] = field(default_factory=dict)
    want_body: str | bytes = ""
    skip: str | None = None
    """Why this row is skipped, or None."""

    @property
    def id(self) -> str:
        """The test id: the description."""
        return self.description


@dataclass(frozen=True)
class Answer:
    """A registry's answer to a case's request."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


class SetupError(AssertionError):
    """Seeding a case's content did not get the status the reference answers."""


def _send(
    base: str, method: str, path: str, body: bytes | Iterator[bytes] = b"", headers: Mapping[str, str] | None = None
) -> Answer:
    parts = urlsplit(base)
    conn_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = conn_type(parts.netloc, timeout=30)
    try:
        chunked = not isinstance(body, bytes)
        conn.request(method, parts.path.rstrip("/") + path, body=body, headers=dict(headers or {}), encode_chunked=chunked)
        response = conn.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        conn.close()


def seed_case(base_url: str, case: Case) -> None:
    """Seed a case's content over HTTP, as the reference's Go test does; raise :class:`SetupError` on failure."""
    steps: list[tuple[str, str, bytes | Iterator[bytes], dict[str, str], int]] = []
    for key, content in case.manifests.items():
        steps.append(("PUT", f"/v2/{key}", _bytes(content), {"Content-Type": "application/octet-stream"}, 201))
    for digest, content in case.digests.items():
        steps.append(("POST", f"/v2/foo/blobs/uploads/?digest={digest}", _bytes(content), {}, 201))
    for upload_id, content in case.blob_stream.items():
        data = _bytes(content)
        headers = {"Content-Range": f"0-{len(data) - 1}"}
        steps.append(("PATCH", f"/v2/foo/blobs/uploads/{upload_id}", iter([data]), headers, 202))
    for method, path, body, headers, wanted in steps:
        answer = _send(base_url, method, path, body, headers)
        if answer.status != wanted:
            raise SetupError(f"seeding {method} {path}: got {answer.status}, want {wanted}: {answer.body!r}")


def run_case(base_url: str, case: Case, *, seed: bool = True) -> Answer:
    """Seed a case's content (unless ``seed`` is False: the caller seeded it another way), then send its request to
    the registry at ``base_url``; returns the answer."""
    if seed:
        seed_case(base_url, case)
    return _send(base_url, case.method, case.url, _bytes(case.body), case.request_headers)


def check_case(case: Case, answer: Answer) -> list[str]:
    """Every way ``answer`` differs from what ``case`` wants: the status, each wanted header, the exact body."""
    problems = []
    if answer.status != case.want_status:
        problems.append(f"status: got {answer.status}, want {case.want_status}")
    for name, wanted in case.want_headers.items():
        got = answer.headers.get(name, "")
        if got != wanted:
            problems.append(f"header {name}: got {got!r}, want {wanted!r}")
    if answer.body != _bytes(case.want_body):
        problems.append(f"body:\n  got:  {answer.body!r}\n  want: {_bytes(case.want_body)!r}")
    return problems


def assert_case(base_url: str, case: Case) -> Answer:
    """Run a case and fail with a readable list of differences if the answer is not the one wanted."""
    answer = run_case(base_url, case)
    problems = check_case(case, answer)
    if problems:
        raise AssertionError(f"{case.method} {case.url}:\n" + "\n".join(problems))
    return answer
