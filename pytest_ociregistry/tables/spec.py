"""OCI Distribution v1.1 tables, one per endpoint group (the spec's end-1 to end-13), each row with the registries
known to answer otherwise. They pass under the ``spec`` preset; ``departures`` name where the ``reference`` and
``distribution`` presets, and real CNCF distribution 2.8, answer otherwise, and why."""

from __future__ import annotations

import json
from typing import Any

from ..cases import Case, Departure
from ..manifest import OCI_INDEX, OCI_MANIFEST
from ..names import digest_of

CONFIG = b"{}"
LAYER = b"layer bytes"
OTHER = b"another blob"
C, L, O = digest_of(CONFIG), digest_of(LAYER), digest_of(OTHER)
BLOBS = {C: CONFIG, L: LAYER}
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": C, "size": len(CONFIG)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": L, "size": len(LAYER)}],
    },
    separators=(",", ":"),
)
M = digest_of(MANIFEST.encode())
REFERRER = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.example.sig",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": C, "size": len(CONFIG)},
        "layers": [{"mediaType": "application/vnd.oci.empty.v1+json", "digest": C, "size": len(CONFIG)}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": M, "size": len(MANIFEST)},
    },
    separators=(",", ":"),
)
R = digest_of(REFERRER.encode())


def image_row(description: str, method: str, url: str, status: int, **columns: Any) -> Case:
    """A row run against repository ``foo`` holding the image ``MANIFEST`` as ``v1``."""
    return Case(description, method, url, status, digests=BLOBS, manifests={"foo/manifests/v1": MANIFEST},
                manifest_type=OCI_MANIFEST, **columns)

ACCEPT = {"Accept": f"{OCI_MANIFEST}, {OCI_INDEX}"}

NOT_FOUND = "404 page not found\n"  # distribution's router, for what it cannot route
NO_REFERRERS = Departure("distribution 2.8 has no referrers API", 404, body=NOT_FOUND)
NO_SINGLE_POST = Departure("distribution 2.8 answers a single POST with an upload session (202)", 202,
                           headers={"Docker-Content-Digest": ""})
REFERENCE_RANGE = Departure("the reference answers 500 to a Range past the end (its table pins it)", 500,
                            error="UNKNOWN")


def no_tag_paging(repo: str) -> Departure:
    """distribution 2.8 lists every tag, whatever ``n`` and ``last`` say, with no ``Link``."""
    return Departure("distribution 2.8 ignores n and last on the tag list", 200, headers={"Link": ""},
                     json={"name": repo, "tags": ["a", "b"]})


PULL: list[Case] = [
    Case("end-1 ping", "GET", "/v2/", 200, want_body=None),
    Case("end-2 blob GET", "GET", f"/v2/foo/blobs/{L}", 200, digests=BLOBS, want_body=LAYER,
         want_headers={"Docker-Content-Digest": L, "Content-Length": str(len(LAYER))}),
    Case("end-2 blob HEAD", "HEAD", f"/v2/foo/blobs/{L}", 200, digests=BLOBS,
         want_headers={"Docker-Content-Digest": L, "Content-Length": str(len(LAYER))}),
    Case("end-2 blob unknown", "GET", f"/v2/foo/blobs/{O}", 404, digests=BLOBS, want_body=None,
         want_error="BLOB_UNKNOWN"),
    Case("end-2 blob Range", "GET", f"/v2/foo/blobs/{L}", 206, digests=BLOBS, request_headers={"Range": "bytes=1-3"},
         want_body=LAYER[1:4], want_headers={"Content-Range": f"bytes 1-3/{len(LAYER)}", "Content-Length": "3"}),
    Case("end-2 blob Range not satisfiable", "GET", f"/v2/foo/blobs/{L}", 416, digests=BLOBS, want_body=None,
         request_headers={"Range": "bytes=100-200"}, departures={"reference": REFERENCE_RANGE}),
    image_row("end-3 manifest GET by tag", "GET", "/v2/foo/manifests/v1", 200, request_headers=ACCEPT,
         want_body=MANIFEST, want_headers={"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": M}),
    image_row("end-3 manifest GET by digest", "GET", f"/v2/foo/manifests/{M}", 200, request_headers=ACCEPT,
         want_body=MANIFEST, want_headers={"Docker-Content-Digest": M}),
    image_row("end-3 manifest HEAD", "HEAD", "/v2/foo/manifests/v1", 200, request_headers=ACCEPT,
         want_headers={"Docker-Content-Digest": M, "Content-Length": str(len(MANIFEST))}),
    image_row("end-3 manifest unknown", "GET", "/v2/foo/manifests/v2", 404, request_headers=ACCEPT,
         want_body=None, want_error="MANIFEST_UNKNOWN"),
]

