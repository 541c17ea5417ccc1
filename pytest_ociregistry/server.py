"""The socket: a pytest-httpserver ``HTTPServer`` whose unmatched requests the registry answers.

The user's own expectations (``expect_request``, ``expect_oneshot_request``, ``expect_ordered_request``) win; every
request none of them matches goes to the :class:`~pytest_ociregistry.api.RegistryApp`. Registry requests are not
buffered or kept in ``log`` (a 1 GiB push stays out of memory); only requests the user's handlers serve are.
"""

from __future__ import annotations

import io
import logging
import socket
import threading
import time
from collections.abc import Callable
from ssl import SSLContext, SSLSocket
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug.exceptions import ClientDisconnected, HTTPException, InternalServerError
from werkzeug.serving import ThreadedWSGIServer
from werkzeug.wrappers import Request, Response

from .api import ERROR_KEY, IDENTITY_KEY, RegistryApp
from .faults import Faults
from .handler import (
    LINGER,
    KeepAliveRequestHandler,
    RefusedHook,
    RespondHook,
    environ_key,
    linger_close,
    request_line_parts,
)
from .requestlog import KEPT_HEADERS, RequestLog, RequestRecord

log = logging.getLogger(__name__)

# Go's answer to plain HTTP on its TLS port, and the first five bytes it takes for plain HTTP (net/http server.go).
_PLAIN_HTTP_ANSWER = b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"
_PLAIN_HTTP_STARTS = (b"GET /", b"HEAD ", b"POST ", b"PUT /", b"OPTIO")
_TLS_HANDSHAKE = b"\x16"  # the content type of the record a TLS connection starts with
# How long stop() waits for the connections' threads once their sockets are shut down.
_STOP_WAIT = 1.0


