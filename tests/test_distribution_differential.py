"""Differential test: the ``distribution`` preset against a real CNCF distribution 2.8 (Debian's ``docker-registry``),
sequence by sequence (the machinery, and what is compared, in ``differential_support.py``). This module holds the
sequences of the core API; ``test_distribution_differential_content.py`` those of content distribution refuses or
rewrites (digest algorithms, layer URLs, Range errors, manifest lists, sizes).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from differential_support import (
    BLOB,
    CONFIG,
    DOCKER_MANIFEST,
    LAYER,
    MISSING,
    OCI_INDEX,
    OCI_MANIFEST,
    Difference,
    Side,
    digest,
    docker_manifest,
    needs_docker_registry,
    oci_manifest,
    push_blob,
    push_image,
    run_both,
    sequence_test,
)

pytestmark = needs_docker_registry

# The sequences -------------------------------------------------------------------------------------------------------
# Each takes a Side; its requests are the steps compared. Use c.repo (fresh per sequence) for every repository.
# Presence checks use GET, not HEAD, unless HEAD is the point: a blob HEAD differs (see "blob-post-put").


def ping(c: Side) -> None:
    c.send("GET", "/v2/")
    c.send("GET", "/v2")


def blob_post_put(c: Side) -> None:
    d = push_blob(c, BLOB)
    c.send("HEAD", f"/v2/{c.repo}/blobs/{d}")
    c.send("GET", f"/v2/{c.repo}/blobs/{d}")


def blob_single_post(c: Side) -> None:
    c.send("POST", f"/v2/{c.repo}/blobs/uploads/?digest={digest(BLOB)}", data=BLOB)
    c.send("GET", f"/v2/{c.repo}/blobs/{digest(BLOB)}")


def single_post_digest_mismatch(c: Side) -> None:
    c.send("POST", f"/v2/{c.repo}/blobs/uploads/?digest={digest(b'other')}", data=BLOB)


def blob_chunks_with_content_range(c: Side) -> None:
    octets = {"Content-Type": "application/octet-stream"}
    c.send("POST", f"/v2/{c.repo}/blobs/uploads/")
    c.send("PATCH", c.location(), headers={**octets, "Content-Range": "0-9"}, data=BLOB[:10])
    c.send("PATCH", c.location(), headers={**octets, "Content-Range": "10-19"}, data=BLOB[10:])
    c.send("PUT", c.location(f"digest={digest(BLOB)}"))
    c.send("GET", f"/v2/{c.repo}/blobs/{digest(BLOB)}")


def blob_chunks_without_content_range(c: Side) -> None:
    """Streamed chunks, as docker pushes: no Content-Range at all."""
    octets = {"Content-Type": "application/octet-stream"}
    c.send("POST", f"/v2/{c.repo}/blobs/uploads/")
    c.send("PATCH", c.location(), headers=octets, data=BLOB[:10])
    c.send("PATCH", c.location(), headers=octets, data=BLOB[10:])
    c.send("PUT", c.location(f"digest={digest(BLOB)}"))
    c.send("GET", f"/v2/{c.repo}/blobs/{digest(BLOB)}")


def blob_first_chunk_without_content_range(c: Side) -> None:
    c.send("POST", f"/v2/{c.repo}/blobs/uploads/")
    c.send("PATCH", c.location(), data=BLOB[:10])
    c.send("PUT", c.location(f"digest={digest(BLOB[:10])}"))


def blob_last_chunk_in_put(c: Side) -> None:
    c.send("POST", f"/v2/{c.repo}/blobs/uploads/")
    c.send("PATCH", c.location(), headers={"Content-Range": "0-9"}, data=BLOB[:10])
    c.send("PUT", c.location(f"digest={digest(BLOB)}"), data=BLOB[10:])
    c.send("GET", f"/v2/{c.repo}/blobs/{digest(BLOB)}")


def upload_status(c: Side) -> None:
    c.send("POST", f"/v2/{c.repo}/blobs/uploads/")
    c.send("GET", c.location())
    c.send("PATCH", c.location(), data=BLOB[:10])
    c.send("GET", c.location())


def upload_cancel(c: Side) -> None:
    c.send("POST", f"/v2/{c.repo}/blobs/uploads/")
    c.send("PATCH", c.location(), data=BLOB[:10])
    c.send("DELETE", c.location())
    c.send("GET", c.location())
    c.send("PATCH", c.location(), data=BLOB[10:])


def upload_unknown_id(c: Side) -> None:
    unknown = f"/v2/{c.repo}/blobs/uploads/{uuid.uuid4()}"
    c.send("GET", unknown)
    c.send("PATCH", unknown, data=BLOB)
    c.send("PUT", unknown + f"?digest={digest(BLOB)}", data=BLOB)
    c.send("DELETE", unknown)


def upload_without_state(c: Side) -> None:
    """A client that drops the ``_state`` query of the Location and builds the upload URL from the id."""
    c.send("POST", f"/v2/{c.repo}/blobs/uploads/")
    bare = c.location().split("?")[0]
    c.send("GET", bare)
    c.send("PATCH", bare, data=BLOB)
    c.send("PUT", bare + f"?digest={digest(BLOB)}")


def upload_stale_state(c: Side) -> None:
    """A client that reuses the first Location after a chunk moved the upload on."""
    c.send("POST", f"/v2/{c.repo}/blobs/uploads/")
    first = c.location()
    c.send("PATCH", first, data=BLOB[:10])
    c.send("PATCH", first, data=BLOB[10:])
    c.send("GET", c.location())


def upload_put_digest_mismatch(c: Side) -> None:
    c.send("POST", f"/v2/{c.repo}/blobs/uploads/")
    c.send("PUT", c.location(f"digest={digest(b'something else')}"), data=BLOB)
    c.send("GET", f"/v2/{c.repo}/blobs/{digest(BLOB)}")


def upload_put_without_digest(c: Side) -> None:
    c.send("POST", f"/v2/{c.repo}/blobs/uploads/")
    c.send("PUT", c.location(), data=BLOB)


def upload_put_invalid_digest(c: Side) -> None:
    c.send("POST", f"/v2/{c.repo}/blobs/uploads/")
    c.send("PUT", c.location("digest=sha256:nothex"), data=BLOB)


def out_of_order_chunk(c: Side) -> None:
    c.send("POST", f"/v2/{c.repo}/blobs/uploads/")
    c.send("PATCH", c.location(), headers={"Content-Range": "0-9"}, data=BLOB[:10])
    # Skips bytes 10-14: distribution 2.8 appends this chunk at offset 10 (corrupting the blob); not compared.
    c.send("PATCH", c.location(), headers={"Content-Range": "15-19"}, data=BLOB[15:])


def blob_missing(c: Side) -> None:
    """A missing blob in a repository that has other blobs."""
    push_blob(c, BLOB)
    c.send("HEAD", f"/v2/{c.repo}/blobs/{MISSING}")
    c.send("GET", f"/v2/{c.repo}/blobs/{MISSING}")


def blob_missing_unknown_repo(c: Side) -> None:
    c.send("HEAD", f"/v2/{c.repo}/blobs/{MISSING}")
    c.send("GET", f"/v2/{c.repo}/blobs/{MISSING}")


def blob_range(c: Side) -> None:
    d = push_blob(c, BLOB)
    c.send("GET", f"/v2/{c.repo}/blobs/{d}", headers={"Range": "bytes=0-4"})
    c.send("GET", f"/v2/{c.repo}/blobs/{d}", headers={"Range": "bytes=5-"})
    c.send("GET", f"/v2/{c.repo}/blobs/{d}", headers={"Range": "bytes=-5"})
    c.send("GET", f"/v2/{c.repo}/blobs/{d}", headers={"Range": "bytes=10-100"})


def blob_range_unsatisfiable(c: Side) -> None:
    d = push_blob(c, BLOB)
    c.send("GET", f"/v2/{c.repo}/blobs/{d}", headers={"Range": "bytes=50-60"})
    c.send("GET", f"/v2/{c.repo}/blobs/{d}", headers={"Range": "bytes=20-"})


def blob_range_several(c: Side) -> None:
    """Several ranges (multipart/byteranges, the same length: Go's boundary is 60 hex digits), some past the end,
    more than the blob, and If-Range."""
    d = push_blob(c, BLOB)
    for value in ("bytes=0-1,3-4", "bytes=0-1, 5-", "bytes=0-1,50-60", "bytes=0-9,0-9,0-9"):
        c.send("GET", f"/v2/{c.repo}/blobs/{d}", headers={"Range": value})
    c.send("GET", f"/v2/{c.repo}/blobs/{d}", headers={"Range": "bytes=0-1", "If-Range": f'"{d}"'})
    c.send("GET", f"/v2/{c.repo}/blobs/{d}", headers={"Range": "bytes=0-1", "If-Range": '"sha256:0"'})


def delete_blob(c: Side) -> None:
    d = push_blob(c, BLOB)
    c.send("DELETE", f"/v2/{c.repo}/blobs/{d}")
    c.send("HEAD", f"/v2/{c.repo}/blobs/{d}")
    c.send("GET", f"/v2/{c.repo}/blobs/{d}")
    c.send("DELETE", f"/v2/{c.repo}/blobs/{d}")
    c.send("DELETE", f"/v2/{c.repo}/blobs/{MISSING}")


def cross_repo_mount(c: Side) -> None:
    source = f"{c.repo}-src"
    d = push_blob(c, BLOB, source)
    c.send("POST", f"/v2/{c.repo}/blobs/uploads/?mount={d}&from={source}")
    c.send("GET", f"/v2/{c.repo}/blobs/{d}")


def cross_repo_mount_missing(c: Side) -> None:
    source = f"{c.repo}-src"
    push_blob(c, BLOB, source)
    c.send("POST", f"/v2/{c.repo}/blobs/uploads/?mount={MISSING}&from={source}")
    c.send("PUT", c.location(f"digest={digest(BLOB)}"), data=BLOB)


def cross_repo_mount_without_from(c: Side) -> None:
    d = push_blob(c, BLOB, f"{c.repo}-src")
    c.send("POST", f"/v2/{c.repo}/blobs/uploads/?mount={d}")


def manifest_oci(c: Side) -> None:
    body = push_image(c, "v1", OCI_MANIFEST)
    d = digest(body)
    c.send("GET", f"/v2/{c.repo}/manifests/v1", headers={"Accept": OCI_MANIFEST})
    c.send("HEAD", f"/v2/{c.repo}/manifests/v1", headers={"Accept": OCI_MANIFEST})
    c.send("GET", f"/v2/{c.repo}/manifests/{d}", headers={"Accept": OCI_MANIFEST})
    c.send("HEAD", f"/v2/{c.repo}/manifests/{d}", headers={"Accept": OCI_MANIFEST})
    c.send("PUT", f"/v2/{c.repo}/manifests/{d}", headers={"Content-Type": OCI_MANIFEST}, data=body)


def manifest_oci_accept_excluded(c: Side) -> None:
    """An OCI manifest asked for with an Accept list that names other types only."""
    d = digest(push_image(c, "v1", OCI_MANIFEST))
    c.send("GET", f"/v2/{c.repo}/manifests/v1", headers={"Accept": DOCKER_MANIFEST})
    c.send("HEAD", f"/v2/{c.repo}/manifests/{d}", headers={"Accept": f"{DOCKER_MANIFEST}, {OCI_INDEX}"})


def manifest_oci_without_accept(c: Side) -> None:
    """An OCI manifest asked for with no Accept header at all."""
    d = digest(push_image(c, "v1", OCI_MANIFEST))
    c.send("GET", f"/v2/{c.repo}/manifests/v1")
    c.send("HEAD", f"/v2/{c.repo}/manifests/v1")
    c.send("GET", f"/v2/{c.repo}/manifests/{d}")
    c.send("HEAD", f"/v2/{c.repo}/manifests/{d}")


def manifest_oci_accept_wildcard(c: Side) -> None:
    d = digest(push_image(c, "v1", OCI_MANIFEST))
    c.send("GET", f"/v2/{c.repo}/manifests/v1", headers={"Accept": "*/*"})
    c.send("GET", f"/v2/{c.repo}/manifests/{d}", headers={"Accept": "application/*"})


def manifest_accept_lines(c: Side) -> None:
    """Several Accept header lines count as one list; a comma list within one line too; parameters are ignored."""
    push_image(c, "v1", OCI_MANIFEST)
    c.send("GET", f"/v2/{c.repo}/manifests/v1", headers=[("Accept", DOCKER_MANIFEST), ("Accept", OCI_MANIFEST)])
    c.send("HEAD", f"/v2/{c.repo}/manifests/v1", headers=[("Accept", DOCKER_MANIFEST), ("Accept", OCI_INDEX)])
    c.send("GET", f"/v2/{c.repo}/manifests/v1", headers={"Accept": f"{DOCKER_MANIFEST}, {OCI_MANIFEST};q=0.5"})


def manifest_docker(c: Side) -> None:
    body = push_image(c, "v1", DOCKER_MANIFEST)
    d = digest(body)
    c.send("GET", f"/v2/{c.repo}/manifests/v1", headers={"Accept": DOCKER_MANIFEST})
    c.send("HEAD", f"/v2/{c.repo}/manifests/v1", headers={"Accept": DOCKER_MANIFEST})
    c.send("GET", f"/v2/{c.repo}/manifests/{d}")
    c.send("HEAD", f"/v2/{c.repo}/manifests/{d}")


def manifest_docker_by_digest_accept_oci(c: Side) -> None:
    d = digest(push_image(c, "v1", DOCKER_MANIFEST))
    c.send("GET", f"/v2/{c.repo}/manifests/{d}", headers={"Accept": OCI_MANIFEST})
    c.send("HEAD", f"/v2/{c.repo}/manifests/{d}", headers={"Accept": OCI_MANIFEST})


def manifest_docker_by_tag_without_docker_accept(c: Side) -> None:
    """distribution 2.8 rewrites a schema2 manifest asked for by tag without schema2 in Accept into schema1."""
    push_image(c, "v1", DOCKER_MANIFEST)
    c.send("GET", f"/v2/{c.repo}/manifests/v1")
    c.send("GET", f"/v2/{c.repo}/manifests/v1", headers={"Accept": OCI_MANIFEST})
    c.send("HEAD", f"/v2/{c.repo}/manifests/v1", headers={"Accept": OCI_MANIFEST})


def manifest_index(c: Side) -> None:
    child = push_image(c, "child", OCI_MANIFEST)
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": digest(child),
                    "size": len(child),
                    "platform": {"architecture": "amd64", "os": "linux"},
                }
            ],
        }
    ).encode()
    c.send("PUT", f"/v2/{c.repo}/manifests/multi", headers={"Content-Type": OCI_INDEX}, data=index)
    c.send("GET", f"/v2/{c.repo}/manifests/multi", headers={"Accept": OCI_INDEX})
    c.send("HEAD", f"/v2/{c.repo}/manifests/multi", headers={"Accept": OCI_MANIFEST})


def manifest_index_missing_child(c: Side) -> None:
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{"mediaType": OCI_MANIFEST, "digest": MISSING, "size": 10}],
        }
    ).encode()
    c.send("PUT", f"/v2/{c.repo}/manifests/multi", headers={"Content-Type": OCI_INDEX}, data=index)


def manifest_put_invalid_json(c: Side) -> None:
    c.send("PUT", f"/v2/{c.repo}/manifests/v1", headers={"Content-Type": OCI_MANIFEST}, data=b"{not json")
    c.send("PUT", f"/v2/{c.repo}/manifests/v1", headers={"Content-Type": DOCKER_MANIFEST}, data=b"{not json")
    c.send("PUT", f"/v2/{c.repo}/manifests/v2", headers={"Content-Type": OCI_MANIFEST}, data=b"[]")


def manifest_put_schema_version_1(c: Side) -> None:
    """Well-formed JSON that is no OCI manifest: ``{"schemaVersion":1}`` sent as an OCI manifest."""
    c.send("PUT", f"/v2/{c.repo}/manifests/v1", headers={"Content-Type": OCI_MANIFEST}, data=b'{"schemaVersion":1}')


def manifest_put_media_type_mismatch(c: Side) -> None:
    """An OCI manifest body (mediaType OCI) sent with a Docker Content-Type."""
    push_blob(c, CONFIG)
    push_blob(c, LAYER)
    c.send("PUT", f"/v2/{c.repo}/manifests/v1", headers={"Content-Type": DOCKER_MANIFEST}, data=oci_manifest())


def manifest_put_missing_blobs(c: Side) -> None:
    c.send("PUT", f"/v2/{c.repo}/manifests/v1", headers={"Content-Type": OCI_MANIFEST}, data=oci_manifest())
    push_blob(c, CONFIG)
    c.send("PUT", f"/v2/{c.repo}/manifests/v1", headers={"Content-Type": OCI_MANIFEST}, data=oci_manifest())
    c.send("PUT", f"/v2/{c.repo}/manifests/v2", headers={"Content-Type": DOCKER_MANIFEST}, data=docker_manifest())


def manifest_put_digest_mismatch(c: Side) -> None:
    push_blob(c, CONFIG)
    push_blob(c, LAYER)
    c.send("PUT", f"/v2/{c.repo}/manifests/{MISSING}", headers={"Content-Type": OCI_MANIFEST}, data=oci_manifest())


def manifest_missing(c: Side) -> None:
    """Missing manifests in a repository that exists."""
    push_image(c, "v1")
    c.send("GET", f"/v2/{c.repo}/manifests/latest", headers={"Accept": OCI_MANIFEST})
    c.send("HEAD", f"/v2/{c.repo}/manifests/latest", headers={"Accept": OCI_MANIFEST})
    c.send("GET", f"/v2/{c.repo}/manifests/{MISSING}", headers={"Accept": OCI_MANIFEST})


def manifest_missing_unknown_repo(c: Side) -> None:
    c.send("GET", f"/v2/{c.repo}/manifests/latest")
    c.send("HEAD", f"/v2/{c.repo}/manifests/latest")
    c.send("GET", f"/v2/{c.repo}/manifests/{MISSING}")


def manifest_with_subject(c: Side) -> None:
    subject = push_image(c, "v1", OCI_MANIFEST)
    referrer = oci_manifest(
        subject={"mediaType": OCI_MANIFEST, "digest": digest(subject), "size": len(subject)},
        artifactType="application/vnd.example+type",
    )
    c.send("PUT", f"/v2/{c.repo}/manifests/{digest(referrer)}", headers={"Content-Type": OCI_MANIFEST}, data=referrer)


def referrers_api(c: Side) -> None:
    subject = push_image(c, "v1", OCI_MANIFEST)
    c.send("GET", f"/v2/{c.repo}/referrers/{digest(subject)}")
    c.send("GET", f"/v2/{c.repo}/referrers/{MISSING}?artifactType=application/vnd.example")


def delete_manifest_by_digest(c: Side) -> None:
    d = digest(push_image(c, "v1"))
    c.send("DELETE", f"/v2/{c.repo}/manifests/{d}")
    c.send("GET", f"/v2/{c.repo}/manifests/v1", headers={"Accept": OCI_MANIFEST})
    c.send("GET", f"/v2/{c.repo}/manifests/{d}", headers={"Accept": OCI_MANIFEST})
    c.send("DELETE", f"/v2/{c.repo}/manifests/{d}")
    c.send("DELETE", f"/v2/{c.repo}/manifests/{MISSING}")


def delete_manifest_by_tag(c: Side) -> None:
    d = digest(push_image(c, "v1"))
    c.send("DELETE", f"/v2/{c.repo}/manifests/v1")
    c.send("GET", f"/v2/{c.repo}/manifests/v1", headers={"Accept": OCI_MANIFEST})
    c.send("GET", f"/v2/{c.repo}/manifests/{d}", headers={"Accept": OCI_MANIFEST})
    c.send("DELETE", f"/v2/{c.repo}/manifests/nosuchtag")


def tags_list(c: Side) -> None:
    for tag in ("c", "a", "b"):
        push_image(c, tag)
    c.send("GET", f"/v2/{c.repo}/tags/list", body=True)


def tags_list_paginated(c: Side) -> None:
    for tag in ("c", "a", "b"):
        push_image(c, tag)
    c.send("GET", f"/v2/{c.repo}/tags/list?n=2", body=True)
    c.send("GET", f"/v2/{c.repo}/tags/list?n=1&last=a", body=True)
    c.send("GET", f"/v2/{c.repo}/tags/list?n=2&last=a", body=True)
    c.send("GET", f"/v2/{c.repo}/tags/list?last=b", body=True)
    c.send("GET", f"/v2/{c.repo}/tags/list?n=0", body=True)
    c.send("GET", f"/v2/{c.repo}/tags/list?n=x", body=True)
    c.send("GET", f"/v2/{c.repo}/tags/list?n=-1", body=True)


def tags_list_empty_after_delete(c: Side) -> None:
    d = digest(push_image(c, "v1"))
    c.send("DELETE", f"/v2/{c.repo}/manifests/{d}")
    c.send("GET", f"/v2/{c.repo}/tags/list", body=True)


def tags_list_unknown_repo(c: Side) -> None:
    c.send("GET", f"/v2/{c.repo}/tags/list", body=True)


def tags_list_without_tags(c: Side) -> None:
    """A repository holding only an upload, then a blob, then an untagged manifest: no tag list yet."""
    c.send("POST", f"/v2/{c.repo}/blobs/uploads/")
    c.send("GET", f"/v2/{c.repo}/tags/list", body=True)
    c.send("DELETE", c.location())
    c.send("GET", f"/v2/{c.repo}/tags/list", body=True)
    push_blob(c, CONFIG)
    push_blob(c, LAYER)
    c.send("GET", f"/v2/{c.repo}/tags/list", body=True)
    body = oci_manifest()
    c.send("PUT", f"/v2/{c.repo}/manifests/{digest(body)}", headers={"Content-Type": OCI_MANIFEST}, data=body)
    c.send("GET", f"/v2/{c.repo}/tags/list", body=True)
    c.send("PUT", f"/v2/{c.repo}/manifests/v1", headers={"Content-Type": OCI_MANIFEST}, data=body)
    c.send("GET", f"/v2/{c.repo}/tags/list", body=True)


def _ours(c: Side) -> Callable[[Any], Any]:
    """A catalog body reduced to this sequence's repositories (the real registry holds every sequence's)."""
    return lambda doc: [name for name in doc["repositories"] or [] if name.startswith(c.repo + "/")]


def catalog(c: Side) -> None:
    """Every catalog sequence lists only after its own name, which sorts after all repositories made before it
    (see ``_repo_for``); the fake, reset, holds only this sequence's repositories anyway."""
    for name in ("a", "b", "c"):
        push_blob(c, BLOB, f"{c.repo}/{name}")
    c.send("GET", f"/v2/_catalog?last={c.repo}", body=_ours(c))
    c.send("GET", f"/v2/_catalog?n=2&last={c.repo}", body=_ours(c))
    c.send("GET", f"/v2/_catalog?n=1&last={c.repo}/a", body=_ours(c))
    c.send("GET", f"/v2/_catalog?n=5&last={c.repo}/b", body=_ours(c))
    c.send("GET", "/v2/_catalog?last=zzzzzzzzzz", body=True)


