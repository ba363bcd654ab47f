"""Every chapter as a notebook that runs as downloaded: `<chapter>.zip` beside the chapter's page.

A chapter is a MyST-markdown notebook that imports support code from `book/lib/`, which the site does not
serve on its own. After an HTML build, this extension writes, for every page that has code cells,
``<chapter>.zip`` holding ``<chapter>/<chapter>.ipynb`` (jupytext's conversion of the source, outputs empty)
and ``<chapter>/lib/`` with exactly the modules the notebook imports. It links the zip from the top of the
chapter and from the theme's download menu. The exercise notebooks keep their own links (``{download}``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import jupytext
import nbformat
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util import logging

from lib_imports import lib_modules, python_source  # book/_ext is on the path (local_extensions in _config.yml)

logger = logging.getLogger(__name__)
SETUP_LABEL = "student-setup"  # the section of the introduction that says how to set up Python
ZIP_DATE = (2026, 1, 1, 0, 0, 0)  # fixed, so that an unchanged chapter gives an identical zip


def chapter_notebook(source: Path) -> nbformat.NotebookNode | None:
    """The chapter at `source` as a notebook, or None when it is a page without code cells."""
    if source.suffix != ".md" or not source.read_text().startswith("---\njupytext:"):
        return None
    notebook = jupytext.read(source)
    if not any(cell.cell_type == "code" for cell in notebook.cells):
        return None
    notebook.metadata.pop("jupytext", None)  # a plain notebook: no pairing with a text file
    return notebook


def support_files(notebook: nbformat.NotebookNode, source: Path) -> list[Path]:
    """The modules of `lib/` (beside the chapter) that the notebook imports, transitively."""
    code = "\n".join(python_source(cell.source) for cell in notebook.cells if cell.cell_type == "code")
    return lib_modules(code, source.parent / "lib")


def write_chapter_zip(target: Path, name: str, notebook: nbformat.NotebookNode, files: list[Path],
                      lib_dir: Path) -> None:
    """Write `target`: ``name/name.ipynb`` and ``name/lib/<module>.py`` for each of `files`."""
    members = {f"{name}/{name}.ipynb": nbformat.writes(notebook).encode()}
    for path in files:
        members[f"{name}/lib/{path.relative_to(lib_dir).as_posix()}"] = path.read_bytes()
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            info = zipfile.ZipInfo(member, date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)


def zip_name(docname: str) -> str:
    return f"{Path(docname).name}.zip"


def add_download_note(app: Sphinx, doctree: nodes.document) -> None:
    """Under a chapter's title: where to get the chapter as a notebook, and how to run it."""
    docname = app.env.docname
    source = Path(app.env.doc2path(docname))
    notebook = chapter_notebook(source)
    if notebook is None:
        return
    for path in support_files(notebook, source):
        app.env.note_dependency(str(path))  # a change to the support code rebuilds the chapter
    sections = list(doctree.findall(nodes.section))
    if not sections:
        return
    name = Path(docname).name
    setup_link = addnodes.pending_xref("", nodes.inline("", "the introduction"), refdomain="std", reftype="ref",
                                       reftarget=SETUP_LABEL, refexplicit=True, refwarn=True, refdoc=docname)
    note = nodes.paragraph(classes=["chapter-download"])
    note += nodes.strong("", "Run this chapter yourself: ")
    note += nodes.reference("", zip_name(docname), refuri=zip_name(docname), classes=["chapter-download-link"])
    note += nodes.Text(" holds the notebook ")
    note += nodes.literal("", f"{name}.ipynb")
    note += nodes.Text(" and the support code it imports. Unzip it, set up Python as in ")
    note += setup_link
    note += nodes.Text(", and open the notebook in JupyterLab.")
    title_index = sections[0].first_child_matching_class(nodes.title)
    sections[0].insert(0 if title_index is None else title_index + 1, note)


def is_download_note(node: nodes.Node) -> bool:
    return isinstance(node, nodes.paragraph) and "chapter-download" in node["classes"]


def add_header_button(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Offer the chapter's zip first in the theme's download menu."""
    if doctree is None or not any(doctree.findall(is_download_note)):
        return
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons":
            button["buttons"].insert(0, {
                "type": "link", "url": zip_name(pagename), "text": ".ipynb (zip)", "icon": "fas fa-code",
                "tooltip": "Download this chapter as a notebook, with its support code",
                "label": "download-notebook-button",
            })


def write_zips(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    count = 0
    for docname in sorted(app.env.found_docs):
        source = Path(app.env.doc2path(docname))
        notebook = chapter_notebook(source)
        if notebook is None:
            continue
        files = support_files(notebook, source)
        write_chapter_zip(Path(app.outdir) / Path(docname).parent / zip_name(docname), Path(docname).name,
                          notebook, files, source.parent / "lib")
        count += 1
    logger.info(f"chapter_downloads: wrote {count} chapter notebooks (.zip)")


def setup(app: Sphinx) -> dict:
    app.connect("doctree-read", add_download_note)
    app.connect("html-page-context", add_header_button, priority=600)  # after sphinx-book-theme's buttons (501)
    app.connect("build-finished", write_zips)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
