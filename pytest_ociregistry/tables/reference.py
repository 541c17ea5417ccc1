"""The reference table: cue-labs/oci ``ociserver/registry_test.go`` (at 82eb438), row for row.

Every row but the four skipped ones passes to the byte under the default (``reference``) options.
"""

from __future__ import annotations

from ..cases import Case
from ..names import digest_of

F = digest_of(b"foo")  # sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
HELLO = digest_of(b"hello world")  # sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9
API_VERSION = {"Docker-Distribution-API-Version": "registry/2.0"}
NOT_FOUND = '{"errors":[{"code":"UNKNOWN","message":"page not found"}]}'
NAME_UNKNOWN = '{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}'
BAD_DIGEST = '{"errors":[{"code":"UNKNOWN","message":"badly formed digest"}]}'
NOT_ALLOWED = '{"errors":[{"code":"UNKNOWN","message":"method not allowed"}]}'
EMPTY_REFERRERS = '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":null}'
OCI_INDEX = {"Content-Type": "application/vnd.oci.image.index.v1+json"}
WEIRD_INDEX = """{
  "manifests": [
	  {
	  		"size": 3,
			"digest":"sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
			"mediaType":"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
		},{
	  		"size": 3,
			"digest":"sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
			"mediaType":"application/xml"
		},{
	  		"size": 3,
			"digest":"sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
			"mediaType":"application/vnd.oci.image.manifest.v1+json"
		}
	]
}"""
FOO_BLOB = {F: "foo"}
HELLO_BLOB = {HELLO: "hello world"}
FOO_LATEST = {"foo/manifests/latest": "foo"}
SKIPPED = "skipped in the reference table; passes under the 'spec' preset"

