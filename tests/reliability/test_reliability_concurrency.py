"""Concurrency: many threads pushing and pulling over the real socket at once (same repository, different
repositories, the same blob, the same tag, the same upload id) lose nothing, corrupt nothing, and never deadlock."""

from __future__ import annotations

import collections
import json
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from reliability_support import (
    FIGURES,
    SCALE,
    Conn,
    check_invariants,
    image_manifest,
    parse_raw,
    raw_socket,
    read_all_until_response,
    run_threads,
    wait_until,
)

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.names import digest_of

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
