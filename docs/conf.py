"""Sphinx configuration of the sk_dbn documentation.

Builds offline (no intersphinx, no downloads): ``sphinx-build -W -b html docs
docs/_build/html``. Add ``-D plot_gallery=0`` to render the example gallery
without running the examples.

The pages read offline too: maths is typeset by MathJax 3 from the
``sphinx-mathjax-offline`` package (the ``docs`` extra), which copies it into
the build's ``_static/mathjax`` and points ``mathjax_path`` there instead of a
CDN.
"""

import os
import re
import sys
from pathlib import Path

from numpydoc.xref import DEFAULT_LINKS

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the sk_dbn source next to docs/

os.environ.setdefault("MPLBACKEND", "Agg")

import sk_dbn  # noqa: E402

project = "sk_dbn"
author = "the sk_dbn developers"
copyright = "the sk_dbn developers, BSD-3-Clause"
version = release = sk_dbn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

root_doc = "index"
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip"]
templates_path = []
default_role = "literal"

# -- autodoc / numpydoc ------------------------------------------------------
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"
# signatures show defaults as written (``dtype=np.float64``), not as their repr
# (``dtype=<class 'numpy.float64'>``)
autodoc_preserve_defaults = True
numpydoc_show_class_members = False  # methods are listed by autodoc's :members:
numpydoc_class_members_toctree = False
# Types become cross-references (so names such as ``n_iter_`` in "of shape
# (n_iter_,)" are not read as reST link targets). Without intersphinx, unresolved
# :obj: references render as plain code. numpydoc's default aliases all point
# into the Python and NumPy intersphinx inventories ("int" -> :class:`python:int`,
# "bool" -> :ref:`python:bltin-boolean-values`): unresolved, the roles render
# their target ("python:int") and the labels and terms warn. So every default
# alias is replaced by the plain name, which renders as written ("int").
numpydoc_xref_param_type = True
numpydoc_xref_ignore = {
    "of", "or", "and", "shape", "default", "optional", "instance", "the", "a",
    "an", "to", "in",
}
numpydoc_xref_aliases = {name: name for name in DEFAULT_LINKS} | {
    "boolean": "bool", "string": "str", "array-like": "array-like",
    "array_like": "array-like",
}

# -- sphinx-gallery ------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "doc_module": ("sk_dbn",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"sk_dbn": None},
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "min_reported_time": 1,
}

# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sk_dbn {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False


# numpydoc's type cross-referencing leaves "(n_features_in_,)" as plain text, where
# reST reads ``n_features_in_`` as a link target; escape the underscore there.
_ONE_TUPLE = re.compile(r"\((\w+)_,\)")


def _escape_one_tuples(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        if " : " in line and "of shape" in line:
            lines[i] = _ONE_TUPLE.sub(r"(\1\\_,)", line)


def setup(app):
    app.connect("autodoc-process-docstring", _escape_one_tuples, priority=100)
