"""Write each inline ``<script>`` into a page once (Sphinx 7 writes some twice).

sphinx-thebe registers ``<script>const THEBE_JS_URL = ...</script>`` with ``app.add_js_file(None, body=...)``
once the HTML builder exists. Sphinx 7 then holds that script twice: once as given (file name ``None``) and once
re-added from its registry in ``prepare_writing`` with the file name ``''``, and the two do not compare equal.
Every page therefore declares the ``const`` twice, and the browser logs "Identifier 'THEBE_JS_URL' has already
been declared" (sphinx-togglebutton's inline ``var`` is doubled the same way, silently). Sphinx 8.2 fixed this
(sphinx-doc/sphinx#13402); Jupyter Book 1 requires Sphinx 7, so we drop the repeats from each page's script list.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def script_key(script) -> tuple:
    """What makes two script entries the same: file (``None`` and ``''`` alike), priority and attributes."""
    if isinstance(script, str):
        return (script, None, ())
    attributes = tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items()))
    return (getattr(script, "filename", None) or "", getattr(script, "priority", None), attributes)


def drop_repeated_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        if (key := script_key(script)) not in seen:
            seen.add(key)
            unique.append(script)
    # In place: the builder restores its own list before each page, and extensions that add a script to one
    # page append to this same list.
    scripts[:] = unique


def setup(app: Sphinx) -> dict:
    # Late, after every extension has added its scripts for the page.
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
