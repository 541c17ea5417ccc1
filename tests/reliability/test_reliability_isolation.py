"""Isolation: ``reset()`` while requests are in flight crashes nothing; the server binds loopback only."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable

from reliability_support import (
    FIGURES,
    JOIN_TIMEOUT,
    SCALE,
    Conn,
    check_invariants,
    image_manifest,
    ping_fast,
)

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.manifest import OCI_MANIFEST
from pytest_ociregistry.names import digest_of

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
