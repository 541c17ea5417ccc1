"""A minimal OCI client on ``http.client`` keep-alive connections. Every pulled byte is checked against its digest."""

from __future__ import annotations

import hashlib
import http.client
import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TypeVar
from urllib.parse import urlsplit

READ_CHUNK = 1 << 20
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
_LINK = re.compile(r"<([^>]+)>\s*;\s*rel=\"?next\"?")

T = TypeVar("T")
Body = bytes | memoryview | Iterable[bytes | memoryview] | None


class BenchmarkError(AssertionError):
    """A registry answered something other than what the workload needs."""


class DigestMismatch(BenchmarkError):
    """Pulled bytes do not hash to the digest they were pulled by."""


def digest_of(data: bytes | memoryview) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Content:
    """Bytes and their digest. Pulls of it are compared byte for byte with ``data``, whose digest was computed once:
    a wrong byte fails as surely as hashing it would, without capping the pull at the client's sha256 rate."""

    data: bytes
    digest: str

    @classmethod
    def of(cls, data: bytes) -> Content:
        return cls(data, digest_of(data))

    @property
    def size(self) -> int:
        return len(self.data)


@cache
def payload(size: int, seed: int = 0) -> Content:
    """Deterministic incompressible bytes and their digest (cached: the 256 MiB blob is made and hashed once)."""
    generator = random.Random(seed)
    piece = 16 << 20  # randbytes takes at most 2**31 bits at a time
    return Content.of(b"".join(generator.randbytes(min(piece, size - at)) for at in range(0, size, piece)))


@dataclass(frozen=True)
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name, "")


def path_of(location: str) -> str:
    """The path and query of an absolute or relative Location."""
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def with_param(path: str, name: str, value: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}{name}={value}"


class Connection:
    """One persistent HTTP/1.1 connection (http.client reconnects by itself after a ``Connection: close``)."""

    def __init__(self, base_url: str, timeout: float = 300) -> None:
        parts = urlsplit(base_url)
        self.http = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def request(
        self, method: str, path: str, body: Body = None, headers: dict[str, str] | None = None, expect: int = 200
    ) -> Reply:
        response = self.open(method, path, body, headers, expect)
        return Reply(response.status, response.headers, response.read())

    def open(
        self, method: str, path: str, body: Body = None, headers: dict[str, str] | None = None, expect: int = 200
    ) -> http.client.HTTPResponse:
        """Send a request and return the response with its body still unread."""
        self.http.request(method, path, body=body, headers=headers or {})
        response = self.http.getresponse()
        if response.status != expect:
            raise BenchmarkError(f"{method} {path}: {response.status}, want {expect}: {response.read()[:300]!r}")
        return response


# Blobs -------------------------------------------------------------------------------------------------------------


def push_single(conn: Connection, repo: str, blob: Content) -> None:
    """A monolithic upload in one ``POST ?digest=``."""
    reply = conn.request("POST", f"/v2/{repo}/blobs/uploads/?digest={blob.digest}", blob.data, _octets(blob.size), 201)
    _check_created(reply, blob.digest)


def start_upload(conn: Connection, repo: str) -> str:
    reply = conn.request("POST", f"/v2/{repo}/blobs/uploads/", b"", {"Content-Length": "0"}, 202)
    return path_of(reply.header("Location"))


def cancel_upload(conn: Connection, location: str) -> None:
    """Cancel an upload (``DELETE``), to free what it holds; a registry that cannot (the Go reference answers 405)
    keeps it."""
    conn.http.request("DELETE", location)
    conn.http.getresponse().read()


def push_post_put(conn: Connection, repo: str, blob: Content, *, streamed: bool = False) -> None:
    """POST to open an upload, then one PUT with the whole body (with ``streamed``, sent from a generator)."""
    location = start_upload(conn, repo)
    body = stream(blob.data) if streamed else blob.data
    reply = conn.request("PUT", with_param(location, "digest", blob.digest), body, _octets(blob.size), 201)
    _check_created(reply, blob.digest)


