"""oras-py and python-dxf against each hosted preset (see ``hosted.py``): a push and a pull, chunked pushes, the tag
list, the catalog and a delete, each asserting the outcome the matrix declares for that preset."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import requests
from client_support import assert_gone, ca_bundle, chunks_of, write_files
from hosted import HostedCell, Outcome, accepting, evidence
from matrix import USER

from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.manifest import DOCKER_MANIFEST
from pytest_ociregistry.names import digest_of

MIB = 1024 * 1024


@pytest.fixture
def oras_client(registry: OCIRegistry, oras_provider: Any) -> Any:
    """An oras-py client on the cell's registry (plain HTTP)."""
    return oras_provider.Registry(hostname=registry.host, insecure=True)


def files_to_push(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sizes: dict[str, int]) -> dict[str, bytes]:
    """Files of ``sizes`` in the working directory (oras-py pushes paths relative to it)."""
    files = write_files(tmp_path, sizes)
    monkeypatch.chdir(tmp_path)
    return files


def image_config(directory: Path) -> str:
    """Write ``config.json`` (``{}``) in ``directory``; return oras-py's ``manifest_config`` naming it an OCI image
    config."""
    (directory / "config.json").write_text("{}")
    return f"{directory / 'config.json'}:application/vnd.oci.image.config.v1+json"


def assert_pulled(client: Any, target: str, out: Path, files: dict[str, bytes]) -> None:
    pulled = client.pull(target, outdir=str(out))
    assert sorted(Path(p).name for p in pulled) == sorted(files)
    for name, data in files.items():
        assert (out / name).read_bytes() == data


