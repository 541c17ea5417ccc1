"""Reliability: integrity, concurrency, faults, hostile input, limits and isolation of the registry.

What this module proves:

* content is only ever stored under a digest it matches, and reads back byte for byte (:func:`check_invariants`,
  run after every stress run and after every fuzzed request);
* many threads pushing and pulling over the real socket at once (same repository, different repositories, the same
  blob, the same tag, the same upload id) lose nothing, corrupt nothing, and never deadlock;
* clients that disconnect mid-upload or mid-download leave no partial blob, and a slow client blocks no one;
* hostile or broken input (hypothesis-generated methods, paths, names, digests, headers and bodies) never answers
  500 (bar the reference-pinned ``invalid range [...]``) nor a traceback, and always a well-formed OCI error body;
* the limits (name and tag length, path traversal, manifest size cap, header floods) answer clean errors;
* ``reset()`` while requests are in flight crashes nothing.

Size of the run: the environment variable ``OCI_STRESS_SCALE`` (an integer, default 1) multiplies the thread
counts, the number of injected disconnects and floods, the duration of the reset storm and the hypothesis example
counts, so the work grows linearly with it. The default run takes about 15 s;
``OCI_STRESS_SCALE=10 pytest tests/test_reliability.py`` is a larger soak. Each stress test prints its figures
(``pytest -s`` shows them) and the module writes a summary line at the end: requests sent, faults injected,
hypothesis inputs tried and stored objects verified.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import http.client
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder, run_wsgi_app

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.api import RegistryApp
from pytest_ociregistry.errors import ErrorCode
from pytest_ociregistry.manifest import OCI_INDEX, OCI_MANIFEST
from pytest_ociregistry.names import digest_of
from pytest_ociregistry.options import Options
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
KEYS = ("requests", "faults", "inputs", "verified")


def _format(counts: collections.Counter[str]) -> str:
    return ", ".join(f"{key} {counts[key]}" for key in KEYS)


@pytest.fixture(scope="module", autouse=True)
def _summary(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    line = f"test_reliability (OCI_STRESS_SCALE={SCALE}): {_format(FIGURES.snapshot())}"
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:  # pragma: no cover
        print(line)
        return
    with capture.global_and_fixture_disabled():  # shown even without -s
        reporter.write_line("")
        reporter.write_line(line)


@pytest.fixture(autouse=True)
def _figures(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print each test's own figures (visible with ``pytest -s``)."""
    before = FIGURES.snapshot()
    yield
    delta = FIGURES.snapshot()
    delta.subtract(before)
    if any(delta[key] for key in KEYS):
        print(f"\n[{request.node.name}] {_format(delta)}")


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


def test_check_invariants_catches_corruption() -> None:
    """The helper itself: a blob, manifest or tag that breaks the rule is caught."""
    store = Store()
    blob = store.put_blob("foo", [b"hello"], digest_of(b"hello"))
    assert check_invariants(store) == 1
    object.__setattr__(blob, "data", b"hellO")
    with pytest.raises(AssertionError, match="does not match"):
        check_invariants(store)
    store.reset()
    store.put_manifest("foo", "v1", b"{}", "application/json")
    store._repos["foo"].tags["v1"] = "sha256:" + "0" * 64
    with pytest.raises(AssertionError, match="not stored"):
        check_invariants(store)


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


# --------------------------------------------------------------------------------------------------------------------
# Integrity


def test_content_reads_back_byte_for_byte(oci_registry: OCIRegistry) -> None:
    conn = Conn(oci_registry)
    sizes = [0, 1, 4095, 64 * 1024, 64 * 1024 + 1, MiB + 7, 3 * MiB]
    for i, size in enumerate(sizes):
        data = secrets.token_bytes(size)
        push = conn.push_blob_single if i % 2 else conn.push_blob_chunked
        digest = push("round/trip", data)
        assert conn.get(f"/v2/round/trip/blobs/{digest}") == (200, data)
        status, headers, body = conn.request("HEAD", f"/v2/round/trip/blobs/{digest}")
        assert (status, headers["Content-Length"], body) == (200, str(size), b"")
        status, headers, body = conn.request("GET", f"/v2/round/trip/blobs/{digest}", headers={"Range": "bytes=1-"})
        if size > 1:
            assert (status, body) == (206, data[1:])
    config, layer = b"{}", secrets.token_bytes(1000)
    conn.push_blob_single("round/trip", config)
    conn.push_blob_single("round/trip", layer)
    body = image_manifest(config, [layer])
    digest = conn.push_manifest("round/trip", "v1", body)
    assert conn.get("/v2/round/trip/manifests/v1") == (200, body)
    assert conn.get(f"/v2/round/trip/manifests/{digest}") == (200, body)
    conn.close()
    assert check_invariants(oci_registry.store) == len(sizes) + 2 + 2


def test_content_is_only_stored_under_a_digest_it_matches(oci_registry: OCIRegistry) -> None:
    conn = Conn(oci_registry)
    data, other = b"the content", b"other content"
    wrong = digest_of(other)
    status, _, body = conn.request("POST", f"/v2/foo/blobs/uploads/?digest={wrong}", data)
    assert_oci_error(status, body, code="DIGEST_INVALID")
    status, headers, _ = conn.request("POST", "/v2/foo/blobs/uploads/")
    location = headers["Location"]
    status, _, body = conn.request("PUT", f"{location}?digest={wrong}", data)
    assert_oci_error(status, body, code="DIGEST_INVALID")
    status, _, body = conn.request("PUT", f"/v2/foo/manifests/{digest_of(other)}", data)
    assert_oci_error(status, body, code="DIGEST_INVALID")
    status, _, body = conn.request("PUT", f"/v2/foo/manifests/{digest_of(data, 'sha512')}", other)
    assert_oci_error(status, body, code="DIGEST_INVALID")
    assert oci_registry.store._repos["foo"].blobs == {}
    assert oci_registry.store._repos.get("foo") is None or oci_registry.store._repos["foo"].manifests == {}
    # The upload is still open after the mismatch and holds nothing of the refused final chunk.
    status, headers, _ = conn.request("GET", location)
    assert (status, headers["Range"]) == (204, "0-0")
    # sha512 digests are hashed with sha512.
    status, _, body = conn.request("PUT", f"/v2/foo/manifests/{digest_of(data, 'sha512')}", data)
    assert status == 201, body
    conn.close()
    check_invariants(oci_registry.store)


