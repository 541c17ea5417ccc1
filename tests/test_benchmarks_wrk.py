"""benchmarks/wrk.py: the ``wrk`` group's client, run for real against the registry (Debian's ``wrk``)."""

from __future__ import annotations

import pytest
from raw_http import exchange

from benchmarks import wrk
from benchmarks.client import BenchmarkError
from pytest_ociregistry import OCIRegistry
from pytest_ociregistry.names import digest_of

pytestmark = pytest.mark.skipif(wrk.binary() is None, reason=f"{wrk.missing()}")


def test_the_rate_is_what_wrk_measured_of_requests_the_registry_answered(oci_registry: OCIRegistry) -> None:
    rate = wrk.requests_per_second(f"{oci_registry.url}/v2/", 2, 1, {"Accept": "application/json"})
    pings = [r for r in oci_registry.requests if (r.method, r.path, r.status) == ("GET", "/v2/", 200)]
    # wrk's rate is the requests it completed over the run's second; the registry answered each of them (and may
    # have answered a few more that wrk's end cut off)
    assert rate > 50
    assert rate * 0.8 <= len(pings) <= rate * 1.5 + 10
    assert all(r.headers.get("Accept") == "application/json" for r in pings)


def test_an_answer_other_than_2xx_fails_the_run(oci_registry: OCIRegistry) -> None:
    with pytest.raises(BenchmarkError, match="Non-2xx"):
        wrk.requests_per_second(f"{oci_registry.url}/v2/absent/manifests/latest", 1, 1, {})


def test_chunks_go_in_order_and_the_upload_holds_every_accepted_one(oci_registry: OCIRegistry) -> None:
    upload = oci_registry.open_upload("bench/chunked")
    rate = wrk.chunk_rate(f"{oci_registry.url}/v2/bench/chunked/blobs/uploads/{upload}", 1024, 1)
    stored = oci_registry.uploads("bench/chunked")[upload]
    patches = [r for r in oci_registry.requests if r.method == "PATCH"]
    # every chunk was accepted where the last ended (a refused one fails the run); a last one cut off by wrk's end
    # may be missing from the upload
    assert stored > 0 and stored % 1024 == 0
    assert [r.headers["Content-Range"] for r in patches if r.status == 202] == [
        f"{start}-{start + 1023}" for start in range(0, stored, 1024)
    ]
    assert rate * 1e6 * 0.8 <= stored <= rate * 1e6 * 1.5 + 10 * 1024
    data = b"x" * stored
    done = exchange(oci_registry, "PUT", f"/v2/bench/chunked/blobs/uploads/{upload}?digest={digest_of(data)}")
    assert done.status == 201 and oci_registry.blob("bench/chunked", digest_of(data)) == data
