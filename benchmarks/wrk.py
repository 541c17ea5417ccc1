"""wrk (Debian's ``wrk``), a load generator written in C, for small requests: its own cost per request is a few
microseconds, so the rates it measures are the servers' alone, where the benchmark's Python client (the issue's
measure) adds its own parsing of every answer. Optional: the ``wrk`` group is skipped without it on PATH.

wrk 4.1 cannot measure ``HEAD`` against an answer with a ``Content-Length`` (its parser waits for that body), so
the group measures ping and manifest ``GET``, and a chunked upload's PATCHes (:data:`CHUNKS`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from .client import BenchmarkError
from .stats import MB

BINARY = "wrk"


def binary() -> str | None:
    return shutil.which(BINARY)


def missing() -> str | None:
    """Why wrk is not available, or None when it is."""
    return None if binary() is not None else f"{BINARY} is not on PATH (Debian: apt-get install wrk)"


def requests_per_second(url: str, connections: int, seconds: float, headers: Mapping[str, str]) -> float:
    """What one wrk thread keeping ``connections`` connections busy for ``seconds`` (whole, at least one) measures
    against ``url``; an answer other than 2xx or 3xx, or a socket error, fails the run."""
    argv = [f"-c{connections}"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    return _run(argv, url, seconds, {})


CHUNKS = """\
-- PATCHes of WRK_CHUNK bytes in order on one connection, each to the Location the last one was answered with and
-- its Content-Range where that one ended (wrk builds one request before the run, never sent: the range moves on a
-- 202, not on building a request)
local size = tonumber(os.getenv("WRK_CHUNK"))
local body = string.rep("x", size)
local offset = 0
local path = nil
request = function()
  local range = offset .. "-" .. (offset + size - 1)
  return wrk.format("PATCH", path, {["Content-Type"] = "application/octet-stream", ["Content-Range"] = range}, body)
end
response = function(status, headers, body)
  if status == 202 then
    offset = offset + size
    path = (string.gsub(headers["Location"], "^https?://[^/]+", ""))
  end
end
"""


def chunk_rate(url: str, size: int, seconds: float) -> float:
    """MB/s of ``size``-byte PATCHes to the upload at ``url``, in order on one connection for ``seconds`` (a chunked
    upload is sequential); a refused chunk fails the run."""
    with tempfile.TemporaryDirectory() as scratch:
        script = Path(scratch, "chunks.lua")
        script.write_text(CHUNKS, encoding="utf-8")
        return _run(["-c1", "-s", str(script)], url, seconds, {"WRK_CHUNK": str(size)}) * size / MB


def _run(options: list[str], url: str, seconds: float, env: Mapping[str, str]) -> float:
    """Requests per second from one wrk thread with ``options`` for ``seconds`` (whole, at least one)."""
    path = binary()
    if path is None:
        raise FileNotFoundError(missing())
    argv = [path, "-t1", *options, f"-d{max(1, round(seconds))}s", url]
    out = subprocess.run(
        argv, capture_output=True, text=True, check=True, timeout=seconds + 60, env={**os.environ, **env}
    ).stdout
    rate = re.search(r"^Requests/sec:\s+([\d.]+)$", out, re.MULTILINE)
    if rate is None or "Non-2xx" in out or "Socket errors" in out:
        raise BenchmarkError(f"wrk {url}: {out}")
    return float(rate[1])
