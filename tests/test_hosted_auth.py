"""Hosted registries' authentication on the wire (raw sockets: challenges and bodies exactly as sent): the
challenge each service sends (ECR, GAR-2, HARBOR-1, GHCR), Docker Hub's catalog loop (DH-4) and missing
repositories (DH-5), and the token requests Docker Hub and Quay refuse (DH-4, QUAY-3)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from raw_http import Answer, exchange

from pytest_ociregistry import HOSTED_PRESETS, Auth, OCIRegistry, User

ALICE = User("alice", "wonderland", {"team/*": "pull,push", "shared": "*"})
BOB = User("bob", "builder", {"team/*": "pull"}, catalog=False)
BASIC = Auth("basic", users=(ALICE, BOB))
BEARER = Auth("bearer", users=(ALICE, BOB), service="registry.example")
MANIFEST = b'{"schemaVersion":2}'


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def token(registry: OCIRegistry, scope: str, user: tuple[str, str] | None = None) -> dict[str, str]:
    answer = exchange(registry, "GET", f"/token?service=registry.example&scope={scope}", basic(*user) if user else {})
    assert answer.status == 200, answer
    return {"Authorization": "Bearer " + answer.json()["token"]}


def refusal(answer: Answer) -> tuple[str, str | None, bytes]:
    return answer.status_line, answer.header("WWW-Authenticate"), answer.body


@pytest.mark.oci_registry(auth=BASIC, auth_challenge="ecr")
def test_auth_challenge(oci_registry: OCIRegistry) -> None:
    """ECR: a Basic challenge whose realm is the registry's URL, with a ``service`` that token clients misread as a
    token service; a Bearer token is no credential there."""
    challenge = f'Basic realm="{oci_registry.url}/",service="ecr.amazonaws.com"'
    for headers in ({}, {"Authorization": "Bearer abc"}, basic("alice", "wrong")):
        answer = exchange(oci_registry, "GET", "/v2/", headers)
        assert (answer.status_line, answer.header("WWW-Authenticate")) == ("HTTP/1.1 401 Unauthorized", challenge)
    assert exchange(oci_registry, "GET", "/v2/_catalog", basic("alice", "wonderland")).status == 200


@pytest.mark.oci_registry(auth=BASIC, auth_challenge="ecr")
def test_ecr_serves_bearer_auth_as_basic(oci_registry: OCIRegistry) -> None:
    oci_registry.configure(auth=BEARER)
    answer = exchange(oci_registry, "GET", "/v2/team/app/tags/list")
    assert answer.header("WWW-Authenticate") == f'Basic realm="{oci_registry.url}/",service="ecr.amazonaws.com"'
    oci_registry.push_manifest("team/app", "v1", MANIFEST)
    answer = exchange(oci_registry, "GET", "/v2/team/app/tags/list", basic("alice", "wonderland"))
    assert answer.json() == {"name": "team/app", "tags": ["v1"]}


@pytest.mark.oci_registry(auth=BEARER, auth_challenge="gar")
def test_gar_ping_challenge_has_no_service(oci_registry: OCIRegistry) -> None:
    """GAR-2: ``/v2/`` challenges without ``service``; a repository's challenge has it. Basic credentials work."""
    realm = f"{oci_registry.url}/token"
    assert exchange(oci_registry, "GET", "/v2/").header("WWW-Authenticate") == f'Bearer realm="{realm}"'
    answer = exchange(oci_registry, "GET", "/v2/team/app/manifests/latest")
    assert answer.header("WWW-Authenticate") == (
        f'Bearer realm="{realm}",service="registry.example",scope="repository:team/app:pull"')
    oci_registry.push_manifest("team/app", "latest", MANIFEST)
    assert exchange(oci_registry, "GET", "/v2/team/app/manifests/latest", basic("bob", "builder")).body == MANIFEST


