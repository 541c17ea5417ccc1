"""python-dxf's ``test/conftest.py``, as this project's adapter (the sdist ships the tests without their conftest).

Upstream, each fixture parameter starts ``registry:2`` in docker (htpasswd or token auth through cesanta/docker_auth,
TLS from a certificate in the repository) on localhost:5000. Here each parameter starts the registry named by
``PEER_REGISTRY`` (``ours:<preset>``: ``python -m pytest_ociregistry``; ``docker-registry``: Debian's, with our token
server for token auth) on a free port, with the same users and grants: ``fred`` may do everything, and with tokens an
anonymous caller may list the catalog. The parameters are upstream's, by the same names.

What needed docker is done over the registry API: ``copy_registry_image`` pushes a small Docker image to
``test/registry:<regver>`` with python-dxf (upstream: ``docker push`` of the ``registry`` image) and ``reg_digest`` is
its config digest (upstream: ``docker inspect``); ``gc`` does nothing (upstream runs the registry's garbage collector,
which its test says "isn't needed to make a 404"). The blobs are random files of upstream's sizes; the tests that
replay Docker Hub recordings (not in the sdist) are deselected by the outer test.
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import tempfile
import time
import types
from pathlib import Path
from typing import Any

import dxf
import dxf.exceptions
import dxf.main
import pytest
import requests
from peer_support import AuthSetup, start_registry

_username = "fred"
_password = "!WordPass0$"
_work = Path(tempfile.mkdtemp(prefix="dxf-peer-"))
_current: dict[str, Any] = {}


def _gc() -> None:
    """Upstream runs the registry's garbage collector; the tests need nothing from it."""


def _image() -> tuple[bytes, bytes, str]:
    layer = random.Random("layer").randbytes(4096)
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [dxf.hash_bytes(layer)]}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config),
                   "digest": dxf.hash_bytes(config)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(layer),
                    "digest": dxf.hash_bytes(layer)}],
    })
    return config, layer, manifest


def _copy_registry_image(regver: Any) -> None:
    """Push an image to ``test/registry:<regver>`` as the fixture's client would."""
    host, auth, insecure, tlsverify = _current["client"]
    config, layer, manifest = _image()
    client = dxf.DXF(host, "test/registry", auth, insecure, None, tlsverify)
    for blob in (config, layer):
        client.push_blob(data=blob, digest=dxf.hash_bytes(blob))
    client.set_manifest(str(regver), manifest)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_work, ignore_errors=True)  # the blob files written below


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "onlytest: only run this test")
    config.addinivalue_line("markers", "record: record HTTP requests")
    sizes = {"blob1": 1, "blob2": 2, "blob3": 2, "blob4": 2}
    for name, mib in sizes.items():
        data = random.Random(name).randbytes(mib * 1024 * 1024)
        (_work / name).write_bytes(data)
        setattr(pytest, f"{name}_file", str(_work / name))
        setattr(pytest, f"{name}_hash", dxf.hash_bytes(data))
        setattr(pytest, f"{name}_size", len(data))
    pytest.username = _username  # type: ignore[attr-defined]
    pytest.password = _password  # type: ignore[attr-defined]
    basic = base64.b64encode(f"{_username}:{_password}".encode()).decode()
    pytest.authorization = "Basic " + basic  # type: ignore[attr-defined]
    pytest.repo = "foo/bar"  # type: ignore[attr-defined]
    pytest.gc = _gc  # type: ignore[attr-defined]
    pytest.copy_registry_image = _copy_registry_image  # type: ignore[attr-defined]


def _auth_up(dxf_obj: Any, response: Any) -> None:
    dxf_obj.authenticate(pytest.username, pytest.password, response=response)  # type: ignore[attr-defined]


def _auth_authz(dxf_obj: Any, response: Any) -> None:
    dxf_obj.authenticate(authorization=pytest.authorization, response=response)  # type: ignore[attr-defined]


def record_or_replay(f: Any) -> Any:
    """Upstream replays recorded Docker Hub answers; these tests are deselected (the recordings are not shipped)."""
    return f


_fixture_params = []
for regver in [2]:
    for from_base in [False, True]:
        _fixture_params.extend([(regver, from_base, None, False, True),
                                (regver, from_base, _auth_up, None, True),
                                (regver, from_base, _auth_up, False, True),
                                (regver, from_base, _auth_up, True, True),
                                (regver, from_base, _auth_authz, False, True),
                                (regver, from_base, _auth_authz, True, True),
                                (regver, from_base, _auth_authz, True, False)])
