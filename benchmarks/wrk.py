"""wrk (Debian's ``wrk``), a load generator written in C, for small requests: its own cost per request is a few
microseconds, so the rates it measures are the servers' alone, where the benchmark's Python client (the issue's
measure) adds its own parsing of every answer. Optional: the ``wrk`` group is skipped without it on PATH.

wrk 4.1 cannot measure ``HEAD`` against an answer with a ``Content-Length`` (its parser waits for that body), so
the group measures ping and manifest ``GET``."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping

from .client import BenchmarkError

BINARY = "wrk"


def binary() -> str | None:
    return shutil.which(BINARY)


def missing() -> str | None:
    """Why wrk is not available, or None when it is."""
    return None if binary() is not None else f"{BINARY} is not on PATH (Debian: apt-get install wrk)"


def requests_per_second(url: str, connections: int, seconds: float, headers: Mapping[str, str]) -> float:
    """What one wrk thread keeping ``connections`` connections busy for ``seconds`` (whole, at least one) measures
    against ``url``; an answer other than 2xx or 3xx, or a socket error, fails the run."""
    path = binary()
    if path is None:
        raise FileNotFoundError(missing())
    argv = [path, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    out = subprocess.run([*argv, url], capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    rate = re.search(r"^Requests/sec:\s+([\d.]+)$", out, re.MULTILINE)
    if rate is None or "Non-2xx" in out or "Socket errors" in out:
        raise BenchmarkError(f"wrk {url}: {out}")
    return float(rate[1])