REFERENCE: list[Case] = [
    Case("v2_returns_200", "GET", "/v2", 200, want_headers=API_VERSION),
    Case("v2_slash_returns_200", "GET", "/v2/", 200, want_headers=API_VERSION),
    Case("v2_bad_returns_404", "GET", "/v2/bad", 404, want_headers=API_VERSION, want_body=NOT_FOUND),
    Case("GET_non_existent_blob", "GET", f"/v2/foo/blobs/{F}", 404, want_body=NAME_UNKNOWN),
    Case("HEAD_non_existent_blob", "HEAD", f"/v2/foo/blobs/{F}", 404),
    Case("GET_bad_digest", "GET", "/v2/foo/blobs/sha256:asd", 400, want_body=BAD_DIGEST),
    Case("HEAD_bad_digest", "HEAD", "/v2/foo/blobs/sha256:asd", 400),
    Case("bad_blob_verb", "FOO", f"/v2/foo/blobs/{F}", 405, want_body=NOT_ALLOWED),
    Case(
        "GET_containerless_blob", "GET", f"/v2/foo/blobs/{F}", 200, digests=FOO_BLOB,
        want_headers={"Docker-Content-Digest": F}, want_body="foo",
    ),
    Case(
        "GET_blob", "GET", f"/v2/foo/blobs/{F}", 200, digests=FOO_BLOB,
        want_headers={"Docker-Content-Digest": F}, want_body="foo",
    ),
    Case(
        "GET_blob_range_defined_range", "GET", f"/v2/foo/blobs/{HELLO}", 206, digests=HELLO_BLOB,
        request_headers={"Range": "bytes=1-4"},
        want_headers={"Docker-Content-Digest": HELLO, "Content-Length": "4", "Content-Range": "bytes 1-4/11"},
        want_body="ello",
    ),
    Case(
        "GET_blob_range_undefined_range_end", "GET", f"/v2/foo/blobs/{HELLO}", 206, digests=HELLO_BLOB,
        request_headers={"Range": "bytes=3-"},
        want_headers={"Docker-Content-Digest": HELLO, "Content-Length": "8", "Content-Range": "bytes 3-10/11"},
        want_body="lo world",
    ),
    Case(
        "GET_blob_range_invalid-range-start", "GET", f"/v2/foo/blobs/{HELLO}", 500, digests=HELLO_BLOB,
        request_headers={"Range": "bytes=20-30"},
        want_body='{"errors":[{"code":"UNKNOWN","message":"invalid range [20, 11]; have [0, 11]"}]}',
    ),
    Case(
        "HEAD_blob", "HEAD", f"/v2/foo/blobs/{F}", 200, digests=FOO_BLOB,
        want_headers={"Content-Length": "3", "Docker-Content-Digest": F},
    ),
    Case("DELETE_blob", "DELETE", f"/v2/foo/blobs/{F}", 202, digests=FOO_BLOB),
    Case("blob_url_with_no_container", "GET", f"/v2/blobs/{F}", 404, want_body=NOT_FOUND),
    Case("uploadurl", "POST", "/v2/foo/blobs/uploads/", 202, want_headers={"Range": "0-0"}),
    Case("uploadurl", "POST", "/v2/foo/blobs/uploads/", 202, want_headers={"Range": "0-0"}),
    Case("upload_put_missing_digest", "PUT", "/v2/foo/blobs/uploads/MQ", 400, want_body=BAD_DIGEST),
    Case(
        "monolithic_upload_good_digest", "POST", f"/v2/foo/blobs/uploads?digest={F}", 201, body="foo",
        want_headers={"Docker-Content-Digest": F},
    ),
    Case(
        "monolithic_upload_bad_digest", "POST", "/v2/foo/blobs/uploads?digest=sha256:fake", 400, body="foo",
        want_body=BAD_DIGEST,
    ),
    Case(
        "upload_good_digest", "PUT", f"/v2/foo/blobs/uploads/MQ?digest={F}", 201, body="foo",
        want_headers={"Docker-Content-Digest": F},
    ),
    Case(
        "upload_bad_digest", "PUT", "/v2/foo/blobs/uploads/MQ?digest=sha256:baddigest", 400, body="foo",
        want_body=BAD_DIGEST,
    ),
    Case(
        "stream_upload", "PATCH", "/v2/foo/blobs/uploads/MQ", 202, body="foo",
        request_headers={"Content-Range": "0-2"},
        want_headers={"Range": "0-2", "Location": "/v2/foo/blobs/uploads/MQ"},
    ),
    Case(
        "stream_duplicate_upload", "PATCH", "/v2/foo/blobs/uploads/MQ", 400, body="foo",
        blob_stream={"MQ": "foo"}, skip=SKIPPED,
    ),
    Case(
        "stream_finish_upload", "PUT", f"/v2/foo/blobs/uploads/MQ?digest={F}", 201, blob_stream={"MQ": "foo"},
        want_headers={"Docker-Content-Digest": F},
    ),
    Case("get_missing_manifest", "GET", "/v2/foo/manifests/latest", 404, want_body=NAME_UNKNOWN),
    Case("head_missing_manifest", "HEAD", "/v2/foo/manifests/latest", 404),
    Case(
        "get_missing_manifest_good_container", "GET", "/v2/foo/manifests/bar", 404, manifests=FOO_LATEST,
        want_body='{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown to registry"}]}',
    ),
    Case("head_missing_manifest_good_container", "HEAD", "/v2/foo/manifests/bar", 404, manifests=FOO_LATEST),
    Case("get_manifest_by_tag", "GET", "/v2/foo/manifests/latest", 200, manifests=FOO_LATEST, want_body="foo"),
    Case("get_manifest_by_digest", "GET", f"/v2/foo/manifests/{F}", 200, manifests=FOO_LATEST, want_body="foo"),
    Case("head_manifest", "HEAD", "/v2/foo/manifests/latest", 200, manifests=FOO_LATEST),
    Case("create_manifest", "PUT", "/v2/foo/manifests/latest", 201, body="foo"),
    Case(
        "create_index", "PUT", "/v2/foo/manifests/latest", 201, body=WEIRD_INDEX, request_headers=OCI_INDEX,
        manifests={"foo/manifests/image": "foo"},
    ),
    Case(
        "create_index_missing_child", "PUT", "/v2/foo/manifests/latest", 404, body=WEIRD_INDEX,
        request_headers=OCI_INDEX, skip=SKIPPED,
    ),
    Case(
        "bad_index_body", "PUT", "/v2/foo/manifests/latest", 400, body="foo", request_headers=OCI_INDEX, skip=SKIPPED,
    ),
    Case("bad_manifest_method", "BAR", "/v2/foo/manifests/latest", 405, want_body=NOT_ALLOWED),
    Case(
        "Chunk_upload_start", "PATCH", "/v2/foo/blobs/uploads/MQ", 202, body="foo",
        request_headers={"Content-Range": "0-2"},
        want_headers={"Range": "0-2", "Location": "/v2/foo/blobs/uploads/MQ"},
    ),
    Case(
        "Chunk_upload_bad_content_range", "PATCH", "/v2/foo/blobs/uploads/MQ", 400, body="foo",
        request_headers={"Content-Range": "0-bar"},
        want_body='{"errors":[{"code":"UNSUPPORTED","message":"we don\'t understand your Content-Range"}]}',
    ),
    Case(
        "Chunk_upload_overlaps_previous_data", "PATCH", "/v2/foo/blobs/uploads/MQ", 416, body="bar",
        blob_stream={"MQ": "foo"}, request_headers={"Content-Range": "2-4"},
        want_body='{"errors":[{"code":"RANGE_INVALID","message":"cannot copy blob data: invalid offset 2 in resumed '
        'upload (actual offset 3): range invalid: invalid content range"}]}',
    ),
    Case(
        "Chunk_upload_after_previous_data", "PATCH", "/v2/foo/blobs/uploads/MQ", 202, body="bar",
        blob_stream={"MQ": "foo"}, request_headers={"Content-Range": "3-5"},
        want_headers={"Range": "0-5", "Location": "/v2/foo/blobs/uploads/MQ"},
    ),
    Case("DELETE_Unknown_name", "DELETE", "/v2/test/honk/manifests/latest", 404, want_body=NAME_UNKNOWN),
    Case(
        "DELETE_Unknown_manifest", "DELETE", "/v2/honk/manifests/tag-honk", 404,
        manifests={"honk/manifests/latest": "honk"},
        want_body='{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown to registry: tag does not '
        'exist"}]}',
    ),
    Case("DELETE_existing_manifest", "DELETE", "/v2/foo/manifests/latest", 202, manifests=FOO_LATEST),
    Case("DELETE_existing_manifest_by_digest", "DELETE", f"/v2/foo/manifests/{F}", 202, manifests=FOO_LATEST),
    Case(
        "list_tags", "GET", "/v2/foo/tags/list?n=1000", 200,
        manifests={"foo/manifests/latest": "foo", "foo/manifests/tag1": "foo"},
        want_body='{"name":"foo","tags":["latest","tag1"]}',
    ),
    Case(
        "limit_tags", "GET", "/v2/foo/tags/list?n=1", 200,
        manifests={"foo/manifests/latest": "foo", "foo/manifests/tag1": "foo"},
        want_body='{"name":"foo","tags":["latest"]}',
    ),
    Case(
        "offset_tags", "GET", "/v2/foo/tags/list?last=latest", 200,
        manifests={"foo/manifests/latest": "foo", "foo/manifests/tag1": "foo"},
        want_body='{"name":"foo","tags":["tag1"]}',
    ),
    Case("list_non_existing_tags", "GET", "/v2/foo/tags/list?n=1000", 404, want_body=NAME_UNKNOWN),
    Case(
        "list_repos", "GET", "/v2/_catalog?n=1000", 200,
        manifests={"foo/manifests/latest": "foo", "bar/manifests/latest": "bar"},
        want_body='{"repositories":["bar","foo"]}',
    ),
    Case(
        "fetch_references", "GET", f"/v2/foo/referrers/{F}", 200,
        manifests={"foo/manifests/image": "foo", "foo/manifests/points-to-image": f'{{"subject": {{"digest": "{F}"}}}}'},
        want_body=EMPTY_REFERRERS,
    ),
    Case(
        "fetch_references,_subject_pointing_elsewhere", "GET", f"/v2/foo/referrers/{F}", 200,
        manifests={
            "foo/manifests/image": "foo",
            "foo/manifests/points-to-image": f'{{"subject": {{"digest": "{digest_of(b"nonexistant")}"}}}}',
        },
        want_body=EMPTY_REFERRERS,
    ),
    Case(
        "fetch_references,_no_results", "GET", f"/v2/foo/referrers/{F}", 200,
        manifests={"foo/manifests/image": "foo"}, want_body=EMPTY_REFERRERS,
    ),
    Case("fetch_references,_missing_repo", "GET", f"/v2/does-not-exist/referrers/{F}", 404, want_body=NAME_UNKNOWN),
    Case("fetch_references,_bad_target_(tag_vs._digest)", "GET", "/v2/foo/referrers/latest", 400, want_body=BAD_DIGEST),
    Case("fetch_references,_bad_method", "POST", f"/v2/foo/referrers/{F}", 400, skip=SKIPPED),
]
