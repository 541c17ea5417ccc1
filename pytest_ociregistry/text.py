"""Settings given as text (the command line, ini files): ``NAME=VALUE`` items and values like ``true``, ``1000``,
``none`` or ``a,b``. The one parser that ``python -m pytest_ociregistry`` and the pytest plugin share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


def assignments(items: Iterable[str], what: str = "an option") -> dict[str, str]:
    """``NAME=VALUE`` items as a dict; later items win. Names are stripped and ``-`` in them becomes ``_``
    (``max-page-size=7`` is ``max_page_size``); values are stripped. Raises ``ValueError`` for an item without
    ``=`` or a name."""
    found: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name:
            raise ValueError(f"{what} is NAME=VALUE, not {item!r}")
        found[name] = value.strip()
    return found


def value_from_string(text: str, hint: Any) -> Any:
    """``text`` as a value of type ``hint`` (``bool``, ``int``, ``float``, ``str``, ``X | None``,
    ``tuple[str, ...]``). ``none`` or nothing is None where the type allows it; any other hint returns the text."""
    lowered = text.strip().lower()
    optional = type(None) in getattr(hint, "__args__", ())
    if optional and lowered in ("", "none"):
        return None
    if optional:
        hint = next(arg for arg in hint.__args__ if arg is not type(None))
    if hint is bool:
        if lowered in TRUE:
            return True
        if lowered in FALSE:
            return False
        raise ValueError(f"not a boolean: {text!r}")
    if hint is int:
        return int(lowered)
    if hint is float:
        return float(lowered)
    if hint == tuple[str, ...]:
        return tuple(part.strip() for part in text.split(",") if part.strip())
    if hint is str:
        return text.strip()
    return text