def catalog_last_page_full(c: Side) -> None:
    """A page exactly filled by the last entries."""
    for name in ("a", "b"):
        push_blob(c, BLOB, f"{c.repo}/{name}")
    c.send("GET", f"/v2/_catalog?n=1&last={c.repo}/a", body=_ours(c))


def catalog_upload_only_repository(c: Side) -> None:
    """A repository where an upload was only started."""
    push_blob(c, BLOB, f"{c.repo}/a")
    c.send("POST", f"/v2/{c.repo}/b/blobs/uploads/")
    c.send("GET", f"/v2/_catalog?last={c.repo}", body=_ours(c))


def catalog_n_odd(c: Side) -> None:
    push_blob(c, BLOB, f"{c.repo}/a")
    c.send("GET", f"/v2/_catalog?n=0&last={c.repo}", body=_ours(c))
    c.send("GET", f"/v2/_catalog?n=x&last={c.repo}", body=_ours(c))
    c.send("GET", f"/v2/_catalog?n=-1&last={c.repo}", body=_ours(c))


def catalog_n_too_large(c: Side) -> None:
    c.send("GET", "/v2/_catalog?n=1000")
    c.send("GET", "/v2/_catalog?n=1001")


def catalog_default_page_size(c: Side) -> None:
    """Without ``n``, distribution answers 100 repositories at most."""
    for i in range(101):
        push_blob(c, BLOB, f"{c.repo}/r{i:03}")
    c.send("GET", f"/v2/_catalog?last={c.repo}", body=lambda doc: len(_ours(c)(doc)))


