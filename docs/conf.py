"""Sphinx configuration: MyST Markdown pages, autodoc for the API, and the project's own directives that generate
the reference tables from the code (``_ext/ociregistry_docs.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))

import pytest_ociregistry

project = "pytest-ociregistry"
author = "the pytest-ociregistry authors"
copyright = "2026, the pytest-ociregistry authors"
release = version = pytest_ociregistry.__version__

extensions = ["myst_parser", "sphinx.ext.autodoc", "ociregistry_docs"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "examples"]
root_doc = "index"

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3  # [text](page.md#a-heading) links are checked like any reference

# Every reference must resolve (-W turns each miss into an error); only names from outside the project, which the
# build cannot link to without the internet (no intersphinx), are let through.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(os|ssl|re|pathlib|http|collections|typing|threading|argparse|datetime|werkzeug|pytest|_pytest)\..*"),
    (r"py:.*", r"(Path|SSLContext|Request|Response|Pattern|HTTPMessage|Any|Callable|Iterator|Mapping|Sequence)"),
    (r"py:class", r"(bytes|str|int|float|bool|None|dict|list|tuple|frozenset|object|type)"),
    # Pieces of generic annotations (``tuple[str, ...]``) that the signature renderer splits; private helpers.
    (r"py:class", r".*\[.*|_thread\..*|pytest_ociregistry\.manifest\.ManifestInfo"),
]

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
add_module_names = False
smartquotes_action = "qe"  # never "--flag" into an en dash

html_theme = "furo"
html_title = f"pytest-ociregistry {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_copy_source = False