PUSH: list[Case] = [
    Case("end-4a upload start", "POST", "/v2/foo/blobs/uploads/", 202, want_body=None, want_header_names=("Location",)),
    Case("end-4b single POST", "POST", f"/v2/foo/blobs/uploads/?digest={L}", 201, body=LAYER, want_body=None,
         want_headers={"Docker-Content-Digest": L}, want_header_names=("Location",),
         departures={"distribution": NO_SINGLE_POST}),
    Case("end-5 chunk", "PATCH", "{upload:u}", 202, uploads={"u": LAYER[:4]}, body=LAYER[4:], want_body=None,
         request_headers={"Content-Range": f"4-{len(LAYER) - 1}", "Content-Type": "application/octet-stream"},
         want_headers={"Range": f"0-{len(LAYER) - 1}"}, want_header_names=("Location",)),
    Case("end-5 out-of-order chunk", "PATCH", "{upload:u}", 416, uploads={"u": LAYER[:4]}, body=LAYER[2:],
         request_headers={"Content-Range": f"2-{len(LAYER) - 1}", "Content-Type": "application/octet-stream"},
         want_body=None, departures={"docker-registry": Departure(
             "distribution 2.8 appends an out-of-order chunk (202), corrupting the upload", 202)}),
    Case("end-6 upload complete", "PUT", f"{{upload:u}}?digest={L}", 201, uploads={"u": LAYER}, want_body=None,
         want_headers={"Docker-Content-Digest": L}, want_header_names=("Location",)),
    Case("end-6 upload complete with the last chunk", "PUT", f"{{upload:u}}?digest={L}", 201, uploads={"u": LAYER[:4]},
         body=LAYER[4:], want_body=None, want_headers={"Docker-Content-Digest": L}),
    Case("end-6 digest mismatch", "PUT", f"{{upload:u}}?digest={O}", 400, uploads={"u": LAYER}, want_body=None,
         want_error="DIGEST_INVALID"),
    Case("end-7 manifest PUT", "PUT", "/v2/foo/manifests/v1", 201, digests=BLOBS, body=MANIFEST, want_body=None,
         request_headers={"Content-Type": OCI_MANIFEST}, want_headers={"Docker-Content-Digest": M},
         want_header_names=("Location",)),
    Case("end-7 manifest PUT by wrong digest", "PUT", f"/v2/foo/manifests/{O}", 400, digests=BLOBS, body=MANIFEST,
         request_headers={"Content-Type": OCI_MANIFEST}, want_body=None, want_error="DIGEST_INVALID"),
    Case("end-11 mount", "POST", f"/v2/foo-mirror/blobs/uploads/?mount={L}&from=foo", 201, digests=BLOBS,
         want_body=None, want_headers={"Docker-Content-Digest": L}, want_header_names=("Location",)),
    Case("end-13 upload status", "GET", "{upload:u}", 204, uploads={"u": LAYER}, want_body=None,
         want_headers={"Range": f"0-{len(LAYER) - 1}"}, want_header_names=("Location",)),
    Case("upload unknown", "GET", "/v2/foo/blobs/uploads/never-issued", 404, digests=BLOBS, want_body=None,
         want_error="BLOB_UPLOAD_UNKNOWN",
         departures={"distribution": Departure(
             "distribution answers BLOB_UPLOAD_INVALID to an upload URL without _state", 404,
             error="BLOB_UPLOAD_INVALID")}),
    Case("name invalid", "POST", "/v2/Foo/blobs/uploads/", 400, want_body=None, want_error="NAME_INVALID",
         departures={"distribution": Departure(
             "distribution's router answers a plain-text 404 to names outside the grammar", 404, body=NOT_FOUND)}),
]

