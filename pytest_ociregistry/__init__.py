"""pytest-ociregistry: a real, in-process OCI Distribution registry for tests, in one fixture."""

from .api import RegistryApp
from .auth import Auth, User
from .errors import ErrorCode, RegistryError
from .layout import LayoutError
from .manifest import Descriptor
from .options import Options
from .presets import BASE_PRESETS, DISTRIBUTION, HOSTED_PRESETS, PRESETS, REFERENCE, SPEC
from .registry import OCIRegistry
from .server import RegistryServer
from .store import Blob, Manifest, Snapshot, Store

__version__ = "0.1.0"

__all__ = [
    "BASE_PRESETS",
    "DISTRIBUTION",
    "HOSTED_PRESETS",
    "PRESETS",
    "REFERENCE",
    "SPEC",
    "Auth",
    "Blob",
    "Descriptor",
    "ErrorCode",
    "LayoutError",
    "Manifest",
    "OCIRegistry",
    "Options",
    "RegistryApp",
    "RegistryError",
    "RegistryServer",
    "Snapshot",
    "Store",
    "User",
]
