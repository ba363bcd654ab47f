"""Make a notebook inert before anyone renders it: nothing a submission brought or printed may run in a browser.

The feedback page (nbconvert) and formgrader render a graded notebook as HTML. A
submission controls much of it: its markdown cells, the outputs it carries, and what
its code displays while graded (HTML, JavaScript, SVG, Markdown, widgets). What stays:
plain text, tracebacks (rendered escaped) and raster images. Markdown cells are kept
as text with their raw HTML escaped, so a formula or a table still renders and a
``<script>`` shows as the characters it is.
"""

from __future__ import annotations

import re

import nbformat

SAFE_DATA = ("text/plain", "image/png", "image/jpeg", "image/gif")
# A markdown link or image whose target is a script ([x](javascript:...)), in any case and spacing.
SCRIPT_LINK = re.compile(r"\]\(\s*(?:javascript|vbscript|data)\s*:", re.I)


def inert(notebook, ours: set[str] = frozenset(), keep_outputs: bool = True) -> None:
    """Make ``notebook`` (an nbformat NotebookNode) inert, in place.

    ``ours`` are grade_ids of cells whose source is the released one (read-only cells
    nbgrader restores): those markdown cells keep their HTML. With ``keep_outputs``
    false, every output goes (a submission's saved outputs prove nothing).
    """
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [_inert_output(o) for o in cell.outputs] if keep_outputs else []
            if not keep_outputs:
                cell.execution_count = None
        elif cell.cell_type == "markdown":
            cell.pop("attachments", None)
            if cell.metadata.get("nbgrader", {}).get("grade_id") not in ours:
                cell.source = escape_markdown_html(cell.source)
        else:  # raw cells: nbconvert copies a raw cell marked text/html into the page as it is
            cell.metadata.pop("raw_mimetype", None)
            cell.metadata.pop("format", None)
            cell.source = escape_markdown_html(cell.source)


def escape_markdown_html(source: str) -> str:
    """Markdown with every HTML tag shown as text and no link to a script."""
    source = source.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return SCRIPT_LINK.sub("](#", source)


def _inert_output(output):
    if output.get("output_type") not in ("display_data", "execute_result"):
        return output  # stream and error outputs are text, escaped when rendered
    data = output.get("data", {})
    kept = {mime: value for mime, value in data.items() if mime in SAFE_DATA}
    dropped = sorted(set(data) - set(kept))
    if dropped and "text/plain" not in kept:
        kept["text/plain"] = f"[output of type {', '.join(dropped)} not shown]"
    fresh = nbformat.from_dict(dict(output))
    fresh["data"] = kept
    fresh["metadata"] = {}
    return fresh
