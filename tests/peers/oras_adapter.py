"""Loaded into oras-py's own test run (``-p oras_adapter``), against either registry alike.

oras-py's suite needs no Docker Hub image and no docker command: its ``registry`` fixture reads ``ORAS_HOST`` and
``ORAS_PORT`` (and ``ORAS_AUTH``, ``ORAS_USER``, ``ORAS_PASS``), which the outer test sets. Two things change:

- ``test_chunked_push`` pushes a sparse file of ``oras.defaults.default_chunksize * 1024`` bytes, 16 GiB upstream. It
  is scaled down to 8 MiB (``default_chunksize`` reads 8 KiB while the suite runs), pushed in 1 MiB chunks instead of
  16 MiB ones, so the chunked path still sends several PATCHes.
- The retry decorator's sleeps (3 to 83 s between attempts) are skipped; the attempts are kept.
"""

from __future__ import annotations

import functools
import types
from typing import Any

import pytest

UPSTREAM_CHUNK = 16 * 1024 * 1024
SCALED_CHUNK = 1024 * 1024
SCALED_DEFAULT = 8 * 1024  # test_chunked_push's file: 1024 of these, 8 MiB


def pytest_configure(config: pytest.Config) -> None:
    import oras.provider  # it imports oras.decorator and oras.defaults (importing oras.decorator first is circular)

    assert oras.defaults.default_chunksize == UPSTREAM_CHUNK, "oras-py's chunk size changed: rescale the adapter"
    oras.defaults.default_chunksize = SCALED_DEFAULT
    original = oras.provider.Registry.chunked_upload

    @functools.wraps(original)
    def chunked_upload(self: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("chunk_size", UPSTREAM_CHUNK) == UPSTREAM_CHUNK:
            kwargs["chunk_size"] = SCALED_CHUNK
        return original(self, *args, **kwargs)

    oras.provider.Registry.chunked_upload = chunked_upload  # type: ignore[method-assign]
    oras.decorator.time = types.SimpleNamespace(sleep=lambda seconds: None)  # type: ignore[attr-defined]