@pytest.mark.oci_registry(auth=BEARER, auth_challenge="harbor")
def test_harbor_answers_basic_once_authorization_was_sent(oci_registry: OCIRegistry) -> None:
    """HARBOR-1: Bearer without an ``Authorization`` header, ``Basic realm="harbor"`` with any (a pull token on a
    push included), and on the catalog; every refusal a 401 that says why twice, no ``detail``."""
    realm = f"{oci_registry.url}/token"
    answer = exchange(oci_registry, "GET", "/v2/")
    assert refusal(answer) == ("HTTP/1.1 401 Unauthorized", f'Bearer realm="{realm}",service="registry.example"',
                               b'{"errors":[{"code":"UNAUTHORIZED","message":"unauthorized: unauthorized"}]}')
    answer = exchange(oci_registry, "HEAD", "/v2/team/app/manifests/v1")
    assert answer.header("WWW-Authenticate") == (
        f'Bearer realm="{realm}",service="registry.example",scope="repository:team/app:pull"')
    pull = token(oci_registry, "repository:team/app:pull", ("alice", "wonderland"))
    answer = exchange(oci_registry, "POST", "/v2/team/app/blobs/uploads/", pull)
    message = "unauthorized to access repository: team/app, action: push"
    assert refusal(answer) == ("HTTP/1.1 401 Unauthorized", 'Basic realm="harbor"',
                               f'{{"errors":[{{"code":"UNAUTHORIZED","message":"{message}: {message}"}}]}}'.encode())
    answer = exchange(oci_registry, "GET", "/v2/_catalog")
    message = "unauthorized to list catalog"
    assert refusal(answer) == ("HTTP/1.1 401 Unauthorized", 'Basic realm="harbor"',
                               f'{{"errors":[{{"code":"UNAUTHORIZED","message":"{message}: {message}"}}]}}'.encode())
    answer = exchange(oci_registry, "GET", "/v2/_catalog", basic("bob", "builder"))  # no system permission
    assert (answer.status, answer.header("WWW-Authenticate")) == (401, 'Basic realm="harbor"')
    assert exchange(oci_registry, "GET", "/v2/_catalog", basic("alice", "wonderland")).status == 200
    answer = exchange(oci_registry, "POST", "/v2/team/app/blobs/uploads/", basic("bob", "builder"))
    message = "unauthorized to access repository: team/app, action: push"
    assert answer.error() == (401, "UNAUTHORIZED", f"{message}: {message}")


@pytest.mark.oci_registry(auth=BEARER, auth_challenge="ghcr")
def test_ghcr_refuses_basic_credentials_on_data_endpoints(oci_registry: OCIRegistry) -> None:
    """GHCR: Basic credentials sent straight to a data endpoint are 403 ``DENIED`` "invalid token"; the token
    exchange works."""
    oci_registry.push_manifest("team/app", "v1", MANIFEST)
    answer = exchange(oci_registry, "GET", "/v2/team/app/tags/list", basic("alice", "wonderland"))
    assert (answer.status_line, answer.body) == (
        "HTTP/1.1 403 Forbidden", b'{"errors":[{"code":"DENIED","message":"invalid token"}]}')
    assert exchange(oci_registry, "GET", "/v2/", basic("alice", "wonderland")).status == 401
    pull = token(oci_registry, "repository:team/app:pull", ("alice", "wonderland"))
    assert exchange(oci_registry, "GET", "/v2/team/app/tags/list", pull).status == 200


@pytest.mark.oci_registry(auth=BEARER, catalog_insufficient_scope=True)
def test_catalog_insufficient_scope(oci_registry: OCIRegistry) -> None:
    """DH-4: challenged for the catalog scope, the token granted, and the retry refused again for that scope."""
    realm = f'Bearer realm="{oci_registry.url}/token",service="registry.example",scope="registry:catalog:*"'
    body = (b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required",'
            b'"detail":[{"Type":"registry","Class":"","Name":"catalog","Action":"*"}]}]}')
    assert refusal(exchange(oci_registry, "GET", "/v2/_catalog")) == ("HTTP/1.1 401 Unauthorized", realm, body)
    granted = token(oci_registry, "registry:catalog:*", ("alice", "wonderland"))
    answer = exchange(oci_registry, "GET", "/v2/_catalog", granted)
    assert refusal(answer) == ("HTTP/1.1 401 Unauthorized", realm + ',error="insufficient_scope"', body)
    oci_registry.configure(catalog_insufficient_scope=False)
    assert exchange(oci_registry, "GET", "/v2/_catalog", granted).status == 200


@pytest.mark.oci_registry(auth=Auth("bearer", anonymous={"*": "pull"}, service="registry.example"),
                          missing_repository_unauthorized=True)
