"""A server under test, and the helpers for the ones that run in their own process."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from .client import BenchmarkError, Connection


@dataclass(frozen=True)
class Server:
    name: str
    url: str
    pid: int | None = None
    """The server's own process, when it has one (for its memory)."""
    single_post: bool = True
    """Whether ``POST ?digest=`` with a body completes an upload (distribution 2.8 ignores the body)."""
    paginated_tags: bool = True
    """Whether tags/list honours ``n`` (distribution 2.8 always returns every tag)."""
    max_blob: int | None = None
    """The largest blob worth pushing to it (distribution's in-memory driver is quadratic in the blob size)."""
    slow_patches: bool = False
    """Whether each PATCH costs it ~10 ms (distribution): its chunked uploads are cut to ``Config.slow_patches``."""
    reset: Callable[[], None] = lambda: None
    """Empty the server, where that is possible without restarting it."""


def fits(server: Server, size: int) -> bool:
    """Whether ``server`` takes blobs of ``size`` in reasonable time; prints why not when it does not."""
    if server.max_blob is None or size <= server.max_blob:
        return True
    print(f"  ({server.name}: skipped above {server.max_blob >> 20} MiB, its storage is quadratic in the blob size)")
    return False


def wait_ready(url: str, proc: subprocess.Popen[str] | subprocess.Popen[bytes] | None, timeout: float = 10) -> None:
    """Poll ``GET /v2/`` until it answers 200."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise BenchmarkError(f"{url}: the server exited with {proc.returncode}")
        try:
            with Connection(url, timeout=1) as conn:
                conn.request("GET", "/v2/")
            return
        except (OSError, BenchmarkError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def spawned(argv: Sequence[str], port: int, log: IO[bytes] | None = None) -> Iterator[tuple[str, int]]:
    """Run ``argv``, which serves on 127.0.0.1:``port``, until it answers ``GET /v2/``; yield its URL and pid, and
    stop it on exit. Its output goes to ``log``; without one, its stdout is dropped and its stderr is left on ours."""
    if log is None:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    else:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc)
        yield url, proc.pid
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def peak_rss(pid: int) -> int:
    """The process's peak resident set size (VmHWM), in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise BenchmarkError(f"no VmHWM for process {pid}")