def invalid_repository_names(c: Side) -> None:
    c.send("GET", "/v2/UpperCase/tags/list")
    c.send("GET", f"/v2/{c.repo}/a..b/manifests/latest")
    c.send("POST", "/v2/-leading-dash/blobs/uploads/")
    c.send("HEAD", f"/v2/{c.repo}/Bad/blobs/{MISSING}")


def repository_name_too_long(c: Side) -> None:
    c.send("GET", f"/v2/{'x' * 256}/tags/list")


def invalid_digest_in_blob_url(c: Side) -> None:
    c.send("GET", f"/v2/{c.repo}/blobs/sha256:xyz")
    c.send("GET", f"/v2/{c.repo}/blobs/sha256:{'a' * 32}")
    c.send("HEAD", f"/v2/{c.repo}/blobs/md5:{'a' * 32}")
    c.send("DELETE", f"/v2/{c.repo}/blobs/sha256:{'A' * 64}")


def short_digest_in_manifest_url(c: Side) -> None:
    push_image(c, "v1")
    c.send("GET", f"/v2/{c.repo}/manifests/sha256:{'a' * 32}")


def invalid_tag(c: Side) -> None:
    push_blob(c, CONFIG)
    push_blob(c, LAYER)
    c.send("PUT", f"/v2/{c.repo}/manifests/.bad", headers={"Content-Type": OCI_MANIFEST}, data=oci_manifest())
    c.send("GET", f"/v2/{c.repo}/manifests/{'t' * 129}")