class ConnectionServer(ThreadedWSGIServer):
    """werkzeug's threaded WSGI server, with the connection handling a test server needs.

    - TLS is negotiated in each connection's own thread. (werkzeug wraps the listening socket, so its accepting
      thread performs every handshake, and a failed one vanishes without a word.) Plain HTTP on the TLS port is
      answered as Go answers it: ``HTTP/1.0 400 Bad Request`` and ``Client sent an HTTP request to an HTTPS server.``
    - Every connection and its thread are tracked: ``server_close()`` (the end of ``serve_forever()``, so
      ``stop()``) shuts every connection down, idle kept-alive ones included, and waits for their threads.
    - A connection waiting for its next request longer than ``idle_timeout()`` seconds is closed (checked every
      poll interval of ``serve_forever``; ``idle(connection, waiting)`` is the handler's report).
    - ``idle(...)``, ``refused(...)`` and ``respond(environ)`` are the :mod:`~pytest_ociregistry.handler` hooks.
    """

    def __init__(
        self,
        host: str,
        port: int,
        app: Any,
        ssl_context: SSLContext | None = None,
        idle_timeout: Callable[[], float | None] = lambda: None,
        refused: RefusedHook | None = None,
        respond: RespondHook | None = None,
    ) -> None:
        super().__init__(host, port, app, KeepAliveRequestHandler)  # the listening socket stays plain
        self.ssl_context = ssl_context
        self.idle_timeout = idle_timeout
        self.refused = refused
        self.respond = respond
        self._lock = threading.Lock()
        self._connections: dict[threading.Thread, socket.socket] = {}
        self._waiting: dict[Any, float] = {}  # connections waiting for a request, since when (time.monotonic())
        self._closing = False

    def idle(self, connection: Any, waiting: bool) -> None:
        """The handler's report: ``connection`` waits for its next request, or has one."""
        if waiting:
            self._waiting[connection] = time.monotonic()
        else:
            self._waiting.pop(connection, None)

    def service_actions(self) -> None:
        """Close the connections that have waited for a request longer than ``idle_timeout()`` (Go's IdleTimeout),
        a shutdown their handler's blocking read sees as the end of the connection."""
        super().service_actions()
        timeout = self.idle_timeout() if self._waiting else None
        if timeout is None:
            return
        deadline = time.monotonic() - timeout
        for connection, since in list(self._waiting.items()):
            if since < deadline and self._waiting.pop(connection, None) is not None:
                _shutdown(connection)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve a new connection in a thread of its own."""
        thread = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), daemon=True,
            name=f"oci-registry:{self.port} connection",
        )
        with self._lock:
            if self._closing:
                self.shutdown_request(request)
                return
            self._connections[thread] = request
        thread.start()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        connection: socket.socket | None = request
        try:
            if self.ssl_context is not None:
                connection = self._secure(request, self.ssl_context)
            if connection is not None:
                self.finish_request(connection, client_address)
        except Exception:  # a bug: the handler answers every request and drops a failed connection quietly
            log.exception("error on the connection from %s", client_address)
        finally:
            with self._lock:
                self._connections.pop(threading.current_thread(), None)
            self._waiting.pop(connection, None)
            self.shutdown_request(connection if connection is not None else request)

    def _secure(self, raw: socket.socket, context: SSLContext) -> SSLSocket | None:
        """The connection with TLS negotiated; None when it ended here (plain HTTP answered, a failed handshake)."""
        try:
            raw.settimeout(self.idle_timeout())
            if raw.recv(1, socket.MSG_PEEK) != _TLS_HANDSHAKE:
                self._refuse_plain(raw)
                return None
            secure = context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
        except OSError as e:
            log.debug("no TLS connection: %s", e)
            return None
        with self._lock:
            if self._closing:
                secure.close()
                return None
            self._connections[threading.current_thread()] = secure
        try:
            secure.do_handshake()
            secure.settimeout(None)
        except OSError as e:
            log.debug("TLS handshake failed: %s", e)
            secure.close()
            return None
        return secure

    def _refuse_plain(self, raw: socket.socket) -> None:
        """Answer plain HTTP on the TLS port as Go does; close anything else."""
        start = b""
        while len(start) < 5 and (data := raw.recv(5 - len(start))):
            start += data
        if start not in _PLAIN_HTTP_STARTS:
            return
        line = start  # the rest of its request line, for the request log, if it comes at once
        raw.settimeout(LINGER)
        try:
            while b"\n" not in line and len(line) < 8192 and (data := raw.recv(4096)):
                line += data
        except TimeoutError:
            pass
        if self.refused is not None:
            self.refused(*request_line_parts(line.split(b"\r\n", 1)[0].split(b"\n", 1)[0]), 400, [])
        raw.sendall(_PLAIN_HTTP_ANSWER)
        linger_close(raw)

    def server_close(self) -> None:
        """Close the listening socket, then every connection; wait (a little) for their threads to end."""
        super().server_close()
        with self._lock:
            self._closing = True
            live = dict(self._connections)
            for connection in live.values():
                _shutdown(connection)
        deadline = time.monotonic() + _STOP_WAIT
        for thread in live:
            thread.join(max(0.0, deadline - time.monotonic()))
        stuck = sum(thread.is_alive() for thread in live)
        if stuck:
            log.warning("%d connection thread(s) still busy after the server stopped", stuck)


def _shutdown(connection: socket.socket) -> None:
    """End a connection under its reader (a blocking read returns at once, empty)."""
    try:  # the plain socket's shutdown: an SSLSocket's own would pull TLS from under its reader
        socket.socket.shutdown(connection, socket.SHUT_RDWR)
    except OSError:
        pass


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
        """Start serving in a daemon thread (pytest-httpserver's start, on a :class:`ConnectionServer`)."""
        self.server = ConnectionServer(
            self.bind_host,
            self.port,
            Request.application(self.application),
            self.server_ssl_context,
            idle_timeout=lambda: self.app.options.idle_timeout,
            refused=self._refused,
            respond=self.respond,
        )
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

    def respond(self, environ: dict[str, Any]) -> Response:
        """What the WSGI application (``Request.application(self.application)``) answers, as the response object:
        the keep-alive handler sends it without the WSGI calls."""
        request = Request(environ, populate_request=False)  # no environ["werkzeug.request"]: no cycle for the GC
        try:
            return self.application(request)
        except HTTPException as e:
            return e.get_response(environ)
        finally:
            if "files" in vars(request):  # only a parsed form holds files to close
                request.close()

    def application(self, request: Request) -> Response:
        """Route a request to the user's handlers when one of them would serve it, else to an injected fault,
        else to the registry; and record it. From its arrival, it belongs to the store's generation and options of
        that moment (a fault's delay included: see :meth:`Store.request <pytest_ociregistry.store.Store.request>`)."""
        with self.app.store.request():
            return self._dispatch(request)

    def _dispatch(self, request: Request) -> Response:
        body = request.environ.get("wsgi.input")
        fault = None
        try:
            if self._user_handler_wanted(request):
                handler = "user"
                # pytest-httpserver's own application() (older releases wrap it as a WSGI app, so it is not called)
                request.get_data()
                try:
                    response = self.dispatch(request)
                except Exception:  # noqa: BLE001 - pytest-httpserver keeps it (check_handler_errors()); a 500
                    response = InternalServerError().get_response()
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
                    response = self.app.serve(request)  # in application()'s store.request()
                    if fault is not None:
                        response = fault.mangle(response)
        except ClientDisconnected as e:  # the body, read for a user's handler or matcher, ended early
            handler, response = "user", e.get_response()
        malformed = getattr(body, "error", None)
        if malformed is not None:  # the HTTP layer's answer, as Go words it; the handler closes the connection
            text = f"400 Bad Request: {malformed}"
            response = Response(text, 400, content_type="text/plain; charset=utf-8")
        _record(self.requests, request, response, handler, fault.describe() if fault else None)
        return response

    def _refused(self, method: str, target: str, status: int, fields: list[tuple[str, str]]) -> None:
        """Record a request the HTTP layer answered itself (``handler="http"``)."""
        path, _, query = target.partition("?")
        kept = {name.lower(): name for name in KEPT_HEADERS}
        headers = {kept[name.lower()]: value for name, value in fields if name.lower() in kept}
        self.requests.append(RequestRecord(method, path, query, status, headers=headers, handler="http"))

    def _user_handler_wanted(self, request: Request) -> bool:
        if not (self.ordered_handlers or self.oneshot_handlers or self.handlers or self.permanently_failed):
            return bool(getattr(self, "_readiness_check_pending", False))  # the common case: no expectations
        if self.permanently_failed or getattr(self, "_readiness_check_pending", False):
            return True
        if self.ordered_handlers:
            return self.ordered_handlers[0].matcher.match(request)
        return bool(self.oneshot_handlers.match(request) or self.handlers.match(request))


_KEPT_ENVIRON = [(name, environ_key(name)) for name in KEPT_HEADERS]


def _record(log: RequestLog, request: Request, response: Response, handler: str, fault: str | None) -> None:
    """Add the request to ``log`` (the fields of its :class:`RequestRecord`, in order)."""
    environ = request.environ
    consumed = getattr(environ.get("wsgi.input"), "consumed", None)
    log.add(
        request.method,
        request.path,
        environ.get("QUERY_STRING", ""),  # (query_string.decode("latin-1"): WSGI holds it decoded so)
        response.status_code,
        environ.get(ERROR_KEY),
        {name: environ[key] for name, key in _KEPT_ENVIRON if key in environ},
        consumed if consumed is not None else request.content_length or 0,
        environ.get(IDENTITY_KEY),
        fault,
        handler,
    )


def _replay(request: Request) -> Request:
    data = request.get_data()
    environ = dict(request.environ)
    environ.pop("wsgi.input_terminated", None)
    environ.update({"wsgi.input": io.BytesIO(data), "CONTENT_LENGTH": str(len(data))})
    return Request(environ)