_IDS = ["plain", "basic-http", "basic", "token", "authz-basic", "authz-token", "authz-token-noverify"]
_fixture_ids = _IDS + [f"{name}-base" for name in _IDS]
# PEER_DXF_CONFIGS=distinct keeps the configurations the registry can tell apart (no auth; Basic over plain HTTP,
# refused by python-dxf; Basic and token auth over TLS): the others differ only in how python-dxf builds its client
# (DXFBase, an Authorization header instead of a password, no TLS verification) and send the same requests.
if os.environ.get("PEER_DXF_CONFIGS") == "distinct":
    _kept = [i for i, name in enumerate(_fixture_ids) if name in ("plain", "basic-http", "basic", "token")]
    _fixture_params = [_fixture_params[i] for i in _kept]
    _fixture_ids = [_fixture_ids[i] for i in _kept]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """test_see_progress sleeps (0.05 s a write, 0.025 s a tqdm update) only to slow the progress display down,
    10 s a configuration; the sleeps are skipped, the transfers it watches are not."""
    for item in items:
        module = getattr(item, "module", None)
        if item.name.startswith("test_see_progress") and module is not None:
            module.time = types.SimpleNamespace(sleep=lambda seconds: None)


def _setup_fixture(request: Any) -> tuple[Any, ...]:
    """Start the registry for this parameter: TLS whenever there is auth over HTTPS (``do_token`` not None),
    htpasswd-style Basic auth or token auth."""
    regver, from_base, auth, do_token, tlsverify = request.param
    tls = auth is not None and do_token is not None
    setup = None if auth is None else AuthSetup("token" if do_token else "basic", _username, _password)
    work = _work / f"registry-{len(list(_work.iterdir()))}"
    registry = start_registry(os.environ["PEER_REGISTRY"], work, tls=tls, auth=setup)
    request.addfinalizer(registry.stop)
    if registry.ca_bundle is not None:
        os.environ["REQUESTS_CA_BUNDLE"] = registry.ca_bundle
    _current["registry"] = registry
    _current["client"] = (registry.host, auth, (auth is None) or (do_token is None), tlsverify)
    return regver, from_base, auth, do_token, tlsverify


def _reg_digest() -> str:
    return dxf.hash_bytes(_image()[0])


@pytest.fixture(scope="module", params=_fixture_params, ids=_fixture_ids)
def dxf_obj(request: Any) -> Any:
    regver, from_base, auth, do_token, tlsverify = _setup_fixture(request)
    host = _current["registry"].host
    if from_base:
        base = dxf.DXFBase(host, auth, (auth is None) or (do_token is None), None, tlsverify)
        r = dxf.DXF.from_base(base, pytest.repo)  # type: ignore[attr-defined]
    else:
        r = dxf.DXF(host, pytest.repo, auth, (auth is None) or (do_token is None), None, tlsverify)  # type: ignore[attr-defined]
    r.test_do_auth = auth
    r.test_do_token = do_token
    r.regver = regver
    r.reg_digest = _reg_digest()
    lex: Exception = Exception("should never be thrown")
    for _ in range(5):
        try:
            if do_token is None:
                with pytest.raises(dxf.exceptions.DXFAuthInsecureError):
                    r.authenticate(pytest.username, pytest.password)  # type: ignore[attr-defined]
                return pytest.skip()
            assert not r.list_repos()
            return r
        except requests.exceptions.ConnectionError as ex:
            lex = ex
            time.sleep(1)
    raise lex


@pytest.fixture(scope="module")
def dxf_regobj() -> Any:
    pytest.skip("Docker Hub (registry-1.docker.io): needs the internet")


@pytest.fixture(scope="module", params=_fixture_params, ids=_fixture_ids)
def dxf_main(request: Any) -> Any:
    regver, from_base, auth, do_token, tlsverify = _setup_fixture(request)
    if from_base:
        return pytest.skip()
    environ = {
        "DXF_HOST": _current["registry"].host,
        "DXF_INSECURE": "1" if ((auth is None) or (do_token is None)) else "0",
        "DXF_SKIPTLSVERIFY": "0" if tlsverify else "1",
        "TEST_DO_AUTH": auth,
        "TEST_DO_TOKEN": do_token,
        "REGVER": regver,
        "REG_DIGEST": _reg_digest(),
    }
    if auth is _auth_up:
        environ["DXF_USERNAME"] = pytest.username  # type: ignore[attr-defined]
        environ["DXF_PASSWORD"] = pytest.password  # type: ignore[attr-defined]
    elif auth is _auth_authz:
        environ["DXF_AUTHORIZATION"] = pytest.authorization  # type: ignore[attr-defined]
    lex: Exception = Exception("should never be thrown")
    for _ in range(5):
        try:
            if do_token is None:
                with pytest.raises(dxf.exceptions.DXFAuthInsecureError):
                    dxf.main.doit(["auth", pytest.repo], environ)  # type: ignore[attr-defined]
                return pytest.skip()
            assert dxf.main.doit(["list-repos"], environ) == 0
            return environ
        except requests.exceptions.ConnectionError as ex:
            lex = ex
            time.sleep(1)
    raise lex


@pytest.fixture(scope="module")
def dxf_regmain() -> Any:
    pytest.skip("Docker Hub (registry-1.docker.io): needs the internet")
