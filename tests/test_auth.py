"""Authentication flows over the socket, as a client sees them: Basic, Bearer tokens with scopes, anonymous pull."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from pytest_ociregistry import PRESETS, Auth, OCIRegistry, User
from pytest_ociregistry.names import digest_of

ALICE = User("alice", "wonderland", {"team/*": "pull,push", "shared": "*"})
BOB = User("bob", "builder", {"team/*": "pull"}, catalog=False)
BASIC = Auth("basic", users=(ALICE, BOB), anonymous={"public/*": "pull"})
BEARER = Auth("bearer", users=(ALICE, BOB), anonymous={"public/*": "pull"})
D = digest_of(b"data")


def error_code(r: requests.Response) -> str:
    return str(r.json()["errors"][0]["code"])


class TestBasic:
    pytestmark = pytest.mark.oci_registry(auth=BASIC)

    def test_no_credentials(self, oci_registry: OCIRegistry) -> None:
        r = requests.get(f"{oci_registry.url}/v2/team/app/tags/list", timeout=10)
        assert (r.status_code, error_code(r)) == (401, "UNAUTHORIZED")
        assert r.headers["WWW-Authenticate"] == 'Basic realm="pytest-ociregistry"'

    def test_wrong_password(self, oci_registry: OCIRegistry) -> None:
        r = requests.get(f"{oci_registry.url}/v2/", auth=("alice", "nope"), timeout=10)
        assert r.status_code == 401

    def test_granted_and_denied(self, oci_registry: OCIRegistry) -> None:
        url = f"{oci_registry.url}/v2/team/app/blobs/uploads/?digest={D}"
        assert requests.post(url, data=b"data", auth=("alice", "wonderland"), timeout=10).status_code == 201
        r = requests.post(url, data=b"data", auth=("bob", "builder"), timeout=10)
        assert (r.status_code, error_code(r)) == (403, "DENIED")
        r = requests.get(f"{oci_registry.url}/v2/team/app/blobs/{D}", auth=("bob", "builder"), timeout=10)
        assert r.content == b"data"
        r = requests.delete(f"{oci_registry.url}/v2/team/app/blobs/{D}", auth=("alice", "wonderland"), timeout=10)
        assert r.status_code == 403  # alice may not delete in team/*
        assert [r.identity for r in oci_registry.requests] == ["alice", "bob", "bob", "alice"]

    def test_anonymous_pull(self, oci_registry: OCIRegistry) -> None:
        oci_registry.push_blob("public/base", b"data")
        assert requests.get(f"{oci_registry.url}/v2/public/base/blobs/{D}", timeout=10).content == b"data"
        r = requests.post(f"{oci_registry.url}/v2/public/base/blobs/uploads/", timeout=10)
        assert r.status_code == 401
        assert oci_registry.requests[0].identity == "anonymous"

    def test_the_ping_is_always_challenged(self, oci_registry: OCIRegistry) -> None:
        """Clients (skopeo) decide from /v2/ whether to send credentials, even where anonymous pull is on."""
        r = requests.get(f"{oci_registry.url}/v2/", timeout=10)
        assert (r.status_code, r.headers["WWW-Authenticate"]) == (401, 'Basic realm="pytest-ociregistry"')
        oci_registry.push_blob("public/base", b"data")
        empty = {"Authorization": "Basic Og=="}  # what skopeo sends without credentials: anonymous
        assert requests.get(f"{oci_registry.url}/v2/public/base/blobs/{D}", headers=empty, timeout=10).content == b"data"
        assert requests.get(f"{oci_registry.url}/v2/team/x/tags/list", headers=empty, timeout=10).status_code == 401

    def test_catalog_is_its_own_permission(self, oci_registry: OCIRegistry) -> None:
        assert requests.get(f"{oci_registry.url}/v2/_catalog", auth=("alice", "wonderland"), timeout=10).status_code == 200
        assert requests.get(f"{oci_registry.url}/v2/_catalog", auth=("bob", "builder"), timeout=10).status_code == 403

    def test_a_scope_for_one_repository_never_opens_another(self, oci_registry: OCIRegistry) -> None:
        r = requests.get(f"{oci_registry.url}/v2/teamx/app/tags/list", auth=("bob", "builder"), timeout=10)
        assert r.status_code == 403


def token(registry: OCIRegistry, scope: str, auth: tuple[str, str] | None = None, **params: str) -> dict[str, object]:
    r = requests.get(f"{registry.url}/token", params={"service": "pytest-ociregistry", "scope": scope, **params},
                     auth=auth, timeout=10)
    assert r.status_code == 200, r.text
    return dict(r.json())


class TestBearer:
    pytestmark = pytest.mark.oci_registry(auth=BEARER)

    def test_challenge_names_exactly_the_access_needed(self, oci_registry: OCIRegistry) -> None:
        r = requests.post(f"{oci_registry.url}/v2/team/app/blobs/uploads/?mount={D}&from=team/base", timeout=10)
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == (
            f'Bearer realm="{oci_registry.url}/token",service="pytest-ociregistry",'
            'scope="repository:team/app:pull,push repository:team/base:pull"'
        )
        r = requests.get(f"{oci_registry.url}/v2/_catalog", timeout=10)
        assert 'scope="registry:catalog:*"' in r.headers["WWW-Authenticate"]

    def test_basic_credentials_exchanged_for_a_token(self, oci_registry: OCIRegistry) -> None:
        answer = token(oci_registry, "repository:team/app:pull,push", auth=("alice", "wonderland"))
        assert answer["token"] == answer["access_token"] and answer["expires_in"] == 300
        assert str(answer["issued_at"]).endswith("Z")
        headers = {"Authorization": f"Bearer {answer['token']}"}
        r = requests.post(f"{oci_registry.url}/v2/team/app/blobs/uploads/?digest={D}", data=b"data", headers=headers,
                          timeout=10)
        assert r.status_code == 201
        assert oci_registry.requests[-1].identity == "alice"

    def test_the_token_endpoint_never_grants_more_than_the_user_holds(self, oci_registry: OCIRegistry) -> None:
        answer = token(oci_registry, "repository:team/app:pull,push,delete", auth=("bob", "builder"))
        headers = {"Authorization": f"Bearer {answer['token']}"}
        assert requests.get(f"{oci_registry.url}/v2/team/app/tags/list", headers=headers, timeout=10).status_code == 404
        r = requests.post(f"{oci_registry.url}/v2/team/app/blobs/uploads/", headers=headers, timeout=10)
        assert (r.status_code, error_code(r)) == (403, "DENIED")

    def test_a_token_without_the_scope_gets_a_new_challenge(self, oci_registry: OCIRegistry) -> None:
        answer = token(oci_registry, "repository:team/app:pull", auth=("alice", "wonderland"))
        headers = {"Authorization": f"Bearer {answer['token']}"}
        r = requests.post(f"{oci_registry.url}/v2/team/app/blobs/uploads/", headers=headers, timeout=10)
        assert r.status_code == 401
        assert 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]
        r = requests.get(f"{oci_registry.url}/v2/team/other/tags/list", headers=headers, timeout=10)
        assert r.status_code == 401  # a scope for one repository never opens another

    def test_anonymous_token(self, oci_registry: OCIRegistry) -> None:
        oci_registry.push_blob("public/base", b"data")
        assert requests.get(f"{oci_registry.url}/v2/public/base/blobs/{D}", timeout=10).status_code == 401
        answer = token(oci_registry, "repository:public/base:pull")
        headers = {"Authorization": f"Bearer {answer['token']}"}
        assert requests.get(f"{oci_registry.url}/v2/public/base/blobs/{D}", headers=headers, timeout=10).content == b"data"
        assert oci_registry.requests[-1].identity == "anonymous"

    def test_expired_and_foreign_tokens(self, oci_registry: OCIRegistry) -> None:
        short = Auth("bearer", users=(ALICE,), token_ttl=0.2)
        oci_registry.configure(auth=short)
        answer = token(oci_registry, "repository:shared:pull", auth=("alice", "wonderland"))
        headers = {"Authorization": f"Bearer {answer['token']}"}
        assert requests.get(f"{oci_registry.url}/v2/shared/tags/list", headers=headers, timeout=10).status_code == 404
        time.sleep(0.3)
        r = requests.get(f"{oci_registry.url}/v2/shared/tags/list", headers=headers, timeout=10)
        assert r.status_code == 401 and 'error="invalid_token"' in r.headers["WWW-Authenticate"]
        foreign = BEARER.token_for("alice", ["repository:shared:pull"])
        r = requests.get(f"{oci_registry.url}/v2/shared/tags/list", headers={"Authorization": f"Bearer {foreign}"},
                         timeout=10)
        assert r.status_code == 401

    def test_oauth2_password_and_refresh_grants(self, oci_registry: OCIRegistry) -> None:
        form = {"grant_type": "password", "username": "alice", "password": "wonderland", "service": "x",
                "scope": "repository:shared:pull", "client_id": "test"}
        answer = requests.post(f"{oci_registry.url}/token", data=form, timeout=10).json()
        assert set(answer) >= {"access_token", "expires_in", "issued_at", "refresh_token"}
        refreshed = requests.post(f"{oci_registry.url}/token", timeout=10, data={
            "grant_type": "refresh_token", "refresh_token": answer["refresh_token"], "scope": "repository:shared:push"})
        headers = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
        r = requests.post(f"{oci_registry.url}/v2/shared/blobs/uploads/", headers=headers, timeout=10)
        assert r.status_code == 401  # the refreshed token holds push only, not the pull an upload also needs
        bad = requests.post(f"{oci_registry.url}/token", data=dict(form, password="x"), timeout=10)
        assert (bad.status_code, error_code(bad)) == (401, "UNAUTHORIZED")

    def post_token(self, registry: OCIRegistry, **form: str) -> requests.Response:
        return requests.post(f"{registry.url}/token", data={"service": "pytest-ociregistry", **form}, timeout=10)

    def can_push(self, registry: OCIRegistry, token: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        return requests.post(f"{registry.url}/v2/team/app/blobs/uploads/", headers=headers, timeout=10).status_code

    def test_a_post_grants_the_scope_asked_for_and_no_other(self, oci_registry: OCIRegistry) -> None:
        password = {"grant_type": "password", "username": "alice", "password": "wonderland"}
        for scope, status in (("repository:team/app:pull,push", 202), ("repository:team/app:pull", 401),
                              ("repository:team/other:pull,push", 401), ("", 401)):
            answer = self.post_token(oci_registry, **password, scope=scope)
            assert (scope, self.can_push(oci_registry, answer.json()["access_token"])) == (scope, status)

    def test_a_refresh_token_stands_for_its_own_user_only(self, oci_registry: OCIRegistry) -> None:
        scope = "repository:team/app:pull,push"
        for refresh_token in ("not-a-refresh-token", "", BEARER.token_for("alice", [scope])):
            r = self.post_token(oci_registry, grant_type="refresh_token", refresh_token=refresh_token, scope=scope)
            assert (r.status_code, error_code(r)) == (401, "UNAUTHORIZED")
        bobs = self.post_token(oci_registry, grant_type="password", username="bob", password="builder")
        refreshed = self.post_token(oci_registry, grant_type="refresh_token",
                                    refresh_token=bobs.json()["refresh_token"], scope=scope)
        assert self.can_push(oci_registry, refreshed.json()["access_token"]) == 403  # bob's, not alice's

    def test_offline_token_on_get(self, oci_registry: OCIRegistry) -> None:
        answer = token(oci_registry, "repository:shared:pull", auth=("alice", "wonderland"), offline_token="true")
        assert "refresh_token" in answer

    def test_token_for(self, oci_registry: OCIRegistry) -> None:
        headers = {"Authorization": f"Bearer {oci_registry.token_for('alice', ['registry:catalog:*'])}"}
        assert requests.get(f"{oci_registry.url}/v2/_catalog", headers=headers, timeout=10).status_code == 200
        with pytest.raises(ValueError, match="no such user"):
            oci_registry.token_for("mallory", [])


@pytest.mark.parametrize(
    ("quirks", "check"),
    [
        ({"challenge_service": False}, "no-service"),
        ({"anonymous_catalog_empty": True}, "empty-catalog"),
        ({"token_get_only": True}, "get-only"),
    ],
)
def test_quirks(oci_registry: OCIRegistry, quirks: dict[str, bool], check: str) -> None:
    oci_registry.configure(auth=Auth("bearer", users=(ALICE,), **quirks))
    if check == "no-service":
        header = requests.get(f"{oci_registry.url}/v2/shared/tags/list", timeout=10).headers["WWW-Authenticate"]
        assert header == f'Bearer realm="{oci_registry.url}/token",scope="repository:shared:pull"'
    elif check == "empty-catalog":
        r = requests.get(f"{oci_registry.url}/v2/_catalog", timeout=10)
        assert (r.status_code, r.content) == (200, b'{"repositories":[]}')
        assert r.headers["WWW-Authenticate"].startswith("Bearer ")
    else:
        r = requests.post(f"{oci_registry.url}/token", data={"grant_type": "password"}, timeout=10)
        assert r.status_code == 405
        assert token(oci_registry, "repository:shared:pull", auth=("alice", "wonderland"))["token"]


def test_a_separate_token_server(oci_registry: OCIRegistry, make_oci_registry: object) -> None:
    auth_server = make_oci_registry(auth=BEARER)  # type: ignore[operator]
    shared = Auth("bearer", users=(ALICE,), realm=f"{auth_server.url}/token")
    oci_registry.configure(auth=shared)
    challenge = requests.get(f"{oci_registry.url}/v2/shared/tags/list", timeout=10).headers["WWW-Authenticate"]
    assert challenge.startswith(f'Bearer realm="{auth_server.url}/token"')
    # tokens from another Auth are foreign here
    foreign = token(auth_server, "repository:shared:pull", auth=("alice", "wonderland"))["token"]
    r = requests.get(f"{oci_registry.url}/v2/shared/tags/list", headers={"Authorization": f"Bearer {foreign}"},
                     timeout=10)
    assert r.status_code == 401


def test_from_string() -> None:
    auth = Auth.from_string("bearer:ci:pw")
    assert (auth.scheme, auth.users[0].name, auth.users[0].password) == ("bearer", "ci", "pw")
    with pytest.raises(ValueError, match="SCHEME:USER:PASSWORD"):
        Auth.from_string("basic")
    with pytest.raises(ValueError, match="auth scheme"):
        Auth("digest")


# Answers as distribution's token mode gives them ---------------------------------------------------------------------

UNAUTHORIZED = '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":%s}]}'
PULL_PUSH = ('[{"Type":"repository","Class":"","Name":"team/app","Action":"pull"},'
             '{"Type":"repository","Class":"","Name":"team/app","Action":"push"}]')


@pytest.mark.parametrize("preset", ["reference", "spec", "distribution"])
@pytest.mark.parametrize("auth", [BASIC, BEARER], ids=["basic", "bearer"])
def test_every_v2_answer_says_its_api_version(oci_registry: OCIRegistry, preset: str, auth: Auth) -> None:
    """The docker CLI reads the header on the 401 to GET /v2/ ("unsupported registry version" without it)."""
    oci_registry.options = PRESETS[preset].replace(auth=auth)
    for url in ("/v2/", "/v2", "/v2/team/app/tags/list", "/v2/_catalog"):
        r = requests.get(f"{oci_registry.url}{url}", timeout=10)
        assert (r.status_code, r.headers["Docker-Distribution-API-Version"]) == (401, "registry/2.0"), url
    r = requests.post(f"{oci_registry.url}/v2/team/app/blobs/uploads/", auth=("bob", "builder"), timeout=10)
    assert (r.status_code, r.headers["Docker-Distribution-API-Version"]) == (
        (403, "registry/2.0") if auth is BASIC else (401, "registry/2.0")
    )


@pytest.mark.oci_registry(auth=BASIC)
def test_401_bodies_list_the_access_needed(oci_registry: OCIRegistry) -> None:
    """As distribution: ``detail`` names each action needed, ``null`` for the ping."""
    r = requests.get(f"{oci_registry.url}/v2/", timeout=10)
    assert r.content == (UNAUTHORIZED % "null").encode()
    r = requests.post(f"{oci_registry.url}/v2/team/app/blobs/uploads/", timeout=10)
    assert r.content == (UNAUTHORIZED % PULL_PUSH).encode()


@pytest.mark.oci_registry(auth=BEARER)
def test_an_anonymous_token_without_the_scope_is_told_to_log_in(oci_registry: OCIRegistry) -> None:
    """alice may push to team/app, so an anonymous push there gets 401 insufficient_scope (docker: refused at once),
    not 403 (which docker takes for a transient error and retries for 50 s)."""
    answer = token(oci_registry, "repository:team/app:pull,push")
    r = requests.post(f"{oci_registry.url}/v2/team/app/blobs/uploads/",
                      headers={"Authorization": f"Bearer {answer['token']}"}, timeout=10)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == (
        f'Bearer realm="{oci_registry.url}/token",service="pytest-ociregistry",'
        'scope="repository:team/app:pull,push",error="insufficient_scope"'
    )
    assert r.content == (UNAUTHORIZED % PULL_PUSH).encode()
    assert oci_registry.requests[-1].identity == "anonymous"


@pytest.mark.oci_registry(auth=BEARER)
def test_403_only_for_access_nobody_can_get_and_it_says_why(oci_registry: OCIRegistry) -> None:
    anonymous = token(oci_registry, "repository:nobody/x:pull")["token"]
    r = requests.get(f"{oci_registry.url}/v2/nobody/x/tags/list", headers={"Authorization": f"Bearer {anonymous}"},
                     timeout=10)
    assert (r.status_code, "WWW-Authenticate" in r.headers) == (403, False)
    assert r.json() == {"errors": [{
        "code": "DENIED", "message": "requested access to the resource is denied: no user has pull access to nobody/x",
        "detail": [{"Type": "repository", "Class": "", "Name": "nobody/x", "Action": "pull"}]}]}
    bob = token(oci_registry, "repository:team/app:pull,push registry:catalog:*", auth=("bob", "builder"))["token"]
    r = requests.post(f"{oci_registry.url}/v2/team/app/blobs/uploads/", headers={"Authorization": f"Bearer {bob}"},
                      timeout=10)
    assert r.json()["errors"][0]["message"] == "requested access to the resource is denied: bob has no push access to team/app"
    assert r.json()["errors"][0]["detail"] == [{"Type": "repository", "Class": "", "Name": "team/app", "Action": "push"}]
    r = requests.get(f"{oci_registry.url}/v2/_catalog", headers={"Authorization": f"Bearer {bob}"}, timeout=10)
    assert (r.status_code, r.json()["errors"][0]["message"]) == (
        403, "requested access to the resource is denied: bob has no access to the catalog")


@pytest.mark.oci_registry(auth=BEARER)
def test_basic_credentials_at_a_bearer_registry_are_asked_for_a_token(oci_registry: OCIRegistry) -> None:
    r = requests.get(f"{oci_registry.url}/v2/shared/tags/list", auth=("alice", "wonderland"), timeout=10)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == (
        f'Bearer realm="{oci_registry.url}/token",service="pytest-ociregistry",scope="repository:shared:pull"'
    )


def test_a_token_belongs_to_the_test_that_got_it(pytester: pytest.Pytester) -> None:
    """With a module-level Auth, a token from one test is refused in the next: ``reset()`` revokes it."""
    pytester.makepyfile(
        """
        import pytest, requests
        from pytest_ociregistry import Auth, User

        AUTH = Auth("bearer", users=(User("ci", "pw"),))
        pytestmark = pytest.mark.oci_registry(auth=AUTH)
        held = {}

        def get(registry, token):
            return requests.get(f"{registry.url}/v2/foo/tags/list", headers={"Authorization": f"Bearer {token}"})

        def test_one(oci_registry):
            held["token"] = oci_registry.token_for("ci", ["repository:foo:pull"])
            held["refresh"] = requests.get(f"{oci_registry.url}/token", auth=("ci", "pw"),
                params={"scope": "repository:foo:pull", "offline_token": "true"}).json()["refresh_token"]
            assert get(oci_registry, held["token"]).status_code == 404

        def test_two(oci_registry):
            r = get(oci_registry, held["token"])
            assert r.status_code == 401 and 'error="invalid_token"' in r.headers["WWW-Authenticate"]
            r = requests.post(f"{oci_registry.url}/token", data={"grant_type": "refresh_token",
                              "refresh_token": held["refresh"], "scope": "repository:foo:pull"})
            assert r.status_code == 401
            assert get(oci_registry, oci_registry.token_for("ci", ["repository:foo:pull"])).status_code == 404
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_from_arguments() -> None:
    auth = Auth.from_arguments(
        "basic:ci:p:w", ["alice:x", "bob:y"], ["bob:team/*:pull", "bob:shared:*"], ["public/*:pull,push"],
        anonymous_catalog=True, no_catalog=["bob"], settings=["realm=https://h/token", "token-ttl=5"],
    )
    assert auth.scheme == "basic" and auth.anonymous == {"public/*": "pull,push"} and auth.anonymous_catalog
    assert auth.users == (User("ci", "p:w"), User("alice", "x"), User("bob", "y", {"team/*": "pull", "shared": "*"},
                                                                     catalog=False))
    assert (auth.realm, auth.token_ttl) == ("https://h/token", 5.0)
    assert Auth.from_arguments("bearer").users == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"auth": "digest"}, "auth scheme"),
        ({"auth": "bearer", "users": ["alice"]}, "a user is NAME:PASSWORD, not 'alice'"),
        ({"auth": "bearer:a:b", "users": ["a:c"]}, "user 'a' is given twice"),
        ({"auth": "bearer:a:b", "grants": ["a:team/*"]}, "a grant is USER:GLOB:ACTIONS, not 'a:team/*'"),
        ({"auth": "bearer:a:b", "grants": ["z:x:pull"]}, "names 'z', who is not a user"),
        ({"auth": "bearer:a:b", "grants": ["a:x:pull,fly"]}, "unknown action(s) fly"),
        ({"auth": "bearer", "anonymous": ["pull"]}, "an anonymous grant is GLOB:ACTIONS"),
        ({"auth": "bearer", "no_catalog": ["z"]}, "no catalog for 'z', who is not a user"),
        ({"auth": "bearer", "settings": ["colour=red"]}, "unknown auth setting(s): colour"),
        ({"auth": "bearer", "settings": ["token_ttl=soon"]}, "could not convert"),
    ],
)
def test_from_arguments_says_what_is_wrong(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as info:
        Auth.from_arguments(**kwargs)
    assert message in str(info.value)
