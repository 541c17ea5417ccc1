"""The servers under test, started lazily and shared by the workloads of a run.

``ours`` is the fixture in this process (how tests use it: client and server share the GIL); ``ours-proc`` is
``python -m pytest_ociregistry`` in its own process (as distribution runs), for a like-for-like comparison.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager

from pytest_ociregistry import OCIRegistry

from . import distribution
from .client import BenchmarkError
from .serving import Server, stop, wait_ready

OURS = "ours"
OURS_PROC = "ours-proc"
DIST_MEM = "dist-mem"
DIST_FS = "dist-fs"


@contextmanager
def ours() -> Iterator[Server]:
    registry = OCIRegistry()
    registry.start()
    try:
        yield Server(OURS, registry.url, reset=registry.reset)
    finally:
        registry.stop()


@contextmanager
def ours_process() -> Iterator[Server]:
    """``python -m pytest_ociregistry --port 0``: its first stdout line is its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest_ociregistry", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://"):
            raise BenchmarkError(f"python -m pytest_ociregistry printed {url!r}, not its URL")
        wait_ready(url, proc)
        yield Server(OURS_PROC, url, pid=proc.pid)
    finally:
        stop(proc)


def starter(name: str) -> Callable[[], AbstractContextManager[Server]]:
    if name == OURS:
        return ours
    if name == OURS_PROC:
        return ours_process
    if name == DIST_MEM:
        return lambda: distribution.serve("inmemory", DIST_MEM)
    if name == DIST_FS:
        return lambda: distribution.serve("filesystem", DIST_FS)
    raise KeyError(name)


def registry_names() -> list[str]:
    """Every registry server available here."""
    return [OURS, OURS_PROC] + ([DIST_MEM, DIST_FS] if distribution.available() else [])


class Pool:
    """Registry servers started on first use and stopped together."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._servers: dict[str, Server] = {}

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def get(self, name: str) -> Server:
        if name not in self._servers:
            self._servers[name] = self._stack.enter_context(starter(name)())
        return self._servers[name]

    def reset_all(self) -> None:
        """Empty every started server that can be emptied in place."""
        for server in self._servers.values():
            server.reset()

    def all(self) -> list[Server]:
        return [self.get(name) for name in registry_names()]
