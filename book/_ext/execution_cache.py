"""Re-execute a chapter when the support code it imports changes, not only when its own cells do.

With ``execute_notebooks: cache``, myst-nb reuses a chapter's stored outputs as long as its code cells are
unchanged (jupyter-cache hashes the cells' sources and nothing else). A chapter's outputs also depend on the
modules of `book/lib/` it imports, so after an edit of `lib/patterns.py` the cache would serve outputs that the
new code never produced. This extension keeps, beside the cache, a fingerprint of the support code each chapter
imported when it was last read; before Sphinx reads a chapter whose fingerprint has changed (or is unknown),
it drops that chapter's cached outputs, so myst-nb executes it again. (`chapter_downloads` notes the same
modules as the chapter's dependencies, which is what makes Sphinx read the chapter again after such an edit.)
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

from chapter_downloads import chapter_notebook, support_files

logger = logging.getLogger(__name__)
FINGERPRINTS = "lib_fingerprints.json"


def fingerprint(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def forget_stale_outputs(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    config = getattr(env, "mystnb_config", None)
    if config is None or config.execution_mode != "cache":
        return
    from jupyter_cache import get_cache

    cache = get_cache(config.execution_cache_path)
    store = Path(config.execution_cache_path) / FINGERPRINTS
    known = json.loads(store.read_text()) if store.is_file() else {}
    records = None
    for docname in docnames:
        source = Path(env.doc2path(docname))
        notebook = chapter_notebook(source)
        if notebook is None:
            continue
        uri, now = str(source), fingerprint(support_files(notebook, source))
        if known.get(uri) == now:
            continue
        records = cache.list_cache_records() if records is None else records
        for record in [r for r in records if r.uri == uri]:
            cache.remove_cache(record.pk)
            logger.info(f"execution_cache: {docname} imports changed support code; its outputs will be recomputed")
        known[uri] = now
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text(json.dumps(known, indent=1, sort_keys=True))


def setup(app: Sphinx) -> dict:
    app.setup_extension("chapter_downloads")
    app.connect("env-before-read-docs", forget_stale_outputs)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