def test_missing_repository_unauthorized(oci_registry: OCIRegistry) -> None:
    """DH-5: an anonymous token for any repository; a repository that does not exist is 401 ``insufficient_scope``
    (not 404 ``NAME_UNKNOWN``), a missing tag of one that does is 404."""
    oci_registry.push_manifest("library/alpine", "latest", MANIFEST)
    anonymous = token(oci_registry, "repository:library/this-does-not-exist:pull")
    answer = exchange(oci_registry, "GET", "/v2/library/this-does-not-exist/manifests/latest", anonymous)
    assert refusal(answer) == (
        "HTTP/1.1 401 Unauthorized",
        (f'Bearer realm="{oci_registry.url}/token",service="registry.example",'
         'scope="repository:library/this-does-not-exist:pull",error="insufficient_scope"'),
        (b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository",'
         b'"Class":"","Name":"library/this-does-not-exist","Action":"pull"}]}]}'),
    )
    alpine = token(oci_registry, "repository:library/alpine:pull")
    assert exchange(oci_registry, "GET", "/v2/library/alpine/manifests/nope", alpine).error()[:2] == (
        404, "MANIFEST_UNKNOWN")
    assert exchange(oci_registry, "GET", "/v2/library/alpine/manifests/latest", alpine).body == MANIFEST


@pytest.mark.oci_registry(auth=BEARER, token_rejects_mixed_scopes=True)
def test_token_rejects_mixed_scopes(oci_registry: OCIRegistry) -> None:
    answer = exchange(oci_registry, "GET", "/token?scope=registry:catalog:*&scope=repository:team/app:pull",
                      basic("alice", "wonderland"))
    assert (answer.status_line, answer.header("Content-Type"), answer.body) == (
        "HTTP/1.1 400 Bad Request", "application/json",
        b'{"details":"request scopes must be of the same resource type"}')
    token(oci_registry, "repository:team/app:pull%20repository:shared:push", ("alice", "wonderland"))


@pytest.mark.oci_registry(auth=BEARER, token_refuses_delete=True)
def test_token_refuses_delete(oci_registry: OCIRegistry) -> None:
    """QUAY-3: no token for a scope with ``delete`` (``*`` still works)."""
    answer = exchange(oci_registry, "GET", "/token?scope=repository:shared:pull,delete", basic("alice", "wonderland"))
    assert (answer.status_line, json.loads(answer.body)) == ("HTTP/1.1 400 Bad Request", {"errors": [{
        "code": "INVALID_REQUEST", "message": "Unable to decode repository and actions: repository:shared:pull,delete",
        "detail": {}}]})
    everything = token(oci_registry, "repository:shared:*", ("alice", "wonderland"))
    oci_registry.push_manifest("shared", "v1", MANIFEST)
    assert exchange(oci_registry, "DELETE", "/v2/shared/manifests/v1", everything).status == 202


PING = {
    "ecr": 'Basic realm="{url}/",service="ecr.amazonaws.com"',
    "gar": 'Bearer realm="{url}/token"',
}


@pytest.mark.parametrize("name", list(HOSTED_PRESETS))
def test_each_hosted_preset_challenges_as_its_service(name: str, make_oci_registry: Any) -> None:
    """With the user's ``auth``, each hosted preset's ``/v2/`` challenge is its service's; without it, none."""
    registry = make_oci_registry(preset=name, auth=BEARER)
    default = 'Bearer realm="{url}/token",service="registry.example"'
    assert exchange(registry, "GET", "/v2/").header("WWW-Authenticate") == PING.get(name, default).format(
        url=registry.url)
    assert exchange(make_oci_registry(preset=name), "GET", "/v2/").status == 200


def test_the_dockerhub_preset(make_oci_registry: Any) -> None:
    """Docker Hub: the pull limit's headers on every manifest answer (a budget no ordinary test spends), the
    catalog loop, a missing repository 401 to a reader and 404 to its owner."""
    registry = make_oci_registry(preset="dockerhub", auth=Auth("bearer", users=(ALICE,), anonymous={"*": "pull"}))
    registry.push_manifest("team/app", "v1", MANIFEST)
    answer = exchange(registry, "GET", "/v2/team/app/manifests/v1", token(registry, "repository:team/app:pull"))
    limit = f"{HOSTED_PRESETS['dockerhub'].rate_limit};w=21600"
    assert (answer.status, answer.header("ratelimit-limit")) == (200, limit)
    catalog = token(registry, "registry:catalog:*", ("alice", "wonderland"))
    assert exchange(registry, "GET", "/v2/_catalog", catalog).status == 401
    anonymous = token(registry, "repository:team/new:pull")
    assert exchange(registry, "GET", "/v2/team/new/tags/list", anonymous).status == 401
    owner = token(registry, "repository:team/new:pull,push", ("alice", "wonderland"))
    assert exchange(registry, "GET", "/v2/team/new/tags/list", owner).error()[:2] == (404, "NAME_UNKNOWN")