@given(data=st.binary(max_size=4096), claim=st.one_of(st.none(), st.binary(max_size=64)))
@settings(max_examples=100 * SCALE, deadline=None)
def test_store_accepts_content_only_under_its_own_digest(data: bytes, claim: bytes | None) -> None:
    FIGURES.add("inputs")
    store = Store()
    digest = digest_of(data if claim is None else claim)
    matches = claim is None or claim == data
    try:
        blob = store.put_blob("foo", [data[: len(data) // 2], data[len(data) // 2 :]], digest)
    except Exception as e:  # noqa: BLE001
        assert not matches, e
        assert store._repos == {}
    else:
        assert matches and bytes(blob.data) == data
    try:
        manifest = store.put_manifest("foo", digest, data, "application/octet-stream")
    except Exception as e:  # noqa: BLE001
        assert not matches, e
    else:
        assert matches and manifest.data == data
    check_invariants(store)


# --------------------------------------------------------------------------------------------------------------------
# Concurrency over the socket


def test_concurrent_pushes_and_pulls(oci_registry: OCIRegistry) -> None:
    """Threads push and pull at once: the same repository, their own repositories, the same blob."""
    threads, rounds = 8 * SCALE, 12
    shared = secrets.token_bytes(200_000)  # every thread pushes this blob, at once
    pushed: dict[tuple[str, str], bytes] = {}
    lock = threading.Lock()

    def worker(n: int) -> Callable[[], None]:
        def run() -> None:
            conn = Conn(oci_registry)
            for i in range(rounds):
                repo = "shared/repo" if i % 2 else f"own/repo{n}"
                config = json.dumps({"thread": n, "round": i}).encode()
                layer = secrets.token_bytes(1000 + 37 * i)
                digests = [
                    conn.push_blob_single(repo, config),
                    (conn.push_blob_chunked if i % 3 else conn.push_blob_single)(repo, layer),
                    (conn.push_blob_chunked if n % 2 else conn.push_blob_single)(repo, shared),
                ]
                manifest = image_manifest(config, [layer, shared], thread=str(n), round=str(i))
                tag = f"t{n}-{i}"
                mdigest = conn.push_manifest(repo, tag, manifest)
                with lock:
                    for d, content in zip(digests, (config, layer, shared)):
                        pushed[(repo, d)] = content
                    pushed[(repo, mdigest)] = manifest
                # Pull back what this thread and others pushed.
                assert conn.get(f"/v2/{repo}/manifests/{tag}") == (200, manifest)
                for d, content in zip(digests, (config, layer, shared)):
                    assert conn.get(f"/v2/{repo}/blobs/{d}") == (200, content)
                status, body = conn.get(f"/v2/{repo}/tags/list")
                assert status == 200 and tag in json.loads(body)["tags"]
            conn.close()

        return run

    started = time.monotonic()
    run_threads([worker(n) for n in range(threads)])
    took = time.monotonic() - started
    store = oci_registry.store
    for (repo, digest), content in pushed.items():
        obj = store._repos[repo].blobs.get(digest) or store._repos[repo].manifests[digest]
        assert bytes(obj.data) == content
    assert len(store._repos["shared/repo"].blobs) == 1 + 2 * threads * (rounds // 2)
    assert store.tags("shared/repo")[0] == sorted(f"t{n}-{i}" for n in range(threads) for i in range(1, rounds, 2))
    assert check_invariants(store) >= len(pushed)
    print(f"\n{threads} threads x {rounds} rounds in {took:.2f} s; {len(pushed)} objects pushed and read back")


def test_concurrent_pushes_to_the_same_tag_end_with_the_last_writer(oci_registry: OCIRegistry) -> None:
    """Threads push distinct manifests to one tag; the tag ends on a manifest some writer pushed, and on the last
    writer's wherever the order is known: no push whose request began after the winner's answer came back."""
    threads, rounds = 8 * SCALE, 15
    events: list[tuple[float, float, str]] = []  # (request sent, answer received, digest)
    lock = threading.Lock()

    def worker(n: int) -> Callable[[], None]:
        def run() -> None:
            conn = Conn(oci_registry)
            for i in range(rounds):
                body = json.dumps({"writer": n, "round": i, "pad": "x" * (n * 10)}).encode()
                sent = time.monotonic()
                digest = conn.push_manifest("same/tag", "latest", body, "application/vnd.example+json")
                received = time.monotonic()
                with lock:
                    events.append((sent, received, digest))
                status, got = conn.get("/v2/same/tag/manifests/latest")
                assert status == 200 and json.loads(got)["round"] >= 0  # some writer's, whole
            conn.close()

        return run

    run_threads([worker(n) for n in range(threads)])
    store = oci_registry.store
    final = store._repos["same/tag"].tags["latest"]
    digests = {d for _, _, d in events}
    assert len(digests) == threads * rounds and final in digests
    winner = next(e for e in events if e[2] == final)
    latest_start = max(sent for sent, _, _ in events)
    assert winner[1] >= latest_start, "the tag points at a push that was over before another one began"
    assert set(store._repos["same/tag"].manifests) == digests  # every push kept by digest
    conn = Conn(oci_registry)
    assert conn.get("/v2/same/tag/manifests/latest") == (200, store._repos["same/tag"].manifests[final].data)
    # A push after all the others is, determinably, the last writer.
    last = conn.push_manifest("same/tag", "latest", b'{"writer":"last"}', "application/vnd.example+json")
    assert store._repos["same/tag"].tags["latest"] == last
    conn.close()
    check_invariants(store)


def test_concurrent_patches_to_the_same_upload(oci_registry: OCIRegistry) -> None:
    """Threads PATCH the same upload id at once: every chunk lands whole, exactly once; the blob commits intact."""
    threads, rounds, size = 8 * SCALE, 10, 3000
    conn = Conn(oci_registry)
    status, headers, _ = conn.request("POST", "/v2/one/upload/blobs/uploads/")
    assert status == 202
    location = headers["Location"]
    accepted: collections.Counter[int] = collections.Counter()
    lock = threading.Lock()

    def worker(n: int) -> Callable[[], None]:
        def run() -> None:
            c = Conn(oci_registry)
            for _ in range(rounds):
                # Chunks without Content-Range are appended (the reference's leniency); every chunk is the same
                # byte so any interleaving gives the same content, and a torn chunk would change its length.
                status, _, body = c.request("PATCH", location, bytes([65 + n % 26]) * size)
                assert status == 202, body
                with lock:
                    accepted[n] += 1
            c.close()

        return run

    run_threads([worker(n) for n in range(threads)])
    upload = next(iter(oci_registry.store._repos["one/upload"].uploads.values()))
    data = bytes(upload.buffer.data)
    assert len(data) == sum(accepted.values()) * size == threads * rounds * size
    for offset in range(0, len(data), size):  # no chunk torn or interleaved with another
        assert len(set(data[offset : offset + size])) == 1
    expected: collections.Counter[int] = collections.Counter()
    for n in range(threads):
        expected[65 + n % 26] += rounds
    assert collections.Counter(data[i] for i in range(0, len(data), size)) == expected
    status, headers, body = conn.request("PUT", f"{location}?digest={digest_of(data)}")
    assert status == 201, body
    assert conn.get(f"/v2/one/upload/blobs/{digest_of(data)}") == (200, data)
    conn.close()
    check_invariants(oci_registry.store)


def test_a_patch_racing_the_commit_of_its_upload_does_not_corrupt_the_blob(oci_registry: OCIRegistry) -> None:
    conn = Conn(oci_registry)
    status, headers, _ = conn.request("POST", "/v2/foo/blobs/uploads/")
    location = headers["Location"]
    assert conn.request("PATCH", location, b"hello")[0] == 202
    digest = digest_of(b"helloworld")
    upload = next(iter(oci_registry.store._repos["foo"].uploads.values()))
    # The commit's final chunk arrives slowly: the PUT holds the upload while it reads it.
    put = raw_socket(oci_registry)
    put.sendall(f"PUT {location}?digest={digest} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nwo".encode())
    assert wait_until(upload.lock.locked)
    patch: dict[str, Any] = {}

    def late_patch() -> None:
        c = Conn(oci_registry)
        patch["status"], _, patch["body"] = c.request("PATCH", location, b"EXTRA")
        c.close()

    thread = threading.Thread(target=late_patch, daemon=True)
    thread.start()
    time.sleep(0.3)  # the PATCH has looked the upload up and waits for it
    put.sendall(b"rld")
    status, _ = parse_raw(read_all_until_response(put))
    put.close()
    thread.join(10)
    assert not thread.is_alive()
    assert status == 201
    FIGURES.add("faults")
    got = conn.get(f"/v2/foo/blobs/{digest}")
    conn.close()
    print(f"\nlate PATCH answered {patch.get('status')}; blob now reads {got[1]!r} under {digest}")
    assert got == (200, b"helloworld")
    check_invariants(oci_registry.store)


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


# --------------------------------------------------------------------------------------------------------------------
# Faults: disconnects, slow clients, lying lengths


def test_upload_disconnects_leave_no_partial_blob(oci_registry: OCIRegistry) -> None:
    """Clients announce 1 MiB, send half and close (gracefully or with a reset): nothing partial is stored, the
    server keeps serving, and the same uploads then succeed."""
    data = secrets.token_bytes(MiB)
    digest = digest_of(data)
    conn = Conn(oci_registry)
    status, headers, _ = conn.request("POST", "/v2/foo/blobs/uploads/")
    assert status == 202
    location = headers["Location"]
    store = oci_registry.store
    upload = store._repos["foo"].uploads[location.rsplit("/", 1)[1]]
    attempts = [
        f"POST /v2/foo/blobs/uploads/?digest={digest}",  # monolithic
        f"PATCH {location}",  # a chunk
        f"PUT {location}?digest={digest}",  # a final chunk
        f"PUT /v2/foo/manifests/{digest}",  # a manifest
    ] * SCALE
    for i, line in enumerate(attempts):
        sock = raw_socket(oci_registry)
        sock.sendall(f"{line} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(data)}\r\n\r\n".encode())
        sock.sendall(data[: len(data) // 2])
        if i % 2:  # an abortive close: RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
        FIGURES.add("faults")
        ping_fast(oci_registry)
    # Each handler has given up on its half body and rolled back.
    assert wait_until(lambda: not upload.lock.locked())
    time.sleep(0.1)
    assert store._repos["foo"].blobs == {} and store._repos["foo"].manifests == {}
    assert upload.size == 0
    check_invariants(store)
    # The same pushes, whole, succeed.
    assert conn.request("PATCH", location, data)[0] == 202
    assert conn.request("PUT", f"{location}?digest={digest}")[0] == 201
    assert conn.get(f"/v2/foo/blobs/{digest}") == (200, data)
    conn.close()
    check_invariants(store)


def test_download_disconnects_leave_the_server_serving(oci_registry: OCIRegistry) -> None:
    data = secrets.token_bytes(8 * MiB)
    digest = oci_registry.push_blob("big", data)
    readers = 4 * SCALE
    for i in range(readers):
        sock = raw_socket(oci_registry)
        sock.sendall(f"GET /v2/big/blobs/{digest} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        got = 0
        while got < 256 * 1024:
            got += len(sock.recv(65536))
        if i % 2:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
        FIGURES.add("faults")

    # Others are served whole meanwhile and afterwards, and the blob is untouched.
    def full_reader() -> None:
        conn = Conn(oci_registry)
        assert conn.get(f"/v2/big/blobs/{digest}") == (200, data)
        conn.close()

    run_threads([full_reader for _ in range(4)])
    ping_fast(oci_registry)
    check_invariants(oci_registry.store)


def test_a_slow_client_does_not_block_others(oci_registry: OCIRegistry) -> None:
    """One client trickles a chunk body over ~2 s, another its request headers; others are answered meanwhile."""
    pieces, pause = 20, 0.1
    body = b"s" * (pieces * 100)
    conn = Conn(oci_registry)
    status, headers, _ = conn.request("POST", "/v2/slow/blobs/uploads/")
    assert status == 202
    location = headers["Location"]
    other = oci_registry.push_blob("slow", b"other content")
    result: dict[str, Any] = {}

    def slow_body() -> None:
        sock = raw_socket(oci_registry, timeout=30)
        sock.sendall(f"PATCH {location} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        for i in range(pieces):
            sock.sendall(body[i * 100 : (i + 1) * 100])
            time.sleep(pause)
        result["patch"] = parse_raw(read_all_until_response(sock))[0]
        sock.close()

    def slow_headers() -> None:
        sock = raw_socket(oci_registry, timeout=30)
        request = b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Slow: yes\r\n\r\n"
        for i in range(0, len(request), 3):
            sock.sendall(request[i : i + 3])
            time.sleep(pause * pieces / (len(request) / 3))
        result["headers"] = parse_raw(read_all_until_response(sock))[0]
        sock.close()

    threads = [threading.Thread(target=f, daemon=True) for f in (slow_body, slow_headers)]
    for t in threads:
        t.start()
    worst, answered = 0.0, 0
    c2 = Conn(oci_registry)
    while any(t.is_alive() for t in threads):
        worst = max(worst, ping_fast(oci_registry, limit=1.0))
        start = time.monotonic()
        assert c2.get(f"/v2/slow/blobs/{other}") == (200, b"other content")
        c2.push_blob_chunked("slow", secrets.token_bytes(5000))  # another upload in the same repository
        worst = max(worst, time.monotonic() - start)
        answered += 4
        time.sleep(0.02)
    for t in threads:
        t.join(JOIN_TIMEOUT)
        assert not t.is_alive()
    assert result == {"patch": 202, "headers": 200}
    assert answered >= 8 and worst < 1.0
    assert oci_registry.store._repos["slow"].uploads[location.rsplit("/", 1)[1]].size == len(body)
    c2.close()
    conn.close()
    print(f"\n{answered} requests answered while two clients trickled; slowest took {worst * 1000:.0f} ms")
    check_invariants(oci_registry.store)


LYING_TARGETS = [
    "PUT /v2/foo/manifests/v1",
    "POST /v2/foo/blobs/uploads/?digest=sha256:" + "0" * 64,
    "PATCH /v2/foo/blobs/uploads/lying-upload",
]


@pytest.mark.parametrize("line", LYING_TARGETS)
def test_a_content_length_that_lies_long_stores_nothing(oci_registry: OCIRegistry, line: str) -> None:
    """Content-Length: 100 with 3 bytes sent and the sending side shut: no 2xx, nothing stored, server alive."""
    sock = raw_socket(oci_registry)
    sock.sendall(f"{line} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc".encode())
    sock.shutdown(socket.SHUT_WR)
    answer = read_all(sock)
    sock.close()
    FIGURES.add("faults")
    status, body = parse_raw(answer)
    assert status >= 400 and b"Traceback" not in answer
    assert_oci_error(status, body)
    time.sleep(0.05)
    repo = oci_registry.store._repos.get("foo")
    assert repo is None or (not repo.blobs and not repo.manifests and all(u.size == 0 for u in repo.uploads.values()))
    ping_fast(oci_registry)
    check_invariants(oci_registry.store)


@pytest.mark.parametrize("line", LYING_TARGETS)
def test_a_content_length_that_lies_long_is_not_a_500(
    oci_registry: OCIRegistry, line: str, logged_errors: _Errors
) -> None:
    """Found here: werkzeug's ClientDisconnected once escaped as 500 UNKNOWN "internal server error" with a logged
    traceback. Now a clean 4xx, and nothing logged."""
    sock = raw_socket(oci_registry)
    sock.sendall(f"{line} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc".encode())
    sock.shutdown(socket.SHUT_WR)
    status, body = parse_raw(read_all(sock))
    sock.close()
    print(f"\n{line} with Content-Length 100 and a 3-byte body answered {status} {body!r}")
    assert 400 <= status < 500
    assert_oci_error(status, body)
    assert not logged_errors.all_threads, logged_errors.all_threads[0].getMessage()


def test_a_content_length_that_lies_short(oci_registry: OCIRegistry) -> None:
    """Content-Length: 3 with 8 bytes sent: the first 3 are the body, the rest is a (malformed) next request,
    refused with a 400 (not a 500), and the server keeps serving."""
    sock = raw_socket(oci_registry)
    sock.sendall(b"PUT /v2/foo/manifests/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcdefgh")
    sock.shutdown(socket.SHUT_WR)
    answer = read_all(sock)
    sock.close()
    FIGURES.add("faults")
    first = read_first(answer)
    status, _ = parse_raw(first)
    assert status == 201
    rest = answer[len(first) :]
    # "defgh" is no request line: Go's plain-text 400, with a status line, and the connection closed.
    assert rest == b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request"
    assert oci_registry.store.get_manifest("foo", "v1").data == b"abc"
    ping_fast(oci_registry)
    check_invariants(oci_registry.store)


def read_first(answer: bytes) -> bytes:
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
        0,
    )
    return head + b"\r\n\r\n" + body[:length]


# --------------------------------------------------------------------------------------------------------------------
# Hostile input, property-based, through the WSGI app

DIGEST_A = digest_of(b"hello")
MANIFEST_A = image_manifest(b"hello", [])
MANIFEST_A_DIGEST = digest_of(MANIFEST_A)
UPLOAD_ID = "seeded-upload"

SEGMENTS = [
    "v2",
    "foo",
    "bar",
    "foo/bar",
    "blobs",
    "uploads",
    "manifests",
    "tags",
    "list",
    "referrers",
    "_catalog",
    DIGEST_A,
    MANIFEST_A_DIGEST,
    "sha256:" + "0" * 64,
    "sha256:" + "A" * 64,
    "sha512:" + "1" * 128,
    "sha256:abc",
    "md5:" + "0" * 32,
    "latest",
    "v1",
    UPLOAD_ID,
    "..",
    ".",
    "%2F",
    "%2e%2e",
    "foo%2Fbar",
    "%2e%2e%2Fbar",
    "",
    "a" * 300,
    "a" * 256,
    "t" * 129,
    "Foo",
    "foo_bar",
    "foo__bar",
    "foo..bar",
    "-foo",
    "ünïcødé",
    "\u202e",
    "%00",
    "%ff",
    "%",
    "a%2",
    "~",
    "*",
    "?",
    "#",
]
METHODS = ["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PROPFIND", "get", "X"]
QUERIES = [
    "",
    f"digest={DIGEST_A}",
    "digest=sha256:bad",
    "digest=",
    "n=2",
    "n=-1",
    "n=abc",
    "n=" + "9" * 30,
    "last=zzz",
    "n=0&last=",
    f"mount={DIGEST_A}&from=foo",
    f"mount={DIGEST_A}&from=..",
    "mount=x&from=foo",
    "artifactType=x",
    "digest=%00",
    "a=b&a=c",
    "%ff=%fe",
]
RANGES = [
    "bytes=0-1",
    "bytes=1-",
    "bytes=-2",
    "bytes=0-0",
    "bytes=4-4",
    "bytes=5-",
    "bytes=100-200",
    "bytes=2-1",
    "bytes=0-1,3-4",
    "bytes=-0",
    "bytes=",
    "items=0-1",
    "bytes=a-b",
    "bytes=99999999999999999999-",
    "0-1",
]
CONTENT_RANGES = [
    "0-4",
    "0-0",
    "5-9",
    "bytes 0-4/5",
    "bytes=0-4",
    "4-0",
    "0-99999999999999999999",
    "-1-3",
    "abc",
    "0-4/*",
    "bytes */5",
    "",
]
CONTENT_TYPES = [
    OCI_MANIFEST,
    OCI_INDEX,
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/json",
    "application/octet-stream",
    f"{OCI_MANIFEST}; charset=utf-8",
    "",
    ";",
    'text/plain; a="b',
]
ACCEPTS = [OCI_MANIFEST, OCI_INDEX, "*/*", "application/*", "text/html, application/json;q=0.5", ",,,", "", "*"]
BODIES = [
    b"",
    b"{",
    b"{}",
    b"[]",
    b"null",
    b"\xff\xfe\xfd",
    b'{"schemaVersion":2}',
    MANIFEST_A,
    b"hello",
    b'{"layers":"x"}',
    b'{"manifests":[{}]}',
    b'{"config":{"digest":"sha256:x"}}',
    b'{"subject":{"digest":1}}',
    b'{"layers":[{"mediaType":"x","digest":"' + DIGEST_A.encode() + b'","size":-1}]}',
    b"\x00" * 1000,
    b'"\\ud800"',
    b"1e99999",
    b"[" * 500 + b"]" * 500,  # deeper nesting is a known bug: see test_deeply_nested_manifest_json
]

text = st.text(max_size=40)
segment = st.one_of(st.sampled_from(SEGMENTS), text, st.text(alphabet="abz019._-/%2Fe", max_size=30))
repo_name = st.one_of(
    st.sampled_from(["foo", "foo", "foo/bar", "nothere", "a/b/c"]),
    st.sampled_from(["a" * 255, "a" * 256, "..", "foo/../bar", "foo/%2e%2e/bar", "foo%2Fbar", "Foo", "-x", ""]),
    st.text(alphabet="abc/._-%", min_size=1, max_size=20),
    text,
)
digest_like = st.one_of(
    st.sampled_from([DIGEST_A, DIGEST_A, MANIFEST_A_DIGEST, "sha256:" + "0" * 64, "sha512:" + "1" * 128]),
    st.builds(
        lambda a, h: f"{a}:{h}",
        st.sampled_from(["sha256", "sha384", "sha512", "md5", "SHA256", ""]),
        st.text(alphabet="0123456789abcdefABCDEF", max_size=130),
    ),
    segment,
)
reference = st.one_of(digest_like, st.sampled_from(["latest", "v1", "t" * 128, "t" * 129, "_x", ".x", "-x"]), text)
upload_id = st.one_of(st.just(UPLOAD_ID), st.sampled_from(["x", ".", "..", "a" * 256, "a" * 257, "%2F"]), text)
good_repo = st.sampled_from(["foo", "foo", "foo/bar", "nothere"])
good_digest = st.sampled_from([DIGEST_A, MANIFEST_A_DIGEST, "sha256:" + "0" * 64])
method = st.one_of(
    st.sampled_from(["GET", "GET", "HEAD", "PUT", "PUT", "POST", "PATCH", "DELETE"]),
    st.sampled_from(METHODS),
    st.text(min_size=1, max_size=8),
)
hostile_path = st.one_of(
    st.builds(lambda r, d: f"/v2/{r}/blobs/{d}", repo_name, digest_like),
    st.builds(lambda r, ref: f"/v2/{r}/manifests/{ref}", repo_name, reference),
    st.builds(lambda r, tail: f"/v2/{r}/blobs/uploads{tail}", repo_name, st.sampled_from(["", "/"])),
    st.builds(lambda r, u: f"/v2/{r}/blobs/uploads/{u}", repo_name, upload_id),
    st.builds(lambda r: f"/v2/{r}/tags/list", repo_name),
    st.builds(lambda r, d: f"/v2/{r}/referrers/{d}", repo_name, digest_like),
    st.sampled_from(["/v2/", "/v2", "/v2/_catalog", "/", "/v1/", "/v2/_catalog/x"]),
    st.lists(segment, max_size=7).map(lambda segs: "/v2/" + "/".join(segs)),
    text.map(lambda s: "/" + s),
)


def _route(methods: list[str], template: Callable[..., str], *parts: st.SearchStrategy[Any]) -> Any:
    return st.tuples(st.sampled_from(methods), st.builds(template, *parts))


good_repo = st.sampled_from(["foo", "foo", "foo/bar", "nothere"])
good_digest = st.sampled_from([DIGEST_A, DIGEST_A, MANIFEST_A_DIGEST, "sha256:" + "0" * 64])
requests_line = st.one_of(
    # Mostly requests that reach a handler, with hostile parts in one place at a time ...
    _route(["GET", "GET", "HEAD", "DELETE"], lambda r, d: f"/v2/{r}/blobs/{d}", good_repo, good_digest),
    _route(
        ["GET", "HEAD", "PUT", "PUT", "DELETE"],
        lambda r, ref: f"/v2/{r}/manifests/{ref}",
        good_repo,
        st.one_of(good_digest, st.sampled_from(["latest", "v1", "new"]), reference),
    ),
    _route(
        ["GET", "PATCH", "PATCH", "PUT", "DELETE"],
        lambda r, u: f"/v2/{r}/blobs/uploads/{u}",
        good_repo,
        st.one_of(st.just(UPLOAD_ID), upload_id),
    ),
    _route(["POST"], lambda r: f"/v2/{r}/blobs/uploads/", good_repo),
    _route(["GET"], lambda r: f"/v2/{r}/tags/list", good_repo),
    _route(["GET"], lambda r, d: f"/v2/{r}/referrers/{d}", good_repo, good_digest),
    _route(["GET"], lambda: "/v2/_catalog"),
    # ... then anything anywhere.
    st.tuples(method, st.one_of(hostile_path, st.builds(lambda r, d: f"/v2/{r}/blobs/{d}", good_repo, digest_like))),
)
headers = st.fixed_dictionaries(
    {},
    optional={
        "Range": st.one_of(st.sampled_from(RANGES), text),
        "Content-Range": st.one_of(st.sampled_from(CONTENT_RANGES), text),
        "Content-Type": st.one_of(st.sampled_from(CONTENT_TYPES), text),
        "Accept": st.lists(st.one_of(st.sampled_from(ACCEPTS), text), min_size=1, max_size=3),
        "Transfer-Encoding": st.sampled_from(["chunked", "gzip", "identity"]),
        "Expect": st.just("100-continue"),
    },
)
bodies = st.one_of(
    st.sampled_from(BODIES),
    st.binary(max_size=2000),
    st.text(max_size=200).map(str.encode),
    st.integers(1, 300).map(lambda k: b"x" * (k * 1024)),  # large
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "schemaVersion",
                        "mediaType",
                        "config",
                        "layers",
                        "manifests",
                        "subject",
                        "digest",
                        "size",
                        "annotations",
                        "artifactType",
                    ]
                ),
                inner,
                max_size=5,
            )
        ),
        max_leaves=15,
    ).map(lambda doc: json.dumps(doc).encode()),
)


class _Errors(logging.Handler):
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


@pytest.fixture
def logged_errors() -> Iterator[_Errors]:
    """ERROR records of the registry's loggers during one test (for a hypothesis test: all its examples)."""
    handler = _Errors()
    logger = logging.getLogger("pytest_ociregistry")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def seeded_app(**options: Any) -> RegistryApp:
    store = Store()
    store.put_blob("foo", [b"hello"], DIGEST_A)
    store.put_manifest("foo", "latest", MANIFEST_A, OCI_MANIFEST)
    store.start_upload("foo", UPLOAD_ID)
    store.put_blob("foo/bar", [b"hello"], DIGEST_A)
    store.options = store.options.replace(**options)
    return RegistryApp(store)


def call(
    app: RegistryApp,
    method: str,
    target: str,
    headers: dict[str, Any] | None = None,
    body: bytes = b"",
) -> tuple[int, dict[str, str], bytes] | None:
    """One request through the WSGI app; None when the request cannot be expressed as a WSGI environ."""
    target, _, query = target.partition("?")
    header_list: list[tuple[str, str]] = []
    for name, value in (headers or {}).items():
        for v in value if isinstance(value, list) else [value]:
            header_list.append((name, v))
    try:
        builder = EnvironBuilder(path=target, method=method, query_string=query, headers=header_list, data=body)
        environ = builder.get_environ()
    except (ValueError, UnicodeError, TypeError):
        return None
    FIGURES.add("requests")
    app_iter, status, response_headers = run_wsgi_app(app, environ, buffered=True)
    return int(status.split()[0]), dict(response_headers), b"".join(app_iter)


def check_answer(method: str, request_headers: dict[str, Any], answer: tuple[int, dict[str, str], bytes]) -> None:
    """A success, or a well-formed OCI error; a 500 only as the reference's pinned ``invalid range``."""
    status, response_headers, body = answer
    assert b"Traceback" not in body and b"Traceback" not in json.dumps(response_headers).encode()
    assert status in (200, 201, 202, 204, 206) or 400 <= status < 600, status
    if method.upper() == "HEAD":
        assert body == b""
        assert status != 500
        return
    if status >= 400:
        error = assert_oci_error(status, body)
        assert response_headers.get("Content-Type") == "application/json"
        if status >= 500:
            assert "Range" in request_headers and error["code"] == "UNKNOWN", (status, body)
            assert error["message"].startswith("invalid range ["), body


HYPOTHESIS = settings(
    max_examples=250 * SCALE,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,  # logged_errors collects over all the examples, as meant
    ],
)


@pytest.fixture(scope="module")
def fuzz_app() -> RegistryApp:
    return seeded_app()


@given(line=requests_line, query=st.one_of(st.sampled_from(QUERIES), text), request_headers=headers, body=bodies)
@HYPOTHESIS
def test_fuzz_any_request(
    fuzz_app: RegistryApp,
    logged_errors: _Errors,
    line: tuple[str, str],
    query: str,
    request_headers: dict[str, Any],
    body: bytes,
) -> None:
    FIGURES.add("inputs")
    method, target = line
    store = fuzz_app.store  # state carries over between examples; the seed comes back if a DELETE took it
    store.put_blob("foo", [b"hello"], DIGEST_A)
    if not store.has_repository("foo") or MANIFEST_A_DIGEST not in store._repos["foo"].manifests:
        store.put_manifest("foo", "latest", MANIFEST_A, OCI_MANIFEST)
    answer = call(fuzz_app, method, f"{target}?{query}" if query else target, request_headers, body)
    assume(answer is not None)
    assert answer is not None
    check_answer(method, request_headers, answer)
    assert not logged_errors.records, logged_errors.records[0].getMessage()
    check_invariants(fuzz_app.store)


upload_step = st.tuples(
    st.sampled_from(["PATCH", "PATCH", "PUT", "GET", "DELETE"]),
    st.one_of(st.none(), st.sampled_from(CONTENT_RANGES), text),
    st.one_of(st.sampled_from([b"", b"hello", b"x" * 70_000]), st.binary(max_size=300)),
    st.one_of(st.sampled_from([DIGEST_A, "sha256:" + "0" * 64, "", "bad"]), st.none()),
)


def option_sets(**choices: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Any subset of these options (those the registry has: option names change as it grows)."""
    known = {f.name for f in dataclasses.fields(Options)}
    return st.fixed_dictionaries({}, optional={k: v for k, v in choices.items() if k in known})


UPLOAD_OPTIONS = option_sets(
    strict_upload_ids=st.booleans(), require_content_range=st.booleans(), strict_uploads=st.booleans()
)


@given(steps=st.lists(upload_step, min_size=1, max_size=5), options=UPLOAD_OPTIONS, fresh=st.booleans())
@HYPOTHESIS
def test_fuzz_upload_sessions(logged_errors: _Errors, steps: list[Any], options: dict[str, Any], fresh: bool) -> None:
    """Random sequences of PATCH/PUT/GET/DELETE on one upload with random Content-Range, bodies and digests.

    The upload's size always equals the bytes the answers say were accepted, and a 201 stores exactly the bytes
    sent, under their digest."""
    FIGURES.add("inputs")
    app = seeded_app(**options)
    if fresh:
        status, response_headers, _ = call(app, "POST", "/v2/foo/blobs/uploads/")  # type: ignore[misc]
        location = response_headers["Location"]
    else:
        location = f"/v2/foo/blobs/uploads/{UPLOAD_ID}"
    sent = b""
    for method, content_range, body, digest in steps:
        request_headers = {} if content_range is None else {"Content-Range": content_range}
        target = location if method != "PUT" or digest is None else f"{location}?digest={digest}"
        answer = call(app, method, target, request_headers, body)
        if answer is None:
            continue
        check_answer(method, request_headers, answer)
        status, response_headers, _ = answer
        if method == "PATCH" and status == 202:
            sent += body
            assert response_headers["Range"] == f"0-{max(len(sent) - 1, 0)}"
        elif method == "PUT" and status == 201:
            sent += body
            assert digest == digest_of(sent)
            assert bytes(app.store.get_blob("foo", digest).data) == sent
            sent = b""
        elif method == "DELETE" and status == 204:
            sent = b""
        check_invariants(app.store)
    assert not logged_errors.records, logged_errors.records[0].getMessage()


@given(
    ref=st.one_of(st.sampled_from(["v1", "latest", "t" * 128, "t" * 129, "-x", DIGEST_A, MANIFEST_A_DIGEST]), text),
    content_type=st.one_of(st.sampled_from(CONTENT_TYPES), text),
    body=bodies,
    accept=st.lists(st.one_of(st.sampled_from(ACCEPTS), text), max_size=3),
    options=option_sets(
        validate_manifests=st.booleans(),
        check_references=st.booleans(),
        accept_check=st.booleans(),
        distribution_accept=st.booleans(),
        max_manifest_size=st.sampled_from([None, 10, 1024]),
    ),
)
@HYPOTHESIS
def test_fuzz_manifest_pushes(
    logged_errors: _Errors, ref: str, content_type: str, body: bytes, accept: list[str], options: dict[str, Any]
) -> None:
    """Random manifest bodies and types: a 201 stores the exact bytes under their digest, readable back."""
    FIGURES.add("inputs")
    app = seeded_app(**options)
    request_headers = {"Content-Type": content_type} if content_type else {}
    answer = call(app, "PUT", f"/v2/foo/manifests/{ref}", request_headers, body)
    assume(answer is not None)
    assert answer is not None
    check_answer("PUT", request_headers, answer)
    status, response_headers, _ = answer
    if status == 201:
        digest = response_headers["Docker-Content-Digest"]
        assert digest == digest_of(body, digest.partition(":")[0])
        got = call(app, "GET", f"/v2/foo/manifests/{digest}", {"Accept": accept} if accept else {})
        if got is None:  # an Accept value no WSGI environ can carry (a newline): read it back without
            got = call(app, "GET", f"/v2/foo/manifests/{digest}")
        assert got is not None
        check_answer("GET", {}, got)
        if got[0] == 200:
            assert got[2] == body
    check_invariants(app.store)
    assert not logged_errors.records, logged_errors.records[0].getMessage()


@pytest.mark.parametrize(
    "media_type, body",
    [
        (OCI_MANIFEST, b"[" * 1000 + b"]" * 1000),
        (OCI_INDEX, b'{"a":' * 5000 + b"1" + b"}" * 5000),
    ],
    ids=["manifest-1000-arrays", "index-5000-objects"],
)
def test_deeply_nested_manifest_json_is_manifest_invalid(
    oci_registry: OCIRegistry, media_type: str, body: bytes
) -> None:
    """Found by test_fuzz_manifest_pushes (OCI_STRESS_SCALE=5): never a 500. Where Python's JSON parser gives up
    (a RecursionError) the answer is 400 MANIFEST_INVALID and nothing is stored; where it parses (Python 3.13 takes
    5,000 levels of objects) the document is a JSON object the default options accept as is."""
    conn = Conn(oci_registry)
    status, _, answer = conn.request("PUT", "/v2/foo/manifests/v1", body, {"Content-Type": media_type})
    conn.close()
    print(f"\nPUT of a {len(body)}-byte nested {media_type} answered {status} {answer!r}")
    if status == 201:
        assert oci_registry.store.get_manifest("foo", "v1").data == body
    else:
        assert oci_registry.store._repos.get("foo") is None
        assert_oci_error(status, answer, code="MANIFEST_INVALID")


# --------------------------------------------------------------------------------------------------------------------
# Limits


def test_repository_names_over_255_characters_are_name_invalid(oci_registry: OCIRegistry) -> None:
    conn = Conn(oci_registry)
    longest = "/".join(["a" * 50] * 4) + "/" + "b" * 51  # 255 characters
    assert len(longest) == 255
    digest = conn.push_blob_single(longest, b"ok")
    assert conn.get(f"/v2/{longest}/blobs/{digest}") == (200, b"ok")
    for name in (longest + "f", "a" * 256, "a" * 10_000):
        for method, suffix in [
            ("GET", "tags/list"),
            ("PUT", "manifests/v1"),
            ("POST", "blobs/uploads/"),
            ("GET", f"blobs/{digest}"),
        ]:
            status, _, body = conn.request(method, f"/v2/{name}/{suffix}", b"{}" if method == "PUT" else None)
            assert_oci_error(status, body, code="NAME_INVALID")
    conn.close()
    assert oci_registry.store.repositories()[0] == [longest]


def test_tags_over_128_characters_answer_a_clean_error(oci_registry: OCIRegistry) -> None:
    """A 128-character tag works; a 129-character one answers a clean 4xx OCI error and stores nothing.

    (The code is pinned by the next test: 400 TAG_INVALID.)"""
    conn = Conn(oci_registry)
    tag = "t" * 128
    conn.push_manifest("foo", tag, b"{}", "application/json")
    assert conn.get(f"/v2/foo/manifests/{tag}") == (200, b"{}")
    for method in ("PUT", "GET", "HEAD", "DELETE"):
        status, _, body = conn.request(method, f"/v2/foo/manifests/{tag}x", b"{}" if method == "PUT" else None)
        assert 400 <= status < 500
        if method != "HEAD":
            assert_oci_error(status, body)
    assert oci_registry.store.tags("foo")[0] == [tag]
    conn.close()


def test_tags_over_128_characters_are_tag_invalid(oci_registry: OCIRegistry) -> None:
    """A PUT is refused with TAG_INVALID; a read finds nothing (404), as the OCI conformance suite requires."""
    conn = Conn(oci_registry)
    status, _, body = conn.request("PUT", f"/v2/foo/manifests/{'t' * 129}", b"{}", {"Content-Type": "a/b"})
    assert status == 400
    assert_oci_error(status, body, code="TAG_INVALID")
    for method in ("GET", "DELETE"):
        status, _, body = conn.request(method, f"/v2/foo/manifests/{'t' * 129}")
        assert status == 404
        assert_oci_error(status, body, code="UNKNOWN")
    conn.close()


TRAVERSALS = [
    "/v2/../etc",
    "/v2/../etc/passwd",
    "/v2/foo/../bar/manifests/x",
    "/v2/foo/%2e%2e/bar/manifests/x",
    "/v2/foo/%2E%2E/bar/manifests/x",
    "/v2/%2e%2e/bar/manifests/x",
    "/v2/./bar/manifests/x",
    "/v2/foo/./bar/manifests/x",
    "/v2/foo%2F..%2Fbar/manifests/x",
    "/v2/foo%2f%2e%2e%2fbar/manifests/x",
    "/v2/foo/..%2Fbar/manifests/x",
    "/v2//bar/manifests/x",
    "/v2/foo//bar/manifests/x",
    "/v2/foo/bar/..",
    "/v2/foo/manifests/../../bar/manifests/x",
    "/v2/bar/manifests/..%2Fx",
    "/v2/bar/manifests/%2e%2e",
    "/v2/bar/blobs/uploads/%2e%2e%2f%2e%2e",
]
DOT_UPLOAD_IDS = ["/v2/bar/blobs/uploads/..", "/v2/bar/blobs/uploads/.", "/v2/bar/blobs/uploads/%2e%2e"]


def test_path_traversal_reaches_no_other_repository(oci_registry: OCIRegistry) -> None:
    """Dot segments, encoded or not, never reach ``bar``'s manifest nor write anywhere; each answers a clean error.

    ``%2F`` is decoded to ``/`` before routing (as WSGI servers and the Go reference do), so ``foo%2Fbar`` names
    the repository ``foo/bar``, exactly as ``foo/bar`` does: it reaches no repository the decoded path does not name.
    """
    secret = b'{"secret":true}'
    oci_registry.push_manifest("bar", "x", secret, "application/json")
    oci_registry.push_manifest("foo", "x", b'{"foo":1}', "application/json")
    oci_registry.push_manifest("etc", "passwd", b'{"etc":1}', "application/json")
    before = {name: dict(r.manifests) for name, r in oci_registry.store._repos.items()}
    conn = Conn(oci_registry)
    for target in TRAVERSALS + DOT_UPLOAD_IDS:
        for method in ("GET", "PUT", "DELETE", "POST", "PATCH"):
            status, _, body = conn.request(method, target, b'{"evil":1}' if method in ("PUT", "PATCH") else None)
            FIGURES.add("faults")
            assert secret not in body and b'{"etc":1}' not in body, (method, target)
            assert 400 <= status < 500, (method, target, status, body)
            assert_oci_error(status, body)
    after = {name: dict(r.manifests) for name, r in oci_registry.store._repos.items()}
    assert after == before
    assert oci_registry.store.repositories()[0] == ["bar", "etc", "foo"]
    assert all(not r.blobs and not r.uploads for r in oci_registry.store._repos.values())
    # %2F: the decoded name, and only it.
    oci_registry.push_manifest("foo/bar", "x", b'{"foobar":1}', "application/json")
    assert conn.get("/v2/foo%2Fbar/manifests/x") == (200, b'{"foobar":1}')
    assert conn.get("/v2/foo%2fbar/manifests/x") == (200, b'{"foobar":1}')
    conn.close()
    check_invariants(oci_registry.store)


@pytest.mark.parametrize("target", DOT_UPLOAD_IDS)
def test_dot_segment_upload_ids_are_refused(oci_registry: OCIRegistry, target: str) -> None:
    """Found here: "." and ".." were accepted as upload ids, so PATCH /v2/bar/blobs/uploads/.. answered 202 with
    Location /v2/bar/blobs/uploads/.. (which RFC 3986 dot-segment removal turns into /v2/bar/blobs/)."""
    conn = Conn(oci_registry)
    status, headers, body = conn.request("PATCH", target, b"chunk")
    conn.close()
    print(f"\nPATCH {target} answered {status} Location={headers.get('Location')!r} {body!r}")
    assert_oci_error(status, body, code="BLOB_UPLOAD_UNKNOWN")


def test_manifests_over_the_size_cap_are_refused(oci_registry: OCIRegistry) -> None:
    oci_registry.configure(max_manifest_size=1024)
    conn = Conn(oci_registry)
    exact = b'{"a":"' + b"x" * 1016 + b'"}'
    assert len(exact) == 1024
    conn.push_manifest("foo", "exact", exact, "application/json")
    for size in (1025, 4096, 10 * MiB):
        body = b'{"a":"' + b"x" * (size - 8) + b'"}'
        status, _, answer = conn.request("PUT", "/v2/foo/manifests/big", body, {"Content-Type": "application/json"})
        assert status == 413
        assert_oci_error(status, answer, code="SIZE_INVALID")
        FIGURES.add("faults")
    assert conn.get("/v2/foo/manifests/exact") == (200, exact)
    assert oci_registry.store.tags("foo")[0] == ["exact"]
    assert len(oci_registry.store._repos["foo"].manifests) == 1
    conn.close()
    ping_fast(oci_registry)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /v2/ HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(500)) + b"\r\n",
        b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: " + b"y" * 100_000 + b"\r\n\r\n",
        b"GET /v2/" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v2/ HTTP/1.1\r\nHost: x\r\n" + b"Accept: */*\r\n" * 99 + b"\r\n",
    ],
    ids=["500-headers", "100KB-header", "100KB-request-line", "99-accept-lines"],
)
def test_a_header_flood_does_not_kill_the_server(oci_registry: OCIRegistry, request_bytes: bytes) -> None:
    def flood() -> None:
        sock = raw_socket(oci_registry)
        try:
            sock.sendall(request_bytes)
            sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server answered 431 and closed while the flood was still being sent
            pass
        answer = read_all(sock)
        sock.close()
        FIGURES.add("faults")
        if answer:
            status, _ = parse_raw(answer)
            assert status < 500 and b"Traceback" not in answer, answer[:300]

    run_threads([flood for _ in range(4 * SCALE)])
    ping_fast(oci_registry)


# --------------------------------------------------------------------------------------------------------------------
# Isolation


def test_reset_while_requests_are_in_flight(oci_registry: OCIRegistry) -> None:
    """Threads hammer GET/PUT while the main thread resets the registry over and over: no 5xx, no crash, no
    deadlock, and normal service afterwards."""
    stop = threading.Event()
    errors: list[BaseException] = []
    statuses: collections.Counter[int] = collections.Counter()
    lock = threading.Lock()

    def worker(n: int) -> Callable[[], None]:
        def run() -> None:
            try:
                hammer()
            except BaseException as e:  # noqa: BLE001 - reported by the main thread
                errors.append(e)

        def hammer() -> None:
            conn = Conn(oci_registry)
            i = 0
            while not stop.is_set():
                i += 1
                repo = f"r{n % 3}"
                config = f'{{"n":{n},"i":{i}}}'.encode()
                results = [
                    conn.request("POST", f"/v2/{repo}/blobs/uploads/?digest={digest_of(config)}", config)[0],
                    conn.request(
                        "PUT", f"/v2/{repo}/manifests/t{n}", image_manifest(config, []), {"Content-Type": OCI_MANIFEST}
                    )[0],
                    conn.request("GET", f"/v2/{repo}/manifests/t{n}")[0],
                    conn.request("GET", f"/v2/{repo}/blobs/{digest_of(config)}")[0],
                    conn.request("GET", f"/v2/{repo}/tags/list")[0],
                    conn.request("GET", "/v2/_catalog")[0],
                ]
                status, headers, _ = conn.request("POST", f"/v2/{repo}/blobs/uploads/")
                results.append(status)
                if status == 202:
                    results.append(conn.request("PATCH", headers["Location"], config)[0])
                    results.append(conn.request("PUT", f"{headers['Location']}?digest={digest_of(config)}")[0])
                with lock:
                    statuses.update(results)
            conn.close()

        return run

    threads = [threading.Thread(target=worker(n), daemon=True) for n in range(6 * SCALE)]
    for t in threads:
        t.start()
    resets = 0
    deadline = time.monotonic() + 1.5 * SCALE
    try:
        while time.monotonic() < deadline:
            oci_registry.reset()
            resets += 1
            FIGURES.add("faults")
            time.sleep(0.003)
    finally:
        stop.set()
        for t in threads:
            t.join(JOIN_TIMEOUT)
    assert not [t for t in threads if t.is_alive()], "deadlock"
    if errors:
        raise errors[0]
    assert statuses and all(s < 500 for s in statuses), statuses
    print(f"\n{resets} resets during {sum(statuses.values())} requests; statuses {dict(sorted(statuses.items()))}")
    check_invariants(oci_registry.store)
    oci_registry.reset()
    conn = Conn(oci_registry)
    digest = conn.push_blob_chunked("after", b"after reset")
    conn.push_manifest("after", "v1", image_manifest(b"after reset", []))
    assert conn.get(f"/v2/after/blobs/{digest}") == (200, b"after reset")
    assert conn.get("/v2/_catalog") == (200, b'{"repositories":["after"]}')
    conn.close()
    ping_fast(oci_registry)
    check_invariants(oci_registry.store)


def test_the_server_binds_loopback(oci_registry: OCIRegistry) -> None:
    assert oci_registry.server is not None
    assert oci_registry.server.socket.getsockname()[0] == "127.0.0.1"
