"""``python -m pytest_ociregistry``: prints its URL first, serves, exits 0 on SIGINT or SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import requests

from pytest_ociregistry import User
from pytest_ociregistry.__main__ import build_parser, listen_warning, parse_options


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serves_until_signalled(sig: signal.Signals) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest_ociregistry", "--preset", "spec", "--no-delete"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{url}/v2/", timeout=10) as response:
            assert response.status == 200
        request = urllib.request.Request(f"{url}/v2/foo/manifests/latest", method="DELETE")
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=10)
        assert info.value.code == 405  # --no-delete
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()


def start_servers(count: int) -> list[tuple[subprocess.Popen[str], int]]:
    procs = [subprocess.Popen([sys.executable, "-m", "pytest_ociregistry"], stdout=subprocess.PIPE, text=True)
             for _ in range(count)]
    servers = []
    for proc in procs:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        servers.append((proc, int(url.rsplit(":", 1)[1])))
    return servers


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except (ConnectionRefusedError, ConnectionResetError):  # reset: connected as the listening socket closed
        return True
    return False


BURSTS = [[signal.SIGINT] * 2, [signal.SIGTERM, signal.SIGINT] * 5, [signal.SIGTERM] * 20]


def test_bursts_of_signals_stop_the_server_within_a_second() -> None:
    """Ctrl-C twice, a supervisor's SIGTERM with a shell trap's, a flood: each server stops serving within a second
    of the first signal and exits 0, closing its idle kept-alive connection. Two rounds of three servers."""
    servers: list[tuple[subprocess.Popen[str], int]] = []
    try:
        for _ in range(2):
            servers = start_servers(len(BURSTS))
            idle = []
            for _, port in servers:
                conn = socket.create_connection(("127.0.0.1", port), timeout=5)
                conn.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
                assert conn.recv(4096).startswith(b"HTTP/1.1 200 OK\r\n")
                idle.append(conn)
            for (proc, port), burst in zip(servers, BURSTS):
                first = time.monotonic()
                for sig in burst:
                    proc.send_signal(sig)
                while not refused(port):
                    assert time.monotonic() - first < 1.0, f"still serving a second after the first of {burst}"
                    time.sleep(0.01)
            for (proc, _), conn in zip(servers, idle):
                assert proc.wait(timeout=10) == 0
                assert conn.recv(4096) == b""  # the kept-alive connection was closed, not left open
                conn.close()
    finally:
        for proc, _ in servers:
            proc.kill()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


@pytest.mark.parametrize(
    ("host", "warns"), [("127.0.0.1", False), ("localhost", False), ("::1", False), ("127.0.0.2", False),
                        ("0.0.0.0", True), ("::", True), ("192.0.2.1", True), ("example.org", True)]
)
def test_warns_when_listening_beyond_loopback(host: str, warns: bool) -> None:
    # Checked without binding: tests listen on loopback only.
    warning = listen_warning(host)
    assert (warning is not None) is warns
    if warning:
        assert warning == f"warning: listening on {host}, reachable from other machines"


def test_options_from_the_command_line() -> None:
    args = build_parser().parse_args(["--preset", "spec", "--option", "max_page_size=7", "--option", "warnings=a,b"])
    options = parse_options(args)
    assert (options.max_page_size, options.warnings, options.strict_upload_ids) == (7, ("a", "b"), True)


def test_a_bad_option_exits_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest_ociregistry", "--option", "nope=1"], check=False, capture_output=True, text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "unknown oci_registry option(s): nope" in result.stderr


def test_auth_and_tls_from_the_command_line() -> None:
    args = build_parser().parse_args(["--auth", "bearer:ci:pw"])
    auth = parse_options(args).auth
    assert auth is not None and (auth.scheme, auth.users[0].name) == ("bearer", "ci")
    proc = subprocess.Popen([sys.executable, "-m", "pytest_ociregistry", "--tls"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        url = proc.stdout.readline().strip()
        ca_line = proc.stderr.readline().strip()
        assert url.startswith("https://127.0.0.1:") and ca_line.startswith("CA bundle: ")
        import ssl

        context = ssl.create_default_context(cafile=ca_line.removeprefix("CA bundle: "))
        with urllib.request.urlopen(f"{url}/v2/", context=context, timeout=10) as response:
            assert response.status == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()


def test_auth_arguments_say_what_the_api_can() -> None:
    args = build_parser().parse_args([
        "--auth", "bearer", "--user", "alice:pw", "--user", "bob:pw", "--grant", "bob:team/*:pull",
        "--no-catalog", "bob", "--anonymous", "public/*:pull", "--anonymous-catalog",
        "--auth-option", "realm=https://auth.example/token", "--auth-option", "token_ttl=60",
    ])
    auth = parse_options(args).auth
    assert auth is not None
    assert (auth.scheme, auth.anonymous, auth.anonymous_catalog, auth.realm, auth.token_ttl) == (
        "bearer", {"public/*": "pull"}, True, "https://auth.example/token", 60.0)
    assert auth.users == (User("alice", "pw"), User("bob", "pw", {"team/*": "pull"}, catalog=False))


def test_auth_arguments_without_auth_exit_2() -> None:
    result = subprocess.run([sys.executable, "-m", "pytest_ociregistry", "--user", "a:b", "--anonymous-catalog"],
                            check=False, capture_output=True, text=True, timeout=30)
    assert (result.returncode, result.stderr) == (2, "error: --user, --anonymous-catalog need(s) --auth SCHEME\n")


def test_an_anonymous_catalog_and_grants_over_http() -> None:
    """python-dxf's suite configures its token server so: its user may do everything, anonymous callers may list
    the catalog; a user with a grant holds exactly it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest_ociregistry", "--auth", "basic:fred:pw", "--user", "bob:pw",
         "--grant", "bob:team/*:pull", "--anonymous-catalog"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert requests.get(f"{url}/v2/_catalog", timeout=10).json() == {"repositories": []}
        assert requests.get(f"{url}/v2/team/a/tags/list", auth=("bob", "pw"), timeout=10).status_code == 404
        r = requests.post(f"{url}/v2/team/a/blobs/uploads/", auth=("bob", "pw"), timeout=10)
        assert (r.status_code, r.json()["errors"][0]["message"]) == (
            403, "requested access to the resource is denied: bob has no push access to team/a")
        assert requests.post(f"{url}/v2/team/a/blobs/uploads/", auth=("fred", "pw"), timeout=10).status_code == 202
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()
