"""Conformance tables shipped with the package, each a list of :class:`~pytest_ociregistry.cases.Case`.

``@pytest.mark.parametrize("case", REFERENCE, ids=lambda c: c.id)`` runs one in a line.
"""

from .reference import REFERENCE

__all__ = ["REFERENCE"]
