"""cue-labs' Go registry (``ociserver.New(ocimem.New(), nil)``, cuelabs.dev/go/oci/ociregistry) on a free loopback
port: the issue's reference implementation. Optional: ``OCI_BENCH_CUE`` names a binary serving it on ``--port``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from .serving import Server, free_port, spawned

ENV = "OCI_BENCH_CUE"


def binary() -> str | None:
    """The executable ``OCI_BENCH_CUE`` names, if it names one."""
    path = os.environ.get(ENV)
    return path if path and os.access(path, os.X_OK) else None


def missing() -> str | None:
    """Why the server is not available, or None when it is."""
    if binary() is not None:
        return None
    path = os.environ.get(ENV)
    return f"{ENV}={path} is not an executable" if path else f"{ENV} is not set"


@contextmanager
def serve(name: str) -> Iterator[Server]:
    path = binary()
    if path is None:
        raise FileNotFoundError(missing())
    port = free_port()
    with spawned([path, "--port", str(port)], port) as (url, pid):
        yield Server(name, url, pid=pid)