DISCOVERY: list[Case] = [
    image_row("end-8a tag list", "GET", "/v2/foo/tags/list", 200, want_body=None,
         want_json={"name": "foo", "tags": ["v1"]}),
    Case("end-8b tag list n", "GET", "/v2/foo/tags/list?n=1", 200, digests=BLOBS, manifest_type=OCI_MANIFEST,
         manifests={"foo/manifests/a": MANIFEST, "foo/manifests/b": MANIFEST}, want_body=None,
         want_json={"name": "foo", "tags": ["a"]}, want_header_names=("Link",),
         departures={"distribution": no_tag_paging("foo")}),
    Case("end-8b tag list last", "GET", "/v2/foo/tags/list?n=5&last=a", 200, digests=BLOBS, manifest_type=OCI_MANIFEST,
         manifests={"foo/manifests/a": MANIFEST, "foo/manifests/b": MANIFEST}, want_body=None,
         want_json={"name": "foo", "tags": ["b"]}, departures={"distribution": no_tag_paging("foo")}),
    Case("end-12a referrers", "GET", f"/v2/foo/referrers/{M}", 200, digests=BLOBS, manifest_type=OCI_MANIFEST,
         manifests={"foo/manifests/v1": MANIFEST, f"foo/manifests/{R}": REFERRER}, want_body=None,
         want_headers={"Content-Type": OCI_INDEX},
         want_json={"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
             {"mediaType": OCI_MANIFEST, "digest": R, "size": len(REFERRER),
              "artifactType": "application/vnd.example.sig"}]},
         departures={"distribution": NO_REFERRERS}),
    Case("end-12b referrers filtered", "GET", f"/v2/foo/referrers/{M}?artifactType=application/other", 200,
         digests=BLOBS, manifest_type=OCI_MANIFEST,
         manifests={"foo/manifests/v1": MANIFEST, f"foo/manifests/{R}": REFERRER}, want_body=None,
         want_headers={"OCI-Filters-Applied": "artifactType"},
         want_json={"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []},
         departures={"distribution": NO_REFERRERS, "reference": Departure(
             "the reference writes an empty referrers list as null (its table pins it)", 200,
             headers={"OCI-Filters-Applied": "artifactType"},
             json={"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": None})}),
    image_row("end-7 manifest PUT with a subject", "PUT", f"/v2/foo/manifests/{R}", 201, body=REFERRER,
         request_headers={"Content-Type": OCI_MANIFEST}, want_body=None, want_headers={"OCI-Subject": M},
         departures={"distribution": Departure("distribution 2.8 sends no OCI-Subject", 201,
                                               headers={"OCI-Subject": "", "Docker-Content-Digest": R})}),
]

MANAGEMENT: list[Case] = [
    image_row("end-9 manifest DELETE", "DELETE", f"/v2/foo/manifests/{M}", 202, want_body=None),
    Case("end-10 blob DELETE", "DELETE", f"/v2/foo/blobs/{L}", 202, digests=BLOBS, want_body=None),
]

SPEC_TABLES: dict[str, list[Case]] = {"pull": PULL, "push": PUSH, "discovery": DISCOVERY, "management": MANAGEMENT}
ALL: list[Case] = [case for table in SPEC_TABLES.values() for case in table]
