"""benchmarks/wrk.py: the ``wrk`` group's client, run for real against the registry (Debian's ``wrk``)."""

from __future__ import annotations

import pytest

from benchmarks import wrk
from benchmarks.client import BenchmarkError
from pytest_ociregistry import OCIRegistry

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
