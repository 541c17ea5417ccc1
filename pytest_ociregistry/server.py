"""The socket: a pytest-httpserver ``HTTPServer`` whose unmatched requests the registry answers.

The user's own expectations (``expect_request``, ``expect_oneshot_request``, ``expect_ordered_request``) win; every
request none of them matches goes to the :class:`~pytest_ociregistry.api.RegistryApp`. Registry requests are not
buffered or kept in ``log`` (a 1 GiB push stays out of memory); only requests the user's handlers serve are.
"""

from __future__ import annotations

import io
import threading
from ssl import SSLContext

from pytest_httpserver import HTTPServer
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from .api import ERROR_KEY, IDENTITY_KEY, RegistryApp
from .faults import Faults
from .handler import KeepAliveRequestHandler
from .requestlog import KEPT_HEADERS, RequestLog, RequestRecord


class RegistryServer(HTTPServer):
    """A threaded, keep-alive HTTP server on ``host`` (127.0.0.1) and a free port, serving ``app``."""

    def __init__(
        self,
        app: RegistryApp,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: SSLContext | None = None,
    ) -> None:
        self.bind_host = host
        self.client_ssl_context: SSLContext | None = None
        super().__init__(host, port, ssl_context, threaded=True)
        self.app = app
        self.requests = RequestLog()
        self.faults = Faults()

    # pytest-httpserver keeps its bind address in ``host``; here ``host`` is what an image reference starts with.
    @property
    def host(self) -> str:
        """``host:port`` once serving (``127.0.0.1:40123``), as in ``f"{registry.host}/foo:latest"``."""
        return f"{self.format_host(self.bind_host)}:{self.port}" if self.server is not None else self.bind_host

    @host.setter
    def host(self, value: str) -> None:
        self.bind_host = value

    # pytest-httpserver's ``ssl_context`` is what the server presents; here that is ``server_ssl_context``, and
    # ``ssl_context`` is what a client verifies the server with (when the registry made the certificate).
    @property
    def ssl_context(self) -> SSLContext | None:
        """A client SSL context that trusts this server's certificate (httpx ``verify=``), or None."""
        return self.client_ssl_context

    @ssl_context.setter
    def ssl_context(self, value: SSLContext | None) -> None:
        self.server_ssl_context = value

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash: ``http://127.0.0.1:40123``."""
        scheme = "https" if self.server_ssl_context is not None else "http"
        return f"{scheme}://{self.format_host(self.bind_host)}:{self.port}"

    def url_for(self, suffix: str) -> str:
        """The URL of a path on this server."""
        return self.url + (suffix if suffix.startswith("/") else "/" + suffix)

    def start(self) -> None:
        """Start serving in a daemon thread (pytest-httpserver's start, with the keep-alive handler)."""
        self.server = make_server(
            self.bind_host,
            self.port,
            Request.application(self.application),
            threaded=True,
            request_handler=KeepAliveRequestHandler,
            ssl_context=self.server_ssl_context,
        )
        self.server.daemon_threads = True  # type: ignore[attr-defined]  # a ThreadingMixIn attribute
        self.port = self.server.port
        self.server_thread = threading.Thread(target=self.thread_target, daemon=True)
        self.server_thread.start()

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=0.05)  # stop() returns within 50 ms, not 500

    def clear(self) -> None:
        """Clear pytest-httpserver's handlers and log, the request log, and the injected faults."""
        super().clear()
        self.requests.clear()
        self.faults.clear()

    def application(self, request: Request) -> Response:
        """Route a request to the user's handlers when one of them would serve it, else to an injected fault,
        else to the registry; and record it. From its arrival, it belongs to the store's generation and options of
        that moment (a fault's delay included: see :meth:`Store.request <pytest_ociregistry.store.Store.request>`)."""
        with self.app.store.request():
            return self._dispatch(request)

    def _dispatch(self, request: Request) -> Response:
        fault = None
        if self._user_handler_wanted(request):
            handler = "user"
            # pytest-httpserver's own application() (older releases wrap it as a WSGI app, so it is not called)
            request.get_data()
            response = self.dispatch(request)
            self.log.append((request, response))
        else:
            if "_cached_data" in vars(request):  # a user's body matcher read the body: hand the registry a copy
                request = _replay(request)
            fault = self.faults.take(request)
            if fault is not None and fault.status is not None:
                handler = "fault"
                error = fault.error()
                request.environ[ERROR_KEY] = error.code.name
                response = self.app.error_response(error)
            else:
                handler = "registry"
                response = self.app.handle(request)
                if fault is not None:
                    response = fault.mangle(response)
        self.requests.append(_record(request, response, handler, fault.describe() if fault else None))
        return response

    def _user_handler_wanted(self, request: Request) -> bool:
        if not (self.ordered_handlers or self.oneshot_handlers or self.handlers or self.permanently_failed):
            return bool(getattr(self, "_readiness_check_pending", False))  # the common case: no expectations
        if self.permanently_failed or getattr(self, "_readiness_check_pending", False):
            return True
        if self.ordered_handlers:
            return self.ordered_handlers[0].matcher.match(request)
        return bool(self.oneshot_handlers.match(request) or self.handlers.match(request))


_KEPT_ENVIRON = [
    (name, name.upper().replace("-", "_") if name in ("Content-Type", "Content-Length") else
     "HTTP_" + name.upper().replace("-", "_"))
    for name in KEPT_HEADERS
]


def _record(request: Request, response: Response, handler: str, fault: str | None) -> RequestRecord:
    environ = request.environ
    consumed = getattr(environ.get("wsgi.input"), "consumed", None)
    return RequestRecord(
        method=request.method,
        path=request.path,
        query=request.query_string.decode("latin-1"),
        status=response.status_code,
        error=request.environ.get(ERROR_KEY),
        headers={name: environ[key] for name, key in _KEPT_ENVIRON if key in environ},
        body_size=consumed if consumed is not None else request.content_length or 0,
        identity=request.environ.get(IDENTITY_KEY),
        fault=fault,
        handler=handler,
    )


def _replay(request: Request) -> Request:
    data = request.get_data()
    environ = dict(request.environ)
    environ.pop("wsgi.input_terminated", None)
    environ.update({"wsgi.input": io.BytesIO(data), "CONTENT_LENGTH": str(len(data))})
    return Request(environ)
