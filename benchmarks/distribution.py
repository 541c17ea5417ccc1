"""CNCF distribution (``docker-registry``, 2.8) on a free loopback port, with in-memory or filesystem storage."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .serving import Server, free_port, spawned

BINARY = "docker-registry"
INMEMORY_MAX_BLOB = 1 << 20
"""The in-memory driver copies the whole file on every write (a 64 MiB upload takes about a minute, 4 MiB blobs
run at ~20 MB/s): beyond 1 MiB it measures that, not the registry."""


def available() -> bool:
    return shutil.which(BINARY) is not None


def config(storage: str, root: Path, port: int) -> dict[str, object]:
    """A registry config (YAML is a superset of JSON): loopback, delete enabled, errors only."""
    driver: dict[str, object] = (
        {"inmemory": {}} if storage == "inmemory" else {"filesystem": {"rootdirectory": str(root)}}
    )
    return {
        "version": 0.1,
        "log": {"level": "error", "accesslog": {"disabled": True}},
        "storage": {**driver, "delete": {"enabled": True}, "maintenance": {"uploadpurging": {"enabled": False}}},
        "http": {"addr": f"127.0.0.1:{port}"},
    }


@contextmanager
def serve(storage: str, name: str) -> Iterator[Server]:
    binary = shutil.which(BINARY)
    if binary is None:
        raise FileNotFoundError(BINARY)
    with tempfile.TemporaryDirectory(prefix="bench-distribution-") as tmp:
        root = Path(tmp)
        port = free_port()
        path = root / "config.yml"
        path.write_text(json.dumps(config(storage, root / "data", port)))
        max_blob = INMEMORY_MAX_BLOB if storage == "inmemory" else None
        with open(root / "log.txt", "wb") as log, spawned([binary, "serve", str(path)], port, log) as (url, pid):
            yield Server(
                name, url, pid=pid, single_post=False, paginated_tags=False, max_blob=max_blob, slow_patches=True
            )
