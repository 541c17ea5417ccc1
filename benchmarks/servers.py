"""The servers under test, started lazily and shared by the workloads of a run.

``ours`` is the fixture in this process (how tests use it: client and server share the GIL); ``ours-proc`` is
``python -m pytest_ociregistry`` in its own process (as distribution runs), for a like-for-like comparison. ``cue``
(the issue's Go reference) and distribution run when they are installed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager

from pytest_ociregistry import OCIRegistry

from . import cue, distribution
from .serving import Server, free_port, spawned

OURS = "ours"
OURS_PROC = "ours-proc"
DIST_MEM = "dist-mem"
DIST_FS = "dist-fs"
CUE = "cue"


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
    """``python -m pytest_ociregistry``, on a free port like the other servers in their own process."""
    port = free_port()
    with spawned([sys.executable, "-m", "pytest_ociregistry", "--port", str(port)], port) as (url, pid):
        yield Server(OURS_PROC, url, pid=pid)


def starter(name: str) -> Callable[[], AbstractContextManager[Server]]:
    if name == OURS:
        return ours
    if name == OURS_PROC:
        return ours_process
    if name == DIST_MEM:
        return lambda: distribution.serve("inmemory", DIST_MEM)
    if name == DIST_FS:
        return lambda: distribution.serve("filesystem", DIST_FS)
    if name == CUE:
        return lambda: cue.serve(CUE)
    raise KeyError(name)


def registry_names() -> list[str]:
    """Every registry server available here."""
    names = [OURS, OURS_PROC]
    if distribution.available():
        names += [DIST_MEM, DIST_FS]
    if cue.binary() is not None:
        names.append(CUE)
    return names


def skipped() -> list[str]:
    """Why each optional server missing from :func:`registry_names` is."""
    notes = []
    if not distribution.available():
        notes.append(f"{DIST_MEM}, {DIST_FS}: skipped, {distribution.BINARY} is not on PATH")
    if (why := cue.missing()) is not None:
        notes.append(f"{CUE}: skipped, {why} (a binary serving ociserver.New(ocimem.New(), nil) on --port)")
    return notes


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