def push_chunked(conn: Connection, repo: str, blob: Content, chunk_size: int) -> list[float]:
    """An upload as PATCHes of ``chunk_size`` (following each new Location), then an empty PUT; the PATCH latencies."""
    data = blob.data
    view = memoryview(data)
    location = start_upload(conn, repo)
    latencies = []
    for start in range(0, len(data), chunk_size):
        chunk = view[start : start + chunk_size]
        headers = _octets(len(chunk)) | {"Content-Range": f"{start}-{start + len(chunk) - 1}"}
        began = time.perf_counter()
        reply = conn.request("PATCH", location, chunk, headers, 202)
        latencies.append(time.perf_counter() - began)
        location = path_of(reply.header("Location"))
    reply = conn.request("PUT", with_param(location, "digest", blob.digest), b"", _octets(0), 201)
    _check_created(reply, blob.digest)
    return latencies


def push_stream(conn: Connection, repo: str, chunks: Iterable[bytes]) -> str:
    """An upload as one PATCH per chunk (bytes made on the fly: the client never holds the whole blob), then an
    empty PUT; returns the digest."""
    hasher = hashlib.sha256()
    location = start_upload(conn, repo)
    start = 0
    for chunk in chunks:
        hasher.update(chunk)
        headers = _octets(len(chunk)) | {"Content-Range": f"{start}-{start + len(chunk) - 1}"}
        location = path_of(conn.request("PATCH", location, chunk, headers, 202).header("Location"))
        start += len(chunk)
    digest = f"sha256:{hasher.hexdigest()}"
    _check_created(conn.request("PUT", with_param(location, "digest", digest), b"", _octets(0), 201), digest)
    return digest


def pull_hashed(conn: Connection, repo: str, digest: str) -> int:
    """GET a blob, hashing it as it comes (no copy kept); raise unless it matches. Returns its size."""
    response = conn.open("GET", f"/v2/{repo}/blobs/{digest}")
    hasher, view, size = hashlib.sha256(), memoryview(bytearray(READ_CHUNK)), 0
    while n := response.readinto(view):
        hasher.update(view[:n])
        size += n
    if f"sha256:{hasher.hexdigest()}" != digest:
        raise DigestMismatch(f"{repo}@{digest}: the {size} bytes pulled hash to sha256:{hasher.hexdigest()}")
    return size


def pull(conn: Connection, repo: str, blob: Content) -> None:
    """GET a blob in chunks; raise unless it is exactly the blob's bytes."""
    response = conn.open("GET", f"/v2/{repo}/blobs/{blob.digest}")
    _verify(response, blob.data, 0, len(blob.data), f"{repo}@{blob.digest}")


def pull_range(conn: Connection, repo: str, blob: Content, start: int, length: int) -> None:
    """GET ``Range: bytes=start-(start+length-1)`` of a blob; raise unless the bytes are the blob's."""
    end = start + length - 1
    response = conn.open(
        "GET", f"/v2/{repo}/blobs/{blob.digest}", headers={"Range": f"bytes={start}-{end}"}, expect=206
    )
    _verify(response, blob.data, start, length, f"{repo}@{blob.digest}[{start}:{end + 1}]")


def _verify(response: http.client.HTTPResponse, data: bytes, start: int, length: int, what: str) -> None:
    buffer = bytearray(READ_CHUNK)
    view = memoryview(buffer)
    offset = start
    while n := response.readinto(view):
        if offset + n > start + length or buffer[:n] != data[offset : offset + n]:
            raise DigestMismatch(f"{what}: bytes {offset}-{offset + n - 1} differ from the content of that digest")
        offset += n
    if offset != start + length:
        raise DigestMismatch(f"{what}: got {offset - start} bytes, want {length}")


def _octets(length: int) -> dict[str, str]:
    return {"Content-Type": "application/octet-stream", "Content-Length": str(length)}


def _check_created(reply: Reply, digest: str) -> None:
    got = reply.header("Docker-Content-Digest")
    if got and got != digest:
        raise DigestMismatch(f"registry stored {got}, want {digest}")


def stream(data: bytes, chunk: int = READ_CHUNK) -> Iterator[memoryview]:
    """A body as a generator of chunks, so the client never hands http.client the whole blob."""
    view = memoryview(data)
    for start in range(0, len(data), chunk):
        yield view[start : start + chunk]


