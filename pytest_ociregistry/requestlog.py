"""What the server saw: one record per request, in order, with no bodies held."""

from __future__ import annotations

import collections
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

# Request headers worth seeing when a test fails; bodies are never kept.
KEPT_HEADERS = ("Content-Type", "Content-Length", "Content-Range", "Range", "Accept", "Transfer-Encoding")


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request the server answered."""

    method: str
    path: str
    query: str
    status: int
    error: str | None = None
    """The OCI error code of the answer, if it was an error."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """The request headers that matter (see ``KEPT_HEADERS``)."""
    body_size: int = 0
    """How many request-body bytes the server read."""
    identity: str | None = None
    """Who made the request, when auth is on (``anonymous`` or a user name)."""
    fault: str | None = None
    """The injected fault that answered, if any."""
    handler: str = "registry"
    """Who answered: ``registry``, ``user`` (a pytest-httpserver expectation), ``fault``, or ``http`` (the HTTP layer,
    for a request it could not parse or serve, such as plain HTTP on the TLS port)."""

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    def __str__(self) -> str:
        outcome = f"{self.status} {self.error}" if self.error else str(self.status)
        extras = [f"by {self.identity}"] if self.identity else []
        extras += [f"fault: {self.fault}"] if self.fault else []
        extras += ["user handler"] if self.handler == "user" else []
        extras += ["refused by the HTTP layer"] if self.handler == "http" else []
        suffix = f" ({', '.join(extras)})" if extras else ""
        return f"{self.method} {self.target} → {outcome}{suffix}"


class RequestLog:
    """A thread-safe, append-only list of :class:`RequestRecord`, keeping the last ``limit`` (a long-running
    server's log does not grow without end; a test's is emptied by ``reset()``)."""

    def __init__(self, limit: int = 100_000) -> None:
        # RequestRecords, or the fields of one as a tuple (``add``), made a RequestRecord when read: most never are
        self._records: collections.deque[RequestRecord | tuple[Any, ...]] = collections.deque(maxlen=limit)
        self._lock = threading.Lock()

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def add(self, *fields: Any) -> None:
        """Append the record of these fields (``RequestRecord``'s, in order), made only when it is read."""
        with self._lock:
            self._records.append(fields)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, index: int) -> RequestRecord:
        return _made(self._records[index])

    def snapshot(self) -> list[RequestRecord]:
        with self._lock:
            return [_made(record) for record in self._records]

    def matching(self, method: str | None = None, path: str | re.Pattern[str] | None = None) -> list[RequestRecord]:
        """The records with this method (any when None) and path (exact, or a regex that must match it whole)."""
        return [r for r in self.snapshot() if _matches(r, method, path)]

    def format(self) -> str:
        """One line a request, numbered."""
        return "\n".join(f"{i:4}. {record}" for i, record in enumerate(self.snapshot(), 1)) or "(no requests)"

    def assert_requested(
        self, method: str | None, path: str | re.Pattern[str], count: int | None = None, *, status: int | None = None
    ) -> list[RequestRecord]:
        """Assert that a request was made (``count`` times exactly, if given; with ``status``, if given).

        The failure message lists every request the server saw instead.
        """
        found = [r for r in self.matching(method, path) if status is None or r.status == status]
        if (count is None and not found) or (count is not None and len(found) != count):
            wanted = f"{method or '*'} {getattr(path, 'pattern', path)}" + (f" → {status}" if status else "")
            times = "at least once" if count is None else f"{count} time(s)"
            raise AssertionError(
                f"expected {wanted} {times}, found {len(found)}; the registry saw:\n{self.format()}"
            )
        return found


def _made(record: RequestRecord | tuple[Any, ...]) -> RequestRecord:
    return RequestRecord(*record) if type(record) is tuple else record  # type: ignore[return-value]


def _matches(record: RequestRecord, method: str | None, path: str | re.Pattern[str] | None) -> bool:
    if method is not None and record.method != method.upper():
        return False
    if path is None:
        return True
    if isinstance(path, re.Pattern):
        return path.fullmatch(record.path) is not None
    return record.path == path
