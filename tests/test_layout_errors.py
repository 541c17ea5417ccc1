"""Bad layouts and archives (``layout.py``): each is refused with a message naming the file and the problem, and the
store is left exactly as it was: nothing half-loaded."""

from __future__ import annotations

import json
import re
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from test_layout import LAYOUT, image, layout_files, write_dir, write_tar

from pytest_ociregistry import OCIRegistry, Options, content
from pytest_ociregistry.content import Content
from pytest_ociregistry.layout import REF_NAME, LayoutError
from pytest_ociregistry.names import digest_of

BUILT = content.index([image("amd"), image("arm", "arm64")])
AMD = BUILT.children[0]
LAYER = json.loads(AMD.manifest)["layers"][0]["digest"]
LAYER_FILE = f"blobs/sha256/{LAYER.partition(':')[2]}"
TOP_FILE = f"blobs/sha256/{BUILT.digest.partition(':')[2]}"
AMD_FILE = f"blobs/sha256/{AMD.digest.partition(':')[2]}"


def good() -> dict[str, bytes]:
    return layout_files([(image("first"), {REF_NAME: "first"}), (BUILT, {REF_NAME: "multi"})])


def without(name: str) -> Callable[[dict[str, bytes]], None]:
    return lambda files: files.pop(name) and None


def replace(name: str, data: bytes) -> Callable[[dict[str, bytes]], None]:
    return lambda files: files.update({name: data})


def flip(name: str) -> Callable[[dict[str, bytes]], None]:
    return lambda files: files.update({name: bytes([files[name][0] ^ 1]) + files[name][1:]})


def index_with(entry: object) -> bytes:
    return json.dumps({"schemaVersion": 2, "manifests": [entry]}).encode()


DESCRIPTOR = {"mediaType": BUILT.media_type, "digest": BUILT.digest, "size": len(BUILT.manifest)}
CASES = {
    "missing layer": (without(LAYER_FILE), rf"{LAYER_FILE} is missing \(needed by {AMD_FILE}\)"),
    "missing manifest": (without(AMD_FILE), rf"{AMD_FILE} is missing \(needed by {TOP_FILE}\)"),
    "corrupt layer": (flip(LAYER_FILE), rf"{LAYER_FILE} does not match its digest {LAYER} \(its content is sha256:"),
    "corrupt index": (flip(TOP_FILE), rf"{TOP_FILE} does not match its digest {BUILT.digest}"),
    "layer too long": (
        lambda f: f.update({LAYER_FILE: f[LAYER_FILE] + b"x"}),
        rf"{LAYER_FILE} holds \d+ bytes, its descriptor says \d+",
    ),
    "layer too short": (
        lambda f: f.update({LAYER_FILE: f[LAYER_FILE][:-1]}),
        rf"{LAYER_FILE} holds \d+ bytes, its descriptor says \d+",
    ),
    "index.json missing": (without("index.json"), r"index.json is missing"),
    "index.json not JSON": (replace("index.json", b"{nope"), r"index.json is not valid JSON"),
    "index.json not an object": (replace("index.json", b"[]"), r"index.json is not a JSON object"),
    "index.json manifests not a list": (replace("index.json", b'{"manifests": {}}'), r"index.json: manifests is not a list"),
    "bad digest": (
        replace("index.json", index_with({**DESCRIPTOR, "digest": "sha256:abc"})),
        r"index.json: manifests\[0\] has an invalid digest 'sha256:abc'",
    ),
    "bad size": (
        replace("index.json", index_with({**DESCRIPTOR, "size": -1})),
        r"index.json: manifests\[0\] has an invalid size -1",
    ),
    "no media type": (
        replace("index.json", index_with({"digest": BUILT.digest, "size": 1})),
        r"index.json: manifests\[0\] has no mediaType",
    ),
    "wrong size in index.json": (
        replace("index.json", index_with({**DESCRIPTOR, "size": 5})),
        rf"{TOP_FILE} holds {len(BUILT.manifest)} bytes, its descriptor says 5",
    ),
    "a manifest that is not JSON": (replace(AMD_FILE, b"x"), rf"{AMD_FILE} holds 1 bytes"),
    "a bad name": (
        replace("index.json", index_with({**DESCRIPTOR, "annotations": {REF_NAME: "UPPER/case:1"}})),
        r"index.json: manifests\[0\]: 'UPPER/case:1' is not a tag or an image name",
    ),
    "oci-layout missing": (without("oci-layout"), r"oci-layout is missing"),
    "oci-layout not JSON": (replace("oci-layout", b"1.0.0"), r"oci-layout is not valid JSON"),
    "unsupported version": (
        replace("oci-layout", b'{"imageLayoutVersion": "2.0.0"}'),
        r"oci-layout: unsupported imageLayoutVersion '2.0.0' \(supported: 1.0.0\)",
    ),
    "no version": (replace("oci-layout", b"{}"), r"oci-layout: unsupported imageLayoutVersion None"),
}


@pytest.fixture(params=[None, 1], ids=["in-memory", "spilled"])
def registry(request: pytest.FixtureRequest) -> OCIRegistry:
    """A registry already holding something: a refused load must leave it exactly so. Each file is read into memory,
    or (``blob_spill_size=1``) into a spilled file: the same checks apply either way."""
    registry = OCIRegistry(Options(blob_spill_size=request.param))
    registry.push_image("multi", "old")
    return registry


