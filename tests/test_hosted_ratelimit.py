"""Rate limits on the wire (raw sockets: the header names' case and the bodies exactly as sent): Docker Hub's pull
limit (DH-1, DH-2), GHCR's and ECR's 429s (GHCR-4, ECR), the window and the reset."""

from __future__ import annotations

import json

import pytest
from raw_http import exchange

from pytest_ociregistry import OCIRegistry, Options
from pytest_ociregistry.names import digest_of
from pytest_ociregistry.ratelimit import RateLimits, go_duration

MANIFEST = b'{"schemaVersion":2}'
HUB_PULL = (
    b'{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit. You may increase the '
    b'limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit"}]}'
)
HUB_ANONYMOUS = (
    b'{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your unauthenticated pull rate limit. '
    b'https://www.docker.com/increase-rate-limit"}]}'
)


@pytest.mark.oci_registry(rate_limit=2)
def test_rate_limit(oci_registry: OCIRegistry) -> None:
    """DH-1: a GET counts, a HEAD does not, and both (a 404 too) carry the lower-case headers; DH-2: the third GET
    answers 429 with the pull-limit body, still with the headers."""
    oci_registry.push_manifest("library/alpine", "latest", MANIFEST)
    for _ in range(3):
        answer = exchange(oci_registry, "HEAD", "/v2/library/alpine/manifests/latest")
        assert answer.status_line == "HTTP/1.1 200 OK"
    seen = []
    for method, reference in [("GET", "latest"), ("HEAD", "latest"), ("GET", "missing"), ("GET", "latest")]:
        answer = exchange(oci_registry, method, f"/v2/library/alpine/manifests/{reference}")
        rate = [(name, value) for name, value in answer.headers if "ratelimit" in name.lower()]
        seen.append((answer.status, rate))
    source = ("docker-ratelimit-source", "127.0.0.1")
    left = [("ratelimit-limit", "2;w=21600"), ("ratelimit-remaining", "1;w=21600"), source]
    spent = [("ratelimit-limit", "2;w=21600"), ("ratelimit-remaining", "0;w=21600"), source]
    assert seen == [(200, left), (200, left), (404, spent), (429, spent)]
    answer = exchange(oci_registry, "GET", "/v2/library/alpine/manifests/latest")
    assert (answer.status_line, answer.header("Content-Type"), answer.body) == (
        "HTTP/1.1 429 Too Many Requests", "application/json", HUB_PULL)
    assert exchange(oci_registry, "GET", f"/v2/library/alpine/blobs/{digest_of(b'x')}").status == 404  # not counted
    assert exchange(oci_registry, "GET", "/v2/library/alpine/tags/list").header("ratelimit-limit") is None


@pytest.mark.oci_registry(rate_limit=0, rate_limit_style="dockerhub_unauthenticated")
def test_rate_limit_style(oci_registry: OCIRegistry) -> None:
    answer = exchange(oci_registry, "GET", "/v2/library/alpine/manifests/latest")
    assert (answer.status_line, answer.body) == ("HTTP/1.1 429 Too Many Requests", HUB_ANONYMOUS)


@pytest.mark.oci_registry(rate_limit=1, rate_limit_style="dockerhub_hap429")
def test_hub_abuse_limit_is_plain_text(oci_registry: OCIRegistry) -> None:
    """DH-2: the abuse limit counts every request, sends no ratelimit headers, and a text body JSON parsers reject
    ("invalid character 'T' looking for beginning of value")."""
    assert exchange(oci_registry, "GET", "/v2/").status == 200
    answer = exchange(oci_registry, "HEAD", "/v2/library/alpine/manifests/latest")
    assert (answer.status_line, answer.header("Content-Type")) == (
        "HTTP/1.1 429 Too Many Requests", "text/plain; charset=utf-8")
    assert answer.header("ratelimit-limit") is None
    answer = exchange(oci_registry, "GET", "/v2/")
    assert answer.body == b"Too Many Requests (HAP429).\n"
    with pytest.raises(json.JSONDecodeError):
        answer.json()


@pytest.mark.oci_registry(rate_limit=1, rate_limit_window=60, rate_limit_style="ghcr")
def test_ghcr_body(oci_registry: OCIRegistry) -> None:
    """GHCR-4: every request counts; the body names the wait as Go prints a duration, and the allowance."""
    assert exchange(oci_registry, "POST", "/v2/owner/app/blobs/uploads/").status == 202
    answer = exchange(oci_registry, "GET", "/v2/owner/app/tags/list")
    status, code, message = answer.error()
    assert (answer.status_line, status, code) == ("HTTP/1.1 429 Too Many Requests", 429, "TOOMANYREQUESTS")
    assert message.startswith("retry-after: ") and message.endswith("s, allowed: 1/minute"), message
    assert answer.header("ratelimit-limit") is None


@pytest.mark.oci_registry(rate_limit=1, rate_limit_style="ecr")
def test_ecr_body(oci_registry: OCIRegistry) -> None:
    assert exchange(oci_registry, "GET", "/v2/").status == 200
    answer = exchange(oci_registry, "GET", "/v2/")
    assert (answer.status_line, answer.body) == (
        "HTTP/1.1 429 Too Many Requests", b'{"errors":[{"code":"TOOMANYREQUESTS","message":"Rate exceeded"}]}')


def test_a_reset_refills_the_budget() -> None:
    with OCIRegistry(Options(rate_limit=1, rate_limit_style="ecr")) as registry:
        assert [exchange(registry, "GET", "/v2/").status for _ in range(2)] == [200, 429]
        registry.reset()
        assert [exchange(registry, "GET", "/v2/").status for _ in range(2)] == [200, 429]


def test_rate_limit_window() -> None:
    """A window opens at the first counted request; when it ends the budget is whole again."""
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from pytest_ociregistry.ratelimit import RateLimited
    from pytest_ociregistry.routes import Kind, Route

    now = [100.0]
    limits = RateLimits(clock=lambda: now[0])
    options = Options(rate_limit=1, rate_limit_window=10)
    request = Request(EnvironBuilder(path="/v2/a/manifests/x").get_environ())
    route = Route(Kind.MANIFEST_GET, "a", tag="x")
    assert dict(limits.take(options, request, route))["ratelimit-remaining"] == "0;w=10"
    now[0] = 109.9
    with pytest.raises(RateLimited):
        limits.take(options, request, route)
    now[0] = 110.0
    assert dict(limits.take(options, request, route))["ratelimit-remaining"] == "0;w=10"


def test_go_duration() -> None:
    assert [go_duration(s) for s in (0.00088009, 0.00116676, 2.5, 90, 7322)] == [
        "880.09µs", "1.16676ms", "2.5s", "1m30s", "2h2m2s"]
