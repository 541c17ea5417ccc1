"""Benchmarks for pytest-ociregistry: ``python -m benchmarks [--quick] [--json out.json] [--only GROUP]``.

Every figure is the median of several runs (with min and max) and is shown as a ratio to a baseline measured in
the same run: hashlib, a loopback socket copy, do-nothing werkzeug servers, and CNCF distribution when installed.
All traffic stays on 127.0.0.1 and every pulled byte is checked against its digest.
"""
