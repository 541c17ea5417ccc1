"""Snapshots and the session baseline: ``Store.snapshot``/``reset(snapshot)``, ``OCIRegistry.snapshot``/``restore``/
``baseline``, the plugin's ``oci_registry_load`` and ``--oci-registry-load``, and ``python -m pytest_ociregistry
--load``."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import requests

from pytest_ociregistry import OCIRegistry, Store, content
from pytest_ociregistry.names import digest_of
from pytest_ociregistry.store import Snapshot


def test_restore_goes_back_and_shares_content() -> None:
    registry = OCIRegistry()
    kept = registry.push_image("a", "1", [b"kept"])
    registry.open_upload("a", b"partial")
    snap = registry.snapshot()
    assert snap.objects == 3  # config, layer, manifest: an open upload is not part of a snapshot
    registry.push_image("a", "2", [b"later"])
    registry.push_image("b", "1")
    registry.store.delete_manifest("a", "1")
    registry.restore(snap)
    assert (registry.repositories(), registry.tags("a")) == (["a"], ["1"])
    assert registry.manifest("a", "1").digest == kept.digest and registry.uploads("a") == {}
    # Changes after a restore leave the snapshot alone: it can be restored again and again.
    registry.push_image("a", "3")
    registry.store.delete_manifest("a", "1")
    registry.restore(snap)
    assert registry.tags("a") == ["1"]
    # Nothing is copied: the very blob objects come back.
    layer = json.loads(registry.manifest("a", "1").data)["layers"][0]["digest"]
    assert registry.store.get_blob("a", layer) is snap.repos["a"].blobs[layer]


def test_reset_goes_back_to_the_baseline() -> None:
    registry = OCIRegistry()
    registry.push_image("base", "1")
    registry.baseline = registry.snapshot()
    registry.push_image("base", "2")
    registry.configure(delete_enabled=False)
    registry.reset()
    assert registry.tags("base") == ["1"] and registry.options.delete_enabled
    registry.baseline = None
    registry.reset()
    assert registry.repositories() == []


def test_reset_to_a_big_baseline_takes_time_independent_of_its_size() -> None:
    """1,000 objects of 1 KiB and 1,000 of 64 KiB (64 MiB): the reset is the same cost, well under a millisecond
    here, and shares every blob."""
    timings = []
    for size in (1024, 65536):
        store = Store()
        for i in range(1000):
            data = i.to_bytes(4, "big") * (size // 4)
            store.put_blob(f"r{i % 10}", [data], digest_of(data))
        snap = store.snapshot()
        store.put_blob("r0", [b"x"], digest_of(b"x"))
        timings.append(min(_timed(store, snap) for _ in range(50)))
        first = digest_of(bytes(size))
        assert store.get_blob("r0", first) is snap.repos["r0"].blobs[first]
    assert max(timings) < 0.005, timings  # generous: a shared machine; measured about 2 µs


def _timed(store: Store, snap: Snapshot) -> float:
    start = time.perf_counter()
    store.reset(snap)
    return time.perf_counter() - start


def test_a_failing_group_of_changes_is_undone() -> None:
    store = Store()
    store.put_blob("a", [b"a"], digest_of(b"a"))
    upload = store.start_upload("a")
    with pytest.raises(RuntimeError), store.atomic():
        store.put_blob("a", [b"b"], digest_of(b"b"))
        store.put_blob("new", [b"c"], digest_of(b"c"))
        raise RuntimeError
    assert store.repositories()[0] == ["a"] and store.upload_sizes("a") == {upload.id: 0}
    with pytest.raises(Exception, match="BLOB_UNKNOWN"):
        store.get_blob("a", digest_of(b"b"))


# The plugin's session baseline -------------------------------------------------------------------------------------


@pytest.fixture
def saved_layout(tmp_path: Path) -> Path:
    registry = OCIRegistry()
    registry.push("team/base", content.index([content.image([b"amd"]), content.image([b"arm"])]), "1")
    registry.export("team/base:1", tmp_path / "base")
    return tmp_path / "base"


TESTS = """
import json, urllib.request