def assert_untouched(registry: OCIRegistry) -> None:
    assert registry.repositories() == ["multi"] and registry.tags("multi") == ["old"]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("form", ["dir", "tar", "tar.gz"])
def test_bad_layouts_are_refused(registry: OCIRegistry, tmp_path: Path, case: str, form: str) -> None:
    change, message = CASES[case]
    files = good()
    change(files)
    path = write_dir(tmp_path / "layout", files) if form == "dir" else write_tar(tmp_path / f"l.{form}", files)
    with pytest.raises(LayoutError) as info:
        registry.load(path, "multi")
    assert re.fullmatch(rf"{re.escape(str(path))}: {message}.*", str(info.value)), str(info.value)
    assert_untouched(registry)


@pytest.mark.parametrize(
    ("member", "link", "message"),
    [
        ("../escape", None, "member '../escape' escapes the archive"),
        ("blobs/../../escape", None, "member 'blobs/../../escape' escapes the archive"),
        ("/etc/passwd", None, "member '/etc/passwd' has an absolute path"),
        ("blobs/x", (tarfile.SYMTYPE, "/etc/passwd"), "member 'blobs/x' links to an absolute path '/etc/passwd'"),
        ("blobs/x", (tarfile.SYMTYPE, "../../etc/passwd"), "member 'blobs/x' links outside the archive"),
        ("blobs/x", (tarfile.LNKTYPE, "../x"), "member 'blobs/x' links outside the archive"),
        ("blobs/x", (tarfile.SYMTYPE, "nowhere"), "member 'blobs/x' links to 'blobs/nowhere', which the archive"),
        ("blobs/x", (tarfile.CHRTYPE, ""), "member 'blobs/x' is not a regular file, a directory or a link"),
    ],
)
def test_archive_members_that_escape_are_refused(
    registry: OCIRegistry, tmp_path: Path, member: str, link: tuple[bytes, str] | None, message: str
) -> None:
    files = good()
    path = write_tar(tmp_path / "bad.tar", files if link else {**files, member: b"x"}, {member: link} if link else {})
    with pytest.raises(LayoutError) as info:
        registry.load(path, "multi")
    assert str(info.value).startswith(f"{path}: {message}"), str(info.value)
    assert_untouched(registry)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "no such file or directory"),
        (lambda p: write_dir(p, {"README": b"hi"}), "holds neither an OCI layout"),
        (lambda p: (p.write_bytes(b"not a tar at all" * 100), p)[1], "not a readable tar archive"),
        (lambda p: (p.write_bytes(b"\x1f\x8b\x08\x00garbage"), p)[1], "not a readable tar archive"),
    ],
)
def test_not_a_layout(registry: OCIRegistry, tmp_path: Path, make: Callable[[Path], Path], message: str) -> None:
    path = make(tmp_path / "thing")
    with pytest.raises(LayoutError, match=f"^{re.escape(str(path))}: {message}"):
        registry.load(path, "x")
    assert_untouched(registry)


def test_a_truncated_archive(registry: OCIRegistry, tmp_path: Path) -> None:
    path = write_tar(tmp_path / "l.tar", good())
    path.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(LayoutError, match=f"^{re.escape(str(path))}: "):
        registry.load(path, "multi")
    assert_untouched(registry)


def test_an_invalid_repo_argument(registry: OCIRegistry, tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match=r"invalid repository name 'No'"):
        registry.load(write_dir(tmp_path, good()), "No")


def test_the_store_refusing_one_entry_undoes_all(registry: OCIRegistry, tmp_path: Path) -> None:
    # With immutable tags the second entry ("old", already another manifest) is refused after the first went in.
    registry.configure(immutable_tags=True)
    first = image("first")
    files = layout_files([(first, {REF_NAME: "new"}), (image("second"), {REF_NAME: "old"})])
    with pytest.raises(LayoutError, match=r"multi@sha256:\w+: DENIED: .*cannot overwrite tag"):
        registry.load(write_dir(tmp_path, files), "multi")
    assert_untouched(registry)
    assert f"multi@{first.digest}" not in registry and f"multi@{digest_of(b'first' * 100)}" not in registry


def test_docker_save_problems(registry: OCIRegistry, tmp_path: Path) -> None:
    cases = {
        b"{}": "manifest.json is not a list of images",
        b"[1]": r"manifest.json: \[0\] has no Config",
        b'[{"Config": "c.json"}]': "c.json is missing",
    }
    for body, message in cases.items():
        path = write_tar(tmp_path / "save.tar", {"manifest.json": body})
        with pytest.raises(LayoutError, match=f"^{re.escape(str(path))}: {message}"):
            registry.load(path, "x")
    config = json.dumps({"rootfs": {"diff_ids": [digest_of(b"a")]}}).encode()
    path = write_tar(tmp_path / "save.tar", {"c.json": config, "manifest.json": b'[{"Config": "c.json"}]'})
    with pytest.raises(LayoutError, match=r"0 layers, but its config lists 1 diff_ids"):
        registry.load(path, "x")
    assert_untouched(registry)


def test_a_layout_with_extra_unreferenced_files_loads(registry: OCIRegistry, tmp_path: Path) -> None:
    built: Content = image("plain")
    files = {**layout_files([(built, {REF_NAME: "1"})]), "blobs/sha256/junk": b"junk", "README": b"hello"}
    for path in (write_dir(tmp_path / "d", files), write_tar(tmp_path / "t.tar", files)):
        assert [d.digest for d in registry.load(path, "plain")] == [built.digest]
    assert LAYOUT in files.values()
