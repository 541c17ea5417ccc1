"""What the reliability tests share: the figures they count, the store invariant, a counting keep-alive
client and raw-socket helpers, the OCI error-body check, and a collector of the registry's logged errors.

Size of the run: the environment variable ``OCI_STRESS_SCALE`` (an integer, default 1) multiplies the thread
counts, the number of injected disconnects and floods, the duration of the reset storm and the hypothesis example
counts, so the work grows linearly with it. The default run takes about 15 s;
``OCI_STRESS_SCALE=10 pytest tests/reliability`` is a larger soak. Each stress test prints its figures (``pytest
-s`` shows them) and each module writes a summary line at its end: requests sent, faults injected, hypothesis
inputs tried and stored objects verified.
"""

from __future__ import annotations

import collections
import hashlib
import http.client
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.errors import ErrorCode
from pytest_ociregistry.manifest import OCI_MANIFEST
from pytest_ociregistry.names import digest_of
from pytest_ociregistry.store import Store

SCALE = max(1, int(os.environ.get("OCI_STRESS_SCALE", "1") or "1"))
JOIN_TIMEOUT = 30.0 * SCALE  # per thread; a thread still alive after it is a deadlock
KNOWN_CODES = {code.name for code in ErrorCode}
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar"
MiB = 1 << 20

# --------------------------------------------------------------------------------------------------------------------
# Figures