@evidence("oras-py", ("push", "pull"))
def test_oras_push_pull(
    cell: HostedCell,
    outcomes: dict[str, Outcome],
    registry: OCIRegistry,
    oras_client: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """oras-py pushes two small files (POST, then PUT with the body; its config is the empty ``{}`` as
    ``application/vnd.unknown.config.v1+json``) and pulls them back."""
    files = files_to_push(tmp_path / "src", monkeypatch, {"a.txt": 10, "b.bin": 5000})
    target = f"{registry.host}/foo/artifact:v1"
    pushed = outcomes["push"].call(
        oras_client.push, target, files=sorted(files), quiet=True, printed=lambda: caplog.text
    )
    if pushed is None:  # refused: the same push, taken as it is, for the pull
        with accepting(registry):
            oras_client.push(target, files=sorted(files), quiet=True)
    else:
        assert pushed.status_code == 201  # type: ignore[attr-defined]
        for data in files.values():
            assert registry.blob("foo/artifact", digest_of(data)) == data
    outcomes["pull"].call(assert_pulled, oras_client, target, tmp_path / "out", files)


@evidence("oras-py", ("chunked push (4 MiB chunks)", "chunked push (16 MiB chunks, its default)"))
def test_oras_chunked_push(
    cell: HostedCell,
    outcomes: dict[str, Outcome],
    registry: OCIRegistry,
    oras_client: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """oras-py pushes a 5 MiB file in ``Content-Range`` PATCHes: 4 MiB then 1 MiB, and in one 5 MiB PATCH (its
    default chunk size is 16 MiB). It takes any 2xx for a PATCH and counts the offset itself (never reads
    ``Range``). (Its config is an OCI image config, which every preset takes: these rows are about the upload.)"""
    for (operation, outcome), chunk in zip(outcomes.items(), (4 * MIB, 16 * MIB)):
        name = f"chunks-of-{chunk // MIB}.bin"
        data = files_to_push(tmp_path / name, monkeypatch, {name: 5 * MIB})[name]
        registry.requests.clear()
        target = f"{registry.host}/foo/artifact:{name.removesuffix('.bin')}"
        outcome.call(
            oras_client.push, target, files=[name], do_chunked=True, chunk_size=chunk, quiet=True,
            manifest_config=image_config(tmp_path / name), printed=lambda: caplog.text,
        )  # fmt: skip
        patches = [e.headers.get("Content-Range") for e in registry.requests if e.method == "PATCH"]
        sent = ["0-4194303", "4194304-5242879"] if chunk == 4 * MIB else ["0-5242879"]
        assert patches[: len(sent)] == sent[: len(patches)] and patches, patches
        if outcome.passes:
            assert patches == sent
            assert registry.blob("foo/artifact", digest_of(data)) == data


@evidence("oras-py", ("push with an OCI image config",))
def test_oras_push_with_image_config(
    cell: HostedCell,
    outcomes: dict[str, Outcome],
    registry: OCIRegistry,
    oras_client: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """oras-py pushes a file with a config of its own typed ``application/vnd.oci.image.config.v1+json``
    (``manifest_config="config.json:<type>"``): what a registry that takes only known config types accepts."""
    files = files_to_push(tmp_path / "src", monkeypatch, {"a.txt": 10})
    target = f"{registry.host}/foo/artifact:v1"
    config = image_config(tmp_path / "src")
    pushed = outcomes["push with an OCI image config"].call(
        oras_client.push, target, files=["a.txt"], manifest_config=config, quiet=True
    )
    if pushed is not None:
        stored = json.loads(registry.manifest("foo/artifact", "v1").data)
        assert stored["config"] == {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                                    "digest": digest_of(b"{}")}  # fmt: skip
        assert registry.blob("foo/artifact", digest_of(files["a.txt"])) == files["a.txt"]


@evidence("oras-py", ("attach (push with a subject)",))
def test_oras_attach(
    cell: HostedCell,
    outcomes: dict[str, Outcome],
    registry: OCIRegistry,
    oras_client: Any,
    oras_provider: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """oras-py pushes a file as an artifact whose ``subject`` is an image in the repository (with an OCI image
    config, which every preset takes). The registry answers ``OCI-Subject`` where it keeps the referrers API, or
    where it says so without one (DH-6, ECR-7); the referrers API lists the artifact, or answers as the service
    does without one (404; ART-1's 406). oras-py 0.2 reads neither: it pushes alike everywhere."""
    subject = registry.push_image("foo/app", "v1", layers=[b"the subject"])
    files_to_push(tmp_path / "src", monkeypatch, {"signature.txt": 42})
    attached = outcomes["attach (push with a subject)"].call(
        oras_client.push, f"{registry.host}/foo/app:sig", files=["signature.txt"], quiet=True,
        manifest_config=image_config(tmp_path / "src"),
        subject=oras_provider.oras.oci.Subject(subject.media_type, subject.digest, subject.size),
    )  # fmt: skip
    if attached is None:
        return
    options = registry.options
    says = options.referrers_enabled or options.oci_subject_without_referrers
    assert attached.headers.get("OCI-Subject") == (subject.digest if says else None)  # type: ignore[attr-defined]
    answer = requests.get(f"{registry.url}/v2/foo/app/referrers/{subject.digest}")
    if options.referrers_enabled:
        assert answer.status_code == 200
        assert [m["digest"] for m in answer.json()["manifests"]] == [registry.manifest("foo/app", "sig").digest]
    else:
        assert answer.status_code == options.referrers_disabled_status


@evidence("oras-py", ("tag list", "delete"))
def test_oras_tags_and_delete(
    cell: HostedCell, outcomes: dict[str, Outcome], registry: OCIRegistry, oras_client: Any
) -> None:
    """oras-py lists five tags (following any ``Link``), then deletes one (HEAD for its digest, then
    DELETE by digest)."""
    tags = [f"t{i}" for i in range(5)]
    for tag in tags:
        registry.push_image("foo/bar", tag, layers=(), config=b"{}", annotations={"tag": tag})
    repo = f"{registry.host}/foo/bar"
    listed = outcomes["tag list"].call(oras_client.get_tags, repo)
    if listed is not None:
        assert listed == tags
    deleted = outcomes["delete"].call(oras_client.delete_tag, repo, "t3")
    if deleted is not None:
        assert deleted is True
        assert_gone(registry, "foo/bar", "t3")


@evidence("python-dxf", ("push", "pull"))
def test_dxf_push_pull(cell: HostedCell, outcomes: dict[str, Outcome], registry: OCIRegistry, dxf_module: Any) -> None:
    """python-dxf pushes a blob (POST, then a PUT with a chunked-encoded body) and names it with a Docker
    schema 2 manifest (``set_alias``); reads the alias back (GET; the digest from ``Docker-Content-Digest``, else
    its own hash of the body) and the blob."""
    data = random.Random("dxf").randbytes(300_000)
    with dxf_module.DXF(registry.host, "foo/bar", insecure=True) as client:

        def push() -> str:
            client.push_blob(data=chunks_of(data, 65_536), digest=digest_of(data))
            manifest: str = client.set_alias("v1", digest_of(data))
            return manifest

        manifest = outcomes["push"].call(push)
        if manifest is None:  # refused: store python-dxf's own manifest as it is, for the pull
            registry.push_blob("foo/bar", data)
            manifest = client.make_manifest(digest_of(data))
            with accepting(registry):
                registry.push_manifest("foo/bar", "v1", manifest.encode(), DOCKER_MANIFEST)
        assert registry.manifest("foo/bar", "v1").data == manifest.encode()  # type: ignore[union-attr]

        def pull() -> None:
            assert client.get_alias("v1") == [digest_of(data)]
            assert b"".join(client.pull_blob(digest_of(data))) == data

        outcomes["pull"].call(pull)


@evidence("python-dxf", ("catalog (paged)", "delete"))
def test_dxf_catalog_and_delete(
    cell: HostedCell, outcomes: dict[str, Outcome], registry: OCIRegistry, dxf_module: Any
) -> None:
    """python-dxf lists the catalog one repository at a time (following ``Link``), and deletes an alias (GET for
    its digest, then DELETE by digest)."""
    for repo in ("foo/bar", "foo/other"):
        registry.push_image(repo, "v1", layers=[repo.encode()])
    base = dxf_module.DXFBase(registry.host, insecure=True)
    listed = outcomes["catalog (paged)"].call(base.list_repos, batch_size=1)
    if listed is not None:
        assert listed == ["foo/bar", "foo/other"]
    with dxf_module.DXF(registry.host, "foo/bar", insecure=True) as client:
        deleted = outcomes["delete"].call(client.del_alias, "v1")
        if deleted is not None:
            assert_gone(registry, "foo/bar", "v1")


@evidence("python-dxf", ("catalog with credentials",), auth="bearer", tls=True)
def test_dxf_catalog_with_credentials(
    cell: HostedCell, outcomes: dict[str, Outcome], registry: OCIRegistry, dxf_module: Any
) -> None:
    """With a user configured, python-dxf logs in as the registry challenges it (a token for ``registry:catalog:*``,
    or Basic credentials) and lists the catalog, over HTTPS (it sends credentials over nothing else)."""
    registry.push_image("foo/bar", "v1", layers=[b"catalogued"])

    def log_in(dxf: Any, response: Any) -> None:
        dxf.authenticate(USER.name, USER.password, response=response)

    base = dxf_module.DXFBase(registry.host, auth=log_in, tlsverify=ca_bundle(registry))
    listed = outcomes["catalog with credentials"].call(base.list_repos)
    if listed is not None:
        assert listed == ["foo/bar"]
