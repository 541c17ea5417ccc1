"""Rate limits as hosted registries count and answer them: which requests use up the budget, the headers that show
it, and the 429 each service sends once it is spent (the ``rate_limit`` options).

Docker Hub's pull limit counts manifest GETs only (a HEAD is free) and shows the budget on every manifest answer in
lower-case ``ratelimit-*`` headers; its abuse limit, GHCR's and ECR's count every request and send no such headers.
One budget per registry, in fixed windows: the first counted request opens a window of ``rate_limit_window``
seconds, and the budget is whole again when it ends, or at ``OCIRegistry.reset()``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from werkzeug.wrappers import Request, Response

from .errors import ErrorCode, error_body
from .options import Options
from .routes import Kind, Route

_HUB_MORE = "https://www.docker.com/increase-rate-limit"


@dataclass(frozen=True)
class _Style:
    """How one service counts and refuses."""

    manifest_gets_only: bool  # Docker Hub's pull limit: only manifest GETs count
    headers: bool  # ratelimit-limit, ratelimit-remaining, docker-ratelimit-source on manifest GET and HEAD
    refusal: Callable[[float], tuple[bytes, str]]  # seconds until the window ends -> body and Content-Type


def _json(message: str) -> Callable[[float], tuple[bytes, str]]:
    return lambda _: (error_body(ErrorCode.TOOMANYREQUESTS, message), "application/json")


def go_duration(seconds: float) -> str:
    """``seconds`` as Go prints a ``time.Duration``: ``1.16676ms``, ``880.092µs``, ``2.5s``, ``1m30s``."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3f}".rstrip("0").rstrip(".") + "µs"
    if seconds < 1:
        return f"{seconds * 1e3:.6f}".rstrip("0").rstrip(".") + "ms"
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    text = f"{rest:.9f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    return f"{minutes}m{text}" if minutes else text


def _ghcr(limit: int, window: float) -> Callable[[float], tuple[bytes, str]]:
    per = "minute" if window == 60 else go_duration(window)
    return lambda left: _json(f"retry-after: {go_duration(left)}, allowed: {limit}/{per}")(left)


def _style(options: Options) -> _Style:
    name = options.rate_limit_style
    limit = options.rate_limit or 0
    if name == "dockerhub":
        upgrade = "You may increase the limit by authenticating and upgrading"
        return _Style(True, True, _json(f"You have reached your pull rate limit. {upgrade}: {_HUB_MORE}"))
    if name == "dockerhub_unauthenticated":
        return _Style(True, True, _json(f"You have reached your unauthenticated pull rate limit. {_HUB_MORE}"))
    if name == "dockerhub_hap429":
        return _Style(False, False, lambda _: (b"Too Many Requests (HAP429).\n", "text/plain; charset=utf-8"))
    if name == "ghcr":
        return _Style(False, False, _ghcr(limit, options.rate_limit_window))
    return _Style(False, False, _json("Rate exceeded"))  # ecr


class RateLimited(Exception):
    """The budget is spent: :meth:`response` is the service's 429."""

    def __init__(self, response: Response) -> None:
        super().__init__("rate limit exceeded")
        self.response = response


class RateLimits:
    """One registry's budget. :meth:`take` counts a request and says what to answer; :meth:`reset` refills it."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._used = 0
        self._opened: float | None = None

    def reset(self) -> None:
        """The whole budget again, and no window open."""
        with self._lock:
            self._used, self._opened = 0, None

    def take(self, options: Options, request: Request, route: Route) -> list[tuple[str, str]]:
        """Count ``request`` if it counts under ``options``; return the headers its answer carries, or raise
        :class:`RateLimited` (with those headers) when the budget was already spent."""
        limit = options.rate_limit
        if limit is None:
            return []
        style = _style(options)
        window = options.rate_limit_window
        counts = route.kind is Kind.MANIFEST_GET or not style.manifest_gets_only
        with self._lock:
            now = self._clock()
            if self._opened is not None and now - self._opened >= window:
                self._used, self._opened = 0, None
            refused = counts and self._used >= limit
            if counts and not refused:
                self._used += 1
                if self._opened is None:
                    self._opened = now
            remaining = max(limit - self._used, 0)
            left = window - (now - self._opened) if self._opened is not None else window
        headers: list[tuple[str, str]] = []
        if style.headers and route.kind in (Kind.MANIFEST_GET, Kind.MANIFEST_HEAD):
            headers = [
                ("ratelimit-limit", f"{limit};w={window}"),
                ("ratelimit-remaining", f"{remaining};w={window}"),
                ("docker-ratelimit-source", request.remote_addr or ""),
            ]
        if refused:
            body, content_type = style.refusal(left)
            raise RateLimited(Response(body, 429, headers=headers, content_type=content_type))
        return headers