class Figures:
    """Thread-safe counters: requests sent, faults injected, hypothesis inputs tried, objects verified."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: collections.Counter[str] = collections.Counter()

    def add(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counts[key] += n

    def snapshot(self) -> collections.Counter[str]:
        with self._lock:
            return collections.Counter(self.counts)


FIGURES = Figures()
FIGURE_KEYS = ("requests", "faults", "inputs", "verified")


def format_figures(counts: collections.Counter[str]) -> str:
    return ", ".join(f"{key} {counts[key]}" for key in FIGURE_KEYS)


# --------------------------------------------------------------------------------------------------------------------
# The invariant


def check_invariants(store: Store) -> int:
    """Assert the store is intact; return the number of objects verified.

    Every blob and manifest is keyed by the digest of its exact bytes (re-hashed here), every tag points at a
    stored manifest, the sorted indexes agree with the dicts, and every open upload's running hash matches its data.
    """
    with store._lock:
        repos = dict(store._repos)
        sorted_repos = list(store._sorted_repos)
        snapshot = {
            name: (dict(r.blobs), dict(r.manifests), dict(r.tags), list(r.sorted_tags), dict(r.uploads))
            for name, r in repos.items()
        }
    assert sorted_repos == sorted(repos), "the repository index disagrees with the repositories"
    verified = 0
    for name, (blobs, manifests, tags, sorted_tags, uploads) in snapshot.items():
        for key, blob in blobs.items():
            data = bytes(blob.data)
            assert blob.digest == key, f"{name}: blob {key} records digest {blob.digest}"
            assert digest_of(data, key.partition(":")[0]) == key, f"{name}: blob {key} does not match its content"
            verified += 1
        for key, manifest in manifests.items():
            assert manifest.digest == key, f"{name}: manifest {key} records digest {manifest.digest}"
            assert digest_of(manifest.data, key.partition(":")[0]) == key, f"{name}: manifest {key} is corrupt"
            verified += 1
        for tag, digest in tags.items():
            assert digest in manifests, f"{name}:{tag} points at {digest}, which is not stored"
            verified += 1
        assert sorted_tags == sorted(tags), f"{name}: the tag index disagrees with the tags"
        for upload_id, upload in uploads.items():
            with upload.lock:
                data = bytes(upload.buffer.data)
                running = upload.buffer._sha256.hexdigest()
            assert running == hashlib.sha256(data).hexdigest(), f"{name}: upload {upload_id}'s hash is out of step"
    FIGURES.add("verified", verified)
    return verified


# --------------------------------------------------------------------------------------------------------------------
# Clients


class Conn:
    """A keep-alive http.client connection that counts its requests and reconnects after a close."""

    def __init__(self, registry: OCIRegistry, timeout: float = 20.0) -> None:
        self.registry = registry
        self.timeout = timeout
        self.http = http.client.HTTPConnection("127.0.0.1", registry.port, timeout=timeout)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        FIGURES.add("requests")
        try:
            self.http.request(method, path, body=body, headers=headers or {})
            response = self.http.getresponse()
            data = response.read()
        except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
            self.http.close()  # a kept-alive connection the server closed: retry once on a fresh one
            self.http = http.client.HTTPConnection("127.0.0.1", self.registry.port, timeout=self.timeout)
            self.http.request(method, path, body=body, headers=headers or {})
            response = self.http.getresponse()
            data = response.read()
        if response.getheader("Connection", "").lower() == "close":
            self.http.close()
        return response.status, response.msg, data

    def close(self) -> None:
        self.http.close()

    # OCI operations, each asserting success ------------------------------------------------------------------------

    def push_blob_single(self, repo: str, data: bytes) -> str:
        digest = digest_of(data)
        status, _, body = self.request("POST", f"/v2/{repo}/blobs/uploads/?digest={digest}", data)
        assert status == 201, body
        return digest

    def push_blob_chunked(self, repo: str, data: bytes, chunk: int = 64 * 1024) -> str:
        digest = digest_of(data)
        status, headers, body = self.request("POST", f"/v2/{repo}/blobs/uploads/")
        assert status == 202, body
        location = headers["Location"]
        offset = 0
        while len(data) - offset > chunk:
            piece = data[offset : offset + chunk]
            rng = {"Content-Range": f"{offset}-{offset + len(piece) - 1}"}
            status, headers, body = self.request("PATCH", location, piece, rng)
            assert status == 202, body
            location = headers["Location"]
            offset += len(piece)
        status, _, body = self.request("PUT", f"{location}?digest={digest}", data[offset:])
        assert status == 201, body
        return digest

    def push_manifest(self, repo: str, ref: str, body: bytes, media_type: str = OCI_MANIFEST) -> str:
        status, headers, answer = self.request("PUT", f"/v2/{repo}/manifests/{ref}", body, {"Content-Type": media_type})
        assert status == 201, answer
        return headers["Docker-Content-Digest"]

    def get(self, path: str) -> tuple[int, bytes]:
        status, _, body = self.request("GET", path)
        return status, body


def image_manifest(config: bytes, layers: list[bytes], **annotations: str) -> bytes:
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": CONFIG_TYPE, "digest": digest_of(config), "size": len(config)},
        "layers": [{"mediaType": LAYER_TYPE, "digest": digest_of(x), "size": len(x)} for x in layers],
    }
    if annotations:
        doc["annotations"] = annotations
    return json.dumps(doc).encode()


def run_threads(targets: list[Callable[[], None]], timeout: float = JOIN_TIMEOUT) -> None:
    """Run each target in a thread; fail on a thread still alive after ``timeout`` (a deadlock) or on any error."""
    errors: list[BaseException] = []

    def wrap(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        return run

    threads = [threading.Thread(target=wrap(t), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0.01))
    alive = [t.name for t in threads if t.is_alive()]
    assert not alive, f"deadlock: {len(alive)} thread(s) still running after {timeout} s"
    if errors:
        raise errors[0]


def raw_socket(registry: OCIRegistry, timeout: float = 10.0) -> socket.socket:
    FIGURES.add("requests")
    return socket.create_connection(("127.0.0.1", registry.port), timeout=timeout)


def read_all(sock: socket.socket) -> bytes:
    out = b""
    try:
        while chunk := sock.recv(65536):
            out += chunk
    except (TimeoutError, ConnectionError):
        pass
    return out


def parse_raw(answer: bytes) -> tuple[int, bytes]:
    """The status and body of the first response in raw bytes."""
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def ping_fast(registry: OCIRegistry, limit: float = 1.0) -> float:
    """GET /v2/ on a fresh connection; assert it answers 200 within ``limit`` seconds; return the time it took."""
    start = time.monotonic()
    conn = Conn(registry, timeout=limit + 4)
    try:
        status, _ = conn.get("/v2/")
    finally:
        conn.close()
    took = time.monotonic() - start
    assert status == 200
    assert took < limit, f"GET /v2/ took {took:.2f} s"
    return took


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def assert_oci_error(status: int, body: bytes, *, code: str | None = None) -> dict[str, Any]:
    """Assert ``body`` is a well-formed OCI error body (with ``code`` when given); return its first error."""
    assert status >= 400, (status, body)
    doc = json.loads(body)
    assert isinstance(doc, dict) and set(doc) == {"errors"}, body
    errors = doc["errors"]
    assert isinstance(errors, list) and errors, body
    for error in errors:
        assert isinstance(error, dict) and {"code", "message"} <= set(error), body
        assert error["code"] in KNOWN_CODES, body
        assert isinstance(error["message"], str), body
    assert b"Traceback" not in body
    if code is not None:
        assert errors[0]["code"] == code, body
    first: dict[str, Any] = errors[0]
    return first


def read_all_until_response(sock: socket.socket) -> bytes:
    """Read one response with a Content-Length body from a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def read_first(answer: bytes) -> bytes:
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
        0,
    )
    return head + b"\r\n\r\n" + body[:length]


class Errors(logging.Handler):
    """Collects ERROR records of the registry's loggers (a logged traceback is a bug)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self._all: list[logging.LogRecord] = []

    @property
    def all_threads(self) -> list[logging.LogRecord]:
        return self._all

    def emit(self, record: logging.LogRecord) -> None:
        self._all.append(record)
        if record.thread == threading.get_ident():  # the WSGI app runs in the test's thread; server threads don't
            self.records.append(record)