def test_one(oci_registry):
    assert oci_registry.tags("{repo}") == ["1"]
    oci_registry.store.delete_manifest("{repo}", "1")
    oci_registry.push_image("mine", "x")

def test_two(oci_registry):
    assert oci_registry.repositories() == ["{repo}"]
    with urllib.request.urlopen(oci_registry.url + "/v2/{repo}/tags/list") as r:
        assert json.load(r) == {{"name": "{repo}", "tags": ["1"]}}
"""


@pytest.mark.parametrize("source", ["ini", "command line"])
def test_the_session_baseline(pytester: pytest.Pytester, saved_layout: Path, source: str) -> None:
    if source == "ini":
        pytester.makeini(f"[pytest]\noci_registry_load =\n    {saved_layout}\n")
        pytester.makepyfile(TESTS.format(repo="team/base"))
        result = pytester.runpytest("-p", "no:randomly")
    else:
        pytester.makepyfile(TESTS.format(repo="other"))
        result = pytester.runpytest("-p", "no:randomly", f"--oci-registry-load={saved_layout}=other")
    result.assert_outcomes(passed=2)


def test_ini_paths_are_relative_to_the_ini_file(pytester: pytest.Pytester, saved_layout: Path) -> None:
    saved_layout.rename(pytester.path / "images")
    pytester.mkdir("sub")
    pytester.makeini("[pytest]\noci_registry_load = images=rel\n")
    pytester.makepyfile(**{"sub/test_x": "def test_x(oci_registry):\n    assert oci_registry.tags('rel') == ['1']\n"})
    pytester.runpytest("-p", "no:randomly", "sub").assert_outcomes(passed=1)


def test_a_bad_baseline_fails_every_test_with_its_reason(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile("def test_x(oci_registry):\n    pass\n")
    result = pytester.runpytest("-p", "no:randomly", f"--oci-registry-load={tmp_path / 'nope'}")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*oci_registry_load: {tmp_path / 'nope'}: no such file or directory*"])


def test_a_baseline_needs_the_in_process_registry(pytester: pytest.Pytester, saved_layout: Path) -> None:
    pytester.makepyfile("def test_x(oci_registry):\n    pass\n")
    result = pytester.runpytest("-p", "no:randomly", "-rs", f"--oci-registry-load={saved_layout}=x",
                                "--oci-registry-url=http://127.0.0.1:9")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*oci_registry_load (a session baseline) needs the in-process registry*"])


def test_a_session_fixtures_pushes_as_the_baseline(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest

@pytest.fixture(scope="session")
def oci_registry_server(oci_registry_server):
    oci_registry_server.push_image("seeded", "1")
    oci_registry_server.baseline = oci_registry_server.snapshot()
    return oci_registry_server
"""
    )
    pytester.makepyfile(TESTS.format(repo="seeded"))
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


# The command line -------------------------------------------------------------------------------------------------


def test_the_command_line_serves_loaded_layouts(saved_layout: Path, tmp_path: Path) -> None:
    OCIRegistry().load(saved_layout)  # the layout is good
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest_ociregistry", "--load", str(saved_layout), "--load", f"{saved_layout}=copy"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert requests.get(f"{url}/v2/_catalog", timeout=10).json() == {"repositories": ["copy", "team/base"]}
        with urllib.request.urlopen(f"{url}/v2/copy/tags/list", timeout=10) as r:
            assert r.read() == b'{"name":"copy","tags":["1"]}'
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()


def test_the_command_line_refuses_a_bad_layout(tmp_path: Path) -> None:
    (tmp_path / "index.json").write_text("{}")
    done = subprocess.run([sys.executable, "-m", "pytest_ociregistry", "--load", f"{tmp_path}=x"],
                          capture_output=True, text=True, timeout=30, check=False)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"error: {tmp_path}: oci-layout is missing\n"