def unknown_methods(c: Side) -> None:
    push_image(c, "v1")
    c.send("PROPFIND", f"/v2/{c.repo}/manifests/v1")
    c.send("POST", f"/v2/{c.repo}/manifests/v1")
    c.send("PATCH", f"/v2/{c.repo}/blobs/{digest(LAYER)}")
    c.send("PUT", f"/v2/{c.repo}/tags/list")
    c.send("DELETE", "/v2/_catalog")


def get_on_upload_collection(c: Side) -> None:
    c.send("GET", f"/v2/{c.repo}/blobs/uploads/")


def unknown_paths(c: Side) -> None:
    c.send("GET", "/v2/_nothing_here_")
    c.send("GET", f"/v2/{c.repo}/nothing/here")
    c.send("GET", "/nothing")


# Every sequence, by its pytest id.
SEQUENCES: dict[str, Callable[[Side], None]] = {
    "ping": ping,
    "blob-post-put": blob_post_put,
    "blob-single-post": blob_single_post,
    "single-post-digest-mismatch": single_post_digest_mismatch,
    "blob-chunks-with-content-range": blob_chunks_with_content_range,
    "blob-chunks-without-content-range": blob_chunks_without_content_range,
    "blob-first-chunk-without-content-range": blob_first_chunk_without_content_range,
    "blob-last-chunk-in-put": blob_last_chunk_in_put,
    "upload-status": upload_status,
    "upload-cancel": upload_cancel,
    "upload-unknown-id": upload_unknown_id,
    "upload-without-state": upload_without_state,
    "upload-stale-state": upload_stale_state,
    "upload-put-digest-mismatch": upload_put_digest_mismatch,
    "upload-put-without-digest": upload_put_without_digest,
    "upload-put-invalid-digest": upload_put_invalid_digest,
    "blob-missing": blob_missing,
    "blob-missing-unknown-repo": blob_missing_unknown_repo,
    "blob-range": blob_range,
    "blob-range-unsatisfiable": blob_range_unsatisfiable,
    "blob-range-several": blob_range_several,
    "delete-blob": delete_blob,
    "cross-repo-mount": cross_repo_mount,
    "cross-repo-mount-missing": cross_repo_mount_missing,
    "cross-repo-mount-without-from": cross_repo_mount_without_from,
    "manifest-oci": manifest_oci,
    "manifest-oci-accept-excluded": manifest_oci_accept_excluded,
    "manifest-oci-without-accept": manifest_oci_without_accept,
    "manifest-oci-accept-wildcard": manifest_oci_accept_wildcard,
    "manifest-accept-lines": manifest_accept_lines,
    "manifest-docker": manifest_docker,
    "manifest-docker-by-digest-accept-oci": manifest_docker_by_digest_accept_oci,
    "manifest-docker-by-tag-without-docker-accept": manifest_docker_by_tag_without_docker_accept,
    "manifest-index": manifest_index,
    "manifest-index-missing-child": manifest_index_missing_child,
    "manifest-put-invalid-json": manifest_put_invalid_json,
    "manifest-put-schema-version-1": manifest_put_schema_version_1,
    "manifest-put-media-type-mismatch": manifest_put_media_type_mismatch,
    "manifest-put-missing-blobs": manifest_put_missing_blobs,
    "manifest-put-digest-mismatch": manifest_put_digest_mismatch,
    "manifest-missing": manifest_missing,
    "manifest-missing-unknown-repo": manifest_missing_unknown_repo,
    "manifest-with-subject": manifest_with_subject,
    "referrers-api": referrers_api,
    "delete-manifest-by-digest": delete_manifest_by_digest,
    "delete-manifest-by-tag": delete_manifest_by_tag,
    "tags-list": tags_list,
    "tags-list-paginated": tags_list_paginated,
    "tags-list-empty-after-delete": tags_list_empty_after_delete,
    "tags-list-unknown-repo": tags_list_unknown_repo,
    "tags-list-without-tags": tags_list_without_tags,
    "catalog": catalog,
    "catalog-last-page-full": catalog_last_page_full,
    "catalog-upload-only-repository": catalog_upload_only_repository,
    "catalog-n-odd": catalog_n_odd,
    "catalog-n-too-large": catalog_n_too_large,
    "catalog-default-page-size": catalog_default_page_size,
    "invalid-repository-names": invalid_repository_names,
    "repository-name-too-long": repository_name_too_long,
    "invalid-digest-in-blob-url": invalid_digest_in_blob_url,
    "short-digest-in-manifest-url": short_digest_in_manifest_url,
    "invalid-tag": invalid_tag,
    "unknown-methods": unknown_methods,
    "get-on-upload-collection": get_on_upload_collection,
    "unknown-paths": unknown_paths,
}

