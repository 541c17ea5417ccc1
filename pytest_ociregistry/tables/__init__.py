"""Conformance tables shipped with the package, each a list of :class:`~pytest_ociregistry.cases.Case`.

``@pytest.mark.parametrize("case", REFERENCE, ids=lambda c: c.id)`` runs one in a line; ``oci_registry.run(case)``
runs a row against the fixture (or, with ``--oci-registry-url``, a real registry).
"""

from .reference import REFERENCE
from .spec import ALL as SPEC
from .spec import DISCOVERY, MANAGEMENT, PULL, PUSH

__all__ = ["DISCOVERY", "MANAGEMENT", "PULL", "PUSH", "REFERENCE", "SPEC"]