# Manifests and listings ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    """A config blob and an OCI manifest that names it: the smallest image distribution accepts."""

    config: bytes
    manifest: bytes

    @property
    def config_digest(self) -> str:
        return digest_of(self.config)

    @property
    def digest(self) -> str:
        return digest_of(self.manifest)


def make_image() -> Image:
    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": digest_of(config), "size": len(config)},
        "layers": [],
    }
    return Image(config, json.dumps(manifest, separators=(",", ":")).encode())


def push_image(conn: Connection, repo: str, image: Image, tags: Sequence[str] = ("latest",)) -> None:
    push_post_put(conn, repo, Content.of(image.config))
    for tag in tags:
        put_manifest(conn, repo, tag, image)


def mount_image(conn: Connection, repo: str, source: str, image: Image) -> None:
    """Mount ``image``'s config from ``source`` and tag the manifest ``latest`` in ``repo``."""
    conn.request("POST", f"/v2/{repo}/blobs/uploads/?mount={image.config_digest}&from={source}", b"", None, 201)
    put_manifest(conn, repo, "latest", image)


def put_manifest(conn: Connection, repo: str, reference: str, image: Image) -> None:
    headers = {"Content-Type": OCI_MANIFEST, "Content-Length": str(len(image.manifest))}
    reply = conn.request("PUT", f"/v2/{repo}/manifests/{reference}", image.manifest, headers, 201)
    _check_created(reply, image.digest)


def get_manifest(conn: Connection, repo: str, reference: str, digest: str) -> None:
    reply = conn.request("GET", f"/v2/{repo}/manifests/{reference}", headers={"Accept": OCI_MANIFEST})
    if digest_of(reply.body) != digest:
        raise DigestMismatch(f"manifest {repo}:{reference} does not hash to {digest}")


def head_manifest(conn: Connection, repo: str, reference: str, digest: str) -> None:
    reply = conn.request("HEAD", f"/v2/{repo}/manifests/{reference}", headers={"Accept": OCI_MANIFEST})
    if reply.header("Docker-Content-Digest") not in ("", digest):
        raise DigestMismatch(f"HEAD {repo}:{reference}: {reply.header('Docker-Content-Digest')}, want {digest}")


def list_pages(conn: Connection, path: str, key: str, *, follow: bool = True) -> tuple[list[str], int]:
    """GET a listing and every page its ``Link`` headers lead to (only the first with ``follow=False``): all the
    items, and how many pages."""
    items: list[str] = []
    pages = 0
    next_path: str | None = path
    while next_path is not None:
        reply = conn.request("GET", next_path)
        items.extend(json.loads(reply.body)[key] or [])
        pages += 1
        link = _LINK.search(reply.header("Link")) if follow else None
        next_path = path_of(link[1]) if link else None
    return items, pages


# Many connections at once -------------------------------------------------------------------------------------------


def on_threads(base_url: str, jobs: Sequence[Sequence[T]], work: Callable[[Connection, T], object]) -> float:
    """Run ``work`` over each list in ``jobs`` on its own thread and connection, all started together; seconds taken.

    Connections are opened (and used once, by ``work`` on nothing) before the clock starts. A failure in any thread
    is raised here.
    """
    barrier = threading.Barrier(len(jobs) + 1)
    errors: list[BaseException] = []

    def worker(items: Sequence[T]) -> None:
        with Connection(base_url) as conn:
            try:
                conn.request("GET", "/v2/")  # connect before the clock starts
                barrier.wait()
                for item in items:
                    work(conn, item)
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
                errors.append(e)
                barrier.abort()

    threads = [threading.Thread(target=worker, args=(items,), daemon=True) for items in jobs]
    for thread in threads:
        thread.start()
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed


def requests_per_second(base_url: str, threads: int, seconds: float, work: Callable[[Connection], object]) -> float:
    """Requests per second that ``threads`` keep-alive connections complete, each looping ``work`` for ``seconds``."""
    counts = [0] * threads

    def loop(conn: Connection, index: int) -> None:
        end = time.perf_counter() + seconds  # each thread starts its clock as it leaves the barrier
        n = 0
        while time.perf_counter() < end:
            work(conn)
            n += 1
        counts[index] = n

    elapsed = on_threads(base_url, [[i] for i in range(threads)], loop)
    return sum(counts) / elapsed
