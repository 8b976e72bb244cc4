"""Sphinx configuration of dialoggraph's documentation site (``sphinx-build -W -b html docs site``).

Sphinx, not MkDocs: every docstring in the package is reStructuredText (``:math:`` roles,
``.. math::`` blocks, ``:class:`` cross-references) with Google-style ``Args`` / ``Returns`` /
``Shapes`` sections, which autodoc + napoleon render as written, with MathJax; the Markdown pages
are read by MyST. Theme: Furo (maintained, readable, light and dark). MathJax is bundled
(sphinx-mathjax-offline), so the site renders its equations without a network.
"""
import dialoggraph

project = "dialoggraph"
release = version = dialoggraph.__version__
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.mathjax", "sphinx.ext.viewcode",
              "myst_parser", "sphinxarg.ext",
              "sphinx-mathjax-offline"]   # MathJax 3 shipped with the site: equations render offline too
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "site", "img/report/metrics.json"]
html_theme = "furo"
html_title = f"dialoggraph {release}"
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_custom_sections = ["Shapes"]
autodoc_member_order = "bysource"
autodoc_inherit_docstrings = False      # torch's own docstrings point at labels of its docs
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
nitpicky = False