# The sequences where the fake knowingly differs from distribution 2.8, and exactly how.
DIFFERENCES: dict[str, Difference] = {
    "manifest-put-schema-version-1": Difference(
        '{"schemaVersion":1} PUT as an OCI manifest: distribution answers 500 UNKNOWN; the fake 400 MANIFEST_INVALID',
        {0: {"status": (500, 400), "code": ("UNKNOWN", "MANIFEST_INVALID")}},
    ),
    "repository-name-too-long": Difference(
        "a 256-character repository name: distribution answers 500 UNKNOWN; the fake its router's plain 404",
        {0: {"status": (500, 404), "code": ("UNKNOWN", None)}},
    ),
    "get-on-upload-collection": Difference(
        "GET /blobs/uploads/: distribution answers 404 BLOB_UPLOAD_UNKNOWN; the fake a plain 405 with Allow: POST",
        {0: {"status": (404, 405), "code": ("BLOB_UPLOAD_UNKNOWN", None), "Allow": (None, "POST")}},
    ),
}


test_sequence = sequence_test(SEQUENCES, DIFFERENCES)


def test_out_of_order_chunk_is_refused(real_registry: str, fake_registry: str) -> None:
    """Not compared: distribution 2.8 accepts a chunk whose Content-Range skips bytes and appends it at the current
    offset, corrupting the blob. The fake must refuse it (416) instead."""
    real, fake = run_both(out_of_order_chunk, real_registry, fake_registry, "out-of-order")
    # Documents distribution's behaviour: accepted, and bytes 15-19 stored at 10-14.
    assert (real.steps[-1]["status"], real.steps[-1].get("Range")) == (202, "0-14"), real.steps
    assert fake.steps[-1]["status"] == 416, fake.steps
    assert fake.steps[-1].get("code") in ("BLOB_UPLOAD_INVALID", "RANGE_INVALID"), fake.steps
