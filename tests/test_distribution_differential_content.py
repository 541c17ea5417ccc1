"""Differential test, content distribution 2.8 refuses or rewrites: digests of other algorithms than sha256, layer
URLs, digest-shaped references that are no digests, Range errors, Docker manifest lists asked for without their type,
manifests over 4 MiB, and ``?tag=`` on a PUT by digest. Each sequence runs against a real ``docker-registry`` and the
``distribution`` preset and the answers must be equal (``differential_support.py`` says what is compared).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from differential_support import (
    BLOB,
    CONFIG,
    DOCKER_CONFIG,
    DOCKER_LAYER,
    DOCKER_MANIFEST,
    LAYER,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER,
    OCI_MANIFEST,
    Difference,
    Sequence,
    Side,
    digest,
    needs_docker_registry,
    push_blob,
    push_image,
    sequence_test,
)

pytestmark = needs_docker_registry

DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
NONDISTRIBUTABLE = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
URLS = ["https://example.com/layer.tar.gz"]
ABSENT = b"a layer nobody pushed"


def sha(algorithm: str, data: bytes) -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def push_blob_as(c: Side, data: bytes, pushed: str, repo: str | None = None) -> None:
    """POST then monolithic PUT naming ``pushed`` (a digest of any algorithm)."""
    c.send("POST", f"/v2/{repo or c.repo}/blobs/uploads/")
    c.send("PUT", c.location(f"digest={pushed}"), data=data)


def layer(media_type: str, data: bytes, urls: list[str] | None = None) -> dict[str, Any]:
    desc: dict[str, Any] = {"mediaType": media_type, "digest": digest(data), "size": len(data)}
    if urls is not None:
        desc["urls"] = urls
    return desc


def image(media_type: str, layers: list[dict[str, Any]], config: dict[str, Any] | None = None) -> bytes:
    """A manifest of ``media_type`` (OCI or Docker) over the pushed CONFIG and the given layer descriptors."""
    config_type = OCI_CONFIG if media_type == OCI_MANIFEST else DOCKER_CONFIG
    return json.dumps({
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": config or {"mediaType": config_type, "digest": digest(CONFIG), "size": len(CONFIG)},
        "layers": layers,
    }).encode()


def put_manifest(c: Side, reference: str, body: bytes, media_type: str = OCI_MANIFEST) -> None:
    c.send("PUT", f"/v2/{c.repo}/manifests/{reference}", headers={"Content-Type": media_type}, data=body)


# Digests of other algorithms: checked, then stored (and answered) under sha256 ----------------------------------


def sha512_monolithic_upload(c: Side) -> None:
    push_blob_as(c, BLOB, sha("sha512", BLOB))
    c.send("GET", f"/v2/{c.repo}/blobs/{sha('sha512', BLOB)}")
    c.send("HEAD", f"/v2/{c.repo}/blobs/{sha('sha512', BLOB)}")
    c.send("GET", f"/v2/{c.repo}/blobs/{digest(BLOB)}")
    push_blob_as(c, LAYER, sha("sha384", LAYER))
    c.send("GET", f"/v2/{c.repo}/blobs/{sha('sha384', LAYER)}")
    push_blob_as(c, LAYER, sha("sha512", BLOB))  # a sha512 digest the content does not match


def sha512_chunked_upload(c: Side) -> None:
    c.send("POST", f"/v2/{c.repo}/blobs/uploads/")
    c.send("PATCH", c.location(), headers={"Content-Range": "0-9"}, data=BLOB[:10])
    c.send("PATCH", c.location(), headers={"Content-Range": "10-19"}, data=BLOB[10:])
    c.send("PUT", c.location(f"digest={sha('sha512', BLOB)}"))
    c.send("GET", f"/v2/{c.repo}/blobs/{sha('sha512', BLOB)}")


def sha512_single_post(c: Side) -> None:
    c.send("POST", f"/v2/{c.repo}/blobs/uploads/?digest={sha('sha512', BLOB)}", data=BLOB)


def sha512_blob_missing(c: Side) -> None:
    push_blob(c, BLOB)
    c.send("GET", f"/v2/{c.repo}/blobs/{sha('sha512', LAYER)}")
    c.send("HEAD", f"/v2/{c.repo}/blobs/{sha('sha512', LAYER)}")
    c.send("DELETE", f"/v2/{c.repo}/blobs/{sha('sha512', LAYER)}")


def sha512_blob_delete(c: Side) -> None:
    """Deleting the alias leaves the sha256 blob."""
    push_blob_as(c, BLOB, sha("sha512", BLOB))
    c.send("DELETE", f"/v2/{c.repo}/blobs/{sha('sha512', BLOB)}")
    c.send("GET", f"/v2/{c.repo}/blobs/{sha('sha512', BLOB)}")
    c.send("GET", f"/v2/{c.repo}/blobs/{digest(BLOB)}")


def sha512_mount(c: Side) -> None:
    """A mount by the alias answers 201 and links nothing; by the sha256 digest it links the blob."""
    source = f"{c.repo}/src"
    push_blob_as(c, BLOB, sha("sha512", BLOB), source)
    c.send("POST", f"/v2/{c.repo}/blobs/uploads/?mount={sha('sha512', BLOB)}&from={source}")
    c.send("GET", f"/v2/{c.repo}/blobs/{sha('sha512', BLOB)}")
    c.send("GET", f"/v2/{c.repo}/blobs/{digest(BLOB)}")
    c.send("POST", f"/v2/{c.repo}/other/blobs/uploads/?mount={digest(BLOB)}&from={source}")
    c.send("GET", f"/v2/{c.repo}/other/blobs/{digest(BLOB)}")
    push_blob(c, LAYER, f"{c.repo}/plain")
    c.send("POST", f"/v2/{c.repo}/third/blobs/uploads/?mount={sha('sha512', LAYER)}&from={c.repo}/plain")
    c.send("POST", f"/v2/{c.repo}/third/blobs/uploads/?mount={sha('sha512', LAYER)}")


def sha512_manifests(c: Side) -> None:
    push_blob(c, CONFIG)
    push_blob_as(c, LAYER, sha("sha512", LAYER))
    body = image(OCI_MANIFEST, [])
    put_manifest(c, sha("sha512", body), body)
    c.send("GET", f"/v2/{c.repo}/manifests/{sha('sha512', body)}", headers={"Accept": OCI_MANIFEST})
    c.send("HEAD", f"/v2/{c.repo}/manifests/{sha('sha512', body)}", headers={"Accept": OCI_MANIFEST})
    c.send("DELETE", f"/v2/{c.repo}/manifests/{sha('sha512', body)}")
    by_alias = image(OCI_MANIFEST, [dict(layer(OCI_LAYER, LAYER), digest=sha("sha512", LAYER))])
    put_manifest(c, "alias", by_alias)  # a layer named by the alias it was pushed under
    missing = image(OCI_MANIFEST, [dict(layer(OCI_LAYER, ABSENT), digest=sha("sha512", ABSENT))])
    put_manifest(c, "missing", missing)


# Layer URLs: distribution allows none (no allow list configured) ------------------------------------------------


def nondistributable_layer_with_urls(c: Side) -> None:
    push_image(c, "base")
    body = image(OCI_MANIFEST, [layer(OCI_LAYER, LAYER), layer(NONDISTRIBUTABLE, ABSENT, URLS)])
    put_manifest(c, "nd", body)
    put_manifest(c, digest(body), body)
    c.send("GET", f"/v2/{c.repo}/manifests/nd", headers={"Accept": OCI_MANIFEST})
    push_blob(c, ABSENT)
    put_manifest(c, "nd", body)  # present or not: refused for its URLs
    put_manifest(c, "gz", image(OCI_MANIFEST, [layer(OCI_LAYER, LAYER, URLS)]))


def nondistributable_layer_without_urls(c: Side) -> None:
    push_image(c, "base")
    body = image(OCI_MANIFEST, [layer(NONDISTRIBUTABLE, ABSENT)])
    put_manifest(c, "nd", body)  # needed like any layer
    put_manifest(c, "empty", image(OCI_MANIFEST, [layer(NONDISTRIBUTABLE, ABSENT, [])]))
    push_blob(c, ABSENT)
    put_manifest(c, "nd", body)
    c.send("GET", f"/v2/{c.repo}/manifests/nd", headers={"Accept": OCI_MANIFEST})


def docker_foreign_layer(c: Side) -> None:
    push_image(c, "base", DOCKER_MANIFEST)
    put_manifest(c, "urls", image(DOCKER_MANIFEST, [layer(FOREIGN, ABSENT, URLS)]), DOCKER_MANIFEST)
    push_blob(c, ABSENT)
    put_manifest(c, "present", image(DOCKER_MANIFEST, [layer(FOREIGN, ABSENT)]), DOCKER_MANIFEST)


def layer_urls_not_checked(c: Side) -> None:
    """URLs on the types distribution does not check: the blob is not looked for."""
    push_image(c, "base")
    zstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    put_manifest(c, "zstd", image(OCI_MANIFEST, [layer(zstd, ABSENT, URLS)]))
    put_manifest(c, "zstd-nourls", image(OCI_MANIFEST, [layer(zstd, ABSENT)]))
    put_manifest(c, "docker", image(DOCKER_MANIFEST, [layer(DOCKER_LAYER, ABSENT, URLS)]), DOCKER_MANIFEST)
    config = {"mediaType": OCI_CONFIG, "digest": digest(ABSENT), "size": len(ABSENT), "urls": URLS}
    put_manifest(c, "config", image(OCI_MANIFEST, [], config))


def layer_urls_after_missing_config(c: Side) -> None:
    """The first descriptor in error decides the status: a missing config before a refused layer."""
    config = {"mediaType": OCI_CONFIG, "digest": digest(ABSENT), "size": len(ABSENT)}
    put_manifest(c, "v1", image(OCI_MANIFEST, [layer(NONDISTRIBUTABLE, ABSENT, URLS)], config))


# References shaped like digests that are not valid ones ---------------------------------------------------------


def invalid_digest_format_manifest(c: Side) -> None:
    push_image(c, "v1")
    body = image(OCI_MANIFEST, [layer(OCI_LAYER, LAYER)])
    for reference in ("sha256:baddigeststring", f"sha256:{'A' * 64}", f"md5:{'a' * 32}", "foo:bar"):
        c.send("GET", f"/v2/{c.repo}/manifests/{reference}", headers={"Accept": OCI_MANIFEST})
        c.send("HEAD", f"/v2/{c.repo}/manifests/{reference}", headers={"Accept": OCI_MANIFEST})
        c.send("DELETE", f"/v2/{c.repo}/manifests/{reference}")
    put_manifest(c, "sha256:baddigeststring", body)
    c.send("GET", f"/v2/{c.repo}/manifests/{digest(body)}", headers={"Accept": OCI_MANIFEST})  # stored all the same
    c.send("GET", f"/v2/{c.repo}/manifests/sha256:", headers={"Accept": OCI_MANIFEST})
    c.send("GET", f"/v2/{c.repo}/Bad/manifests/sha256:xyz")


# Range errors: Go's ServeContent text under the whole blob's length ----------------------------------------------


def blob_range_errors(c: Side) -> None:
    big = bytes(range(256)) * 8  # 2048 bytes, as the conformance suite's
    push_blob(c, big)
    for value in ("bytes=500-0", "bytes=5000-10000", "bytes=2048-", "bytes=500-1499", "items=0-1", "bytes=abc",
                  "bytes=0-1,5000-", "bytes=5000-,6000-", "bytes=--1"):
        c.send("GET", f"/v2/{c.repo}/blobs/{digest(big)}", headers={"Range": value})
    c.send("GET", f"/v2/{c.repo}/blobs/{digest(big)}")  # the connection was dropped; a new one serves


def blob_range_empty_suffix(c: Side) -> None:
    """``bytes=-0``, the last zero bytes: Go serves an empty 206 whose ``Content-Range`` ends before it starts."""
    big = bytes(range(256)) * 8
    push_blob(c, big)
    c.send("GET", f"/v2/{c.repo}/blobs/{digest(big)}", headers={"Range": "bytes=-0"})


# Docker manifest lists asked for by tag without their type --------------------------------------------------------


def _docker_image(c: Side, architecture: str) -> bytes:
    config = json.dumps({"architecture": architecture, "os": "linux"}).encode()
    push_blob(c, config)
    body = image(DOCKER_MANIFEST, [layer(DOCKER_LAYER, LAYER)],
                 {"mediaType": DOCKER_CONFIG, "digest": digest(config), "size": len(config)})
    put_manifest(c, digest(body), body, DOCKER_MANIFEST)
    return body


def _list(children: list[tuple[bytes, str, str]], media_type: str = DOCKER_LIST) -> bytes:
    return json.dumps({"schemaVersion": 2, "mediaType": media_type, "manifests": [
        {"mediaType": child_type, "digest": digest(body), "size": len(body),
         "platform": {"architecture": architecture, "os": "linux"}}
        for body, child_type, architecture in children]}).encode()


def docker_list_by_tag(c: Side) -> None:
    push_blob(c, LAYER)
    arm, amd = _docker_image(c, "arm64"), _docker_image(c, "amd64")
    body = _list([(arm, DOCKER_MANIFEST, "arm64"), (amd, DOCKER_MANIFEST, "amd64")])
    put_manifest(c, "multi", body, DOCKER_LIST)
    for accept in (DOCKER_MANIFEST, f"{DOCKER_MANIFEST}, {OCI_MANIFEST}", f"{DOCKER_MANIFEST}, {DOCKER_LIST}"):
        c.send("GET", f"/v2/{c.repo}/manifests/multi", headers={"Accept": accept}, body=True)
        c.send("HEAD", f"/v2/{c.repo}/manifests/multi", headers={"Accept": accept})
    for headers in ({}, {"Accept": "*/*"}, {"Accept": OCI_MANIFEST}, {"Accept": OCI_INDEX}):
        c.send("GET", f"/v2/{c.repo}/manifests/multi", headers=headers)
    c.send("GET", f"/v2/{c.repo}/manifests/{digest(body)}", headers={"Accept": DOCKER_MANIFEST})
    put_manifest(c, "arm", _list([(arm, DOCKER_MANIFEST, "arm64")]), DOCKER_LIST)
    c.send("GET", f"/v2/{c.repo}/manifests/arm", headers={"Accept": DOCKER_MANIFEST})


def docker_list_with_oci_child(c: Side) -> None:
    """A list whose linux/amd64 entry is an OCI manifest: served whatever Accept says of OCI."""
    child = push_image(c, "child", OCI_MANIFEST)
    put_manifest(c, "multi", _list([(child, OCI_MANIFEST, "amd64")]), DOCKER_LIST)
    c.send("GET", f"/v2/{c.repo}/manifests/multi", headers={"Accept": DOCKER_MANIFEST}, body=True)
    c.send("GET", f"/v2/{c.repo}/manifests/multi", body=True)


# Tags named in the query of a PUT by digest -----------------------------------------------------------------------


def tag_query_ignored(c: Side) -> None:
    push_blob(c, CONFIG)
    body = image(OCI_MANIFEST, [])
    c.send("PUT", f"/v2/{c.repo}/manifests/{digest(body)}?tag=a&tag=b", headers={"Content-Type": OCI_MANIFEST},
           data=body)
    c.send("GET", f"/v2/{c.repo}/manifests/a", headers={"Accept": OCI_MANIFEST})
    c.send("GET", f"/v2/{c.repo}/tags/list", body=True)


# Manifest size --------------------------------------------------------------------------------------------------


def manifest_over_4_mib(c: Side) -> None:
    push_blob(c, CONFIG)
    small = image(OCI_MANIFEST, [])
    limit = 4 * 1024 * 1024
    put_manifest(c, "at-limit", b" " * (limit - len(small)) + small)
    put_manifest(c, "over", b" " * (limit + 1 - len(small)) + small)


SEQUENCES: dict[str, Sequence] = {
    "sha512-monolithic-upload": sha512_monolithic_upload,
    "sha512-chunked-upload": sha512_chunked_upload,
    "sha512-single-post": sha512_single_post,
    "sha512-blob-missing": sha512_blob_missing,
    "sha512-blob-delete": sha512_blob_delete,
    "sha512-mount": sha512_mount,
    "sha512-manifests": sha512_manifests,
    "nondistributable-layer-with-urls": nondistributable_layer_with_urls,
    "nondistributable-layer-without-urls": nondistributable_layer_without_urls,
    "docker-foreign-layer": docker_foreign_layer,
    "layer-urls-not-checked": layer_urls_not_checked,
    "layer-urls-after-missing-config": layer_urls_after_missing_config,
    "invalid-digest-format-manifest": invalid_digest_format_manifest,
    "blob-range-errors": blob_range_errors,
    "blob-range-empty-suffix": blob_range_empty_suffix,
    "docker-list-by-tag": docker_list_by_tag,
    "docker-list-with-oci-child": docker_list_with_oci_child,
    "tag-query-ignored": tag_query_ignored,
    "manifest-over-4-mib": manifest_over_4_mib,
}

# Where the fake knowingly differs, and exactly how (see Difference).
DIFFERENCES: dict[str, Difference] = {
    "blob-range-empty-suffix": Difference(
        "Range bytes=-0: distribution (Go) answers an empty 206 with Content-Range bytes 2048-2047/2048; the fake 416, "
        "as RFC 9110 has it (a zero suffix is unsatisfiable)",
        {2: {"status": (206, 416), "Content-Range": ("bytes 2048-2047/2048", "bytes */2048"),
             "Content-Length": ("0", None), "Content-Type": ("application/octet-stream", None)}},
    ),
}


test_sequence = sequence_test(SEQUENCES, DIFFERENCES)
