"""The suite's CI rule (``ci_skips.py``): under ``CI=true`` a skip fails the run, except a table row's own."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A suite with the plugin, a missing component, a missing dependency at module level, an expected failure and
    a table row that skips by design."""
    monkeypatch.setenv("PYTHONPATH", str(HERE))
    pytester.makeconftest('pytest_plugins = ["ci_skips"]')
    pytester.makepyfile(
        test_missing="""
        import pytest
        from pytest_ociregistry.cases import Case

        def test_component():
            pytest.skip("skopeo is not installed")

        @pytest.mark.xfail(strict=True, reason="known")
        def test_expected_failure():
            assert False

        def test_table_row(oci_registry):
            oci_registry.run(Case("row", "GET", "/v2/", 200, skip="skipped by the table's design"))
        """,
        test_dependency="import pytest\n\npytest.importorskip('no_such_module_anywhere')\n",
    )
    return pytester


def test_under_ci_a_skip_fails_the_run(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    result = suite.runpytest_subprocess("-p", "no:randomly", "-p", "no:xdist", "--continue-on-collection-errors")
    result.assert_outcomes(failed=1, errors=1, xfailed=1, skipped=1)
    result.stdout.fnmatch_lines(["*CI=true: a skip fails the run (a missing component or test dependency?)*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_outside_ci_a_skip_is_a_skip(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    result = suite.runpytest_subprocess("-p", "no:randomly", "-p", "no:xdist", "-rs")
    result.assert_outcomes(xfailed=1, skipped=3)
    result.stdout.fnmatch_lines(["*skopeo is not installed*"])
    assert result.ret == pytest.ExitCode.OK
